import type { ContractAmount, Outcome } from '../../contract/eventContract.ts';
import { type Amount, amount } from '../../core/amounts.ts';
import type { ProviderModule } from '../../core/providerModule.ts';
import { utcTimestamp } from '../../core/timestamps.ts';
import { type AparaEvent, AparaEventSchema, type AparaOrderEvent, type AparaOrderStatus } from './schemas.ts';
import { verify } from './verify.ts';

/** What each order status means for the business flow (see README.md). */
const ORDER_OUTCOMES: Record<AparaOrderStatus, Outcome> = {
  initiated: 'pending',
  fund_settled: 'pending',
  fund_failed: 'failed',
  asset_deposited: 'pending',
  completed: 'succeeded',
  expired: 'failed',
  manual_review: 'action_required',
};

/**
 * APARA retries 8 times, 15 minutes apart, for up to 2 hours. A day leaves a twelvefold margin for
 * delays on their side (queue backlogs, an outage during the retry run).
 */
const RETRY_SPAN_SECONDS = 24 * 60 * 60;

/** The variant chose the order schema exactly when `entityType` is "order"; its types cannot say so. */
function isOrderEvent(event: AparaEvent): event is AparaOrderEvent {
  return event.entityType === 'order';
}

function addAmount(amounts: ContractAmount[], role: string, found: Amount | undefined): void {
  if (found) amounts.push({ role, value: found.value, currency: found.currency });
}

export const apara: ProviderModule<AparaEvent> = {
  name: 'apara',
  verify,
  schema: AparaEventSchema,
  dedupeKey: (event) => event.eventId,
  normalize(event) {
    const eventType = `${event.entityType}.${event.status}`;
    const subject = `${event.entityType}/${event.entityId}`;
    const time = utcTimestamp(event.createdAt);
    // Events of entities other than orders carry no published status meaning and no amounts.
    if (!isOrderEvent(event)) return { eventType, subject, time, outcome: 'info', amounts: [] };
    const { order } = event;
    // Amounts as APARA states them, zeros included (an `initiated` order has no amounts yet).
    const amounts: ContractAmount[] = [];
    addAmount(amounts, 'depositAmount', amount(order.depositAmount, order.depositCurrency));
    addAmount(amounts, 'withdrawAmount', amount(order.withdrawAmount, order.withdrawCurrency));
    return { eventType, subject, time, outcome: ORDER_OUTCOMES[event.status], amounts };
  },
  retrySpanSeconds: RETRY_SPAN_SECONDS,
};
