import type { Outcome } from '../../contract/eventContract.ts';
import { amountFromMinor } from '../../core/amounts.ts';
import { isLosslessNumber } from '../../core/losslessJson.ts';
import type { ProviderModule } from '../../core/providerModule.ts';
import { type OpenPolyEvent, OpenPolyEventSchema, type OpenPolyEventType } from './schemas.ts';
import { EVENT_ID_HEADER, verify } from './verify.ts';

/** What each event means for the business flow (see README.md for the reasoning). */
const OUTCOMES: Record<OpenPolyEventType, Outcome> = {
  'mini_app.login.succeeded': 'info',
  'mini_app.trade.submitted': 'pending',
  'mini_app.trade.processed': 'succeeded',
  'mini_app.trade.failed': 'failed',
  'mini_app.trade.compensation_required': 'action_required',
  'mini_app.redemption.processed': 'succeeded',
  'mini_app.redemption.failed': 'failed',
  'mini_app.payout.pending': 'action_required',
  'mini_app.logout.requested': 'info',
  'mini_app.session.expired': 'info',
};

/**
 * OpenPoly retries each delivery up to `max_attempts` (their example: 6, 5 s timeout) at a spacing they
 * do not publish. Three days covers exponential schedules of that length with a wide margin; dashboard
 * replays from their dead letter come later still and are covered by the store's retention instead.
 */
const RETRY_SPAN_SECONDS = 3 * 24 * 60 * 60;

/** A JSON id as text: a number's exact digits or a non-empty string. */
function idText(value: unknown): string | undefined {
  if (isLosslessNumber(value)) return value.value;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The order where the event has one, else the user; an event with neither stands for itself. */
function subjectOf(event: OpenPolyEvent): string {
  const data: Record<string, unknown> = event.data;
  const orderId = idText(data.order_id);
  if (orderId) return `order/${orderId}`;
  const userId = idText(data.external_user_id) ?? idText(data.operator_user_id);
  return userId ? `user/${userId}` : `event/${event.event_id}`;
}

/** Ids only, quoted and cut short: the header is not signed, so its value is whoever sent it. */
function quoteId(id: string): string {
  return JSON.stringify(id.slice(0, 100));
}

export const openpoly: ProviderModule<OpenPolyEvent> = {
  name: 'openpoly',
  verify,
  schema: OpenPolyEventSchema,
  checkHeaders(event, headers) {
    const headerId = headers[EVENT_ID_HEADER];
    if (headerId === event.event_id) return undefined;
    return headerId === undefined
      ? `EVENT_ID_MISMATCH: ${EVENT_ID_HEADER} header missing, body event_id ${quoteId(event.event_id)}`
      : `EVENT_ID_MISMATCH: body event_id ${quoteId(event.event_id)} differs from ${EVENT_ID_HEADER} header ${quoteId(headerId)}`;
  },
  dedupeKey: (event) => event.event_id,
  normalize(event) {
    const data: Record<string, unknown> = event.data;
    // `credits_delta` counts OpenPoly credits, not money in a currency: it stays in data only.
    const external = amountFromMinor(data.external_amount_minor, data.currency_code);
    return {
      eventType: event.event_type,
      subject: subjectOf(event),
      outcome: OUTCOMES[event.event_type],
      amounts: external ? [{ role: 'external_amount', ...external }] : [],
    };
  },
  retrySpanSeconds: RETRY_SPAN_SECONDS,
};
