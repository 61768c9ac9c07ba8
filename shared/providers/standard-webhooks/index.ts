import type { Outcome } from '../../contract/eventContract.ts';
import { isLosslessNumber } from '../../core/losslessJson.ts';
import type { Headers, ProviderModule } from '../../core/providerModule.ts';
import { isReadableTimestamp } from '../../core/timestamps.ts';
import { type StandardWebhooksEvent, StandardWebhooksEventSchema } from './schemas.ts';
import { ID_HEADER, verify } from './verify.ts';

export interface StandardWebhooksOptions {
  /** Outcome per event type, e.g. `{ "invoice.paid": "succeeded" }`; every other type is `info`. */
  outcomes?: Readonly<Record<string, Outcome>>;
}

/**
 * The spec's example schedule retries for 75.5 hours (Svix's is the same); four days leaves a margin.
 */
const RETRY_SPAN_SECONDS = 4 * 24 * 60 * 60;

/** `webhook-id`: verify has already required it; a caller without the signed headers (re-ingest) must pass them. */
function messageId(headers: Headers): string {
  const id = headers[ID_HEADER];
  if (!id) throw new Error(`a Standard Webhooks event needs the ${ID_HEADER} header for its dedupe key`);
  return id;
}

/** An entity id: a non-empty string or a number's exact digits. */
function idText(value: unknown): string | undefined {
  if (isLosslessNumber(value)) return value.value;
  return typeof value === 'string' && value !== '' && value.length <= 200 ? value : undefined;
}

/**
 * `data.id` names the entity where the payload has one (`contact.created` → `contact/<data.id>`: the
 * type without its last segment); otherwise the message stands for itself.
 */
function subjectOf(event: StandardWebhooksEvent, headers: Headers): string {
  const data = event.data;
  const id = data && typeof data === 'object' ? idText((data as Record<string, unknown>).id) : undefined;
  if (id === undefined) return `event/${encodeURIComponent(messageId(headers))}`;
  const entity = event.type.includes('.') ? event.type.slice(0, event.type.lastIndexOf('.')) : event.type;
  return `${entity}/${encodeURIComponent(id)}`;
}

/**
 * A Standard Webhooks sender under the route `name`. One sender per route: each gets its own keys (so
 * one sender can never sign as another), its own dedupe namespace (message ids are unique per sender,
 * not across senders), its own dashboard row and `source`.
 *
 * @example
 * standardWebhooksSource('billing', { outcomes: { 'invoice.paid': 'succeeded', 'invoice.payment_failed': 'failed' } })
 */
export function standardWebhooksSource(
  name: string,
  options: StandardWebhooksOptions = {},
): ProviderModule<StandardWebhooksEvent> {
  const outcomes = options.outcomes ?? {};
  return {
    name,
    verify,
    schema: StandardWebhooksEventSchema,
    dedupeKey: (_event, headers) => messageId(headers),
    normalize(event, { headers }) {
      return {
        eventType: event.type,
        subject: subjectOf(event, headers),
        ...(isReadableTimestamp(event.timestamp) ? { time: event.timestamp } : {}),
        outcome: Object.hasOwn(outcomes, event.type) ? (outcomes[event.type] as Outcome) : 'info',
        amounts: [],
      };
    },
    retrySpanSeconds: RETRY_SPAN_SECONDS,
  };
}

/** The route `standard-webhooks`: one Standard Webhooks sender, every event type `info`. */
export const standardWebhooks = standardWebhooksSource('standard-webhooks');
