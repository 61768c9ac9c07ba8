import type { Outcome } from '../../contract/eventContract.ts';
import { amount } from '../../core/amounts.ts';
import type { ProviderModule } from '../../core/providerModule.ts';
import { utcTimestamp } from '../../core/timestamps.ts';
import { type CoinmeEvent, CoinmeEventSchema, isEpochSeconds } from './schemas.ts';
import { verify } from './verify.ts';

/** Statuses Coinme documents (order templates: CONSUMED, EXPIRED; orders: COMPLETED, FAILED). */
const STATUS_OUTCOMES: Readonly<Record<string, Outcome>> = {
  CONSUMED: 'succeeded',
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  // The barcode lapsed unpaid: no money moved, but the user's purchase did not happen.
  EXPIRED: 'failed',
};

/**
 * Coinme publishes no retry schedule. Three days is the longest schedule common among payment providers
 * (Stripe's, for one), so a retry inside any of them still finds the first delivery.
 */
const RETRY_SPAN_SECONDS = 3 * 24 * 60 * 60;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

/**
 * `errorData` decides first: their "Buy Order Failed" sample reports `orderStatus: "COMPLETED"` with an
 * error. A status we do not know asks an operator rather than guessing success or failure.
 */
function outcomeOf(event: CoinmeEvent): Outcome {
  const data = record(event.data);
  if (data.errorData !== undefined && data.errorData !== null) return 'failed';
  if (event.type === 'REFUND') return 'action_required';
  const status = text(data.orderTemplateStatus) ?? text(record(data.metadata).orderStatus);
  if (status === undefined) return 'info';
  return STATUS_OUTCOMES[status.toUpperCase()] ?? 'action_required';
}

/** The order template or transaction the event is about; an event with neither stands for itself. */
function subjectOf(event: CoinmeEvent): string {
  const data = record(event.data);
  const template = text(data.orderTemplateId);
  const transaction = text(data.transactionId);
  if (template && (event.type === 'ORDER_TEMPLATE' || !transaction)) return `order-template/${template}`;
  return transaction ? `transaction/${transaction}` : `event/${event.id}`;
}

/** `at` as RFC 3339 in UTC, from an ISO string or epoch seconds. */
function timeOf(at: CoinmeEvent['at']): string {
  if (!isEpochSeconds(at)) return utcTimestamp(at as string);
  return new Date(Math.round(Number(String(at)) * 1000)).toISOString();
}

export const coinme: ProviderModule<CoinmeEvent> = {
  name: 'coinme',
  verify,
  schema: CoinmeEventSchema,
  dedupeKey: (event) => event.id,
  normalize(event) {
    const input = record(record(event.data).userInputAmount);
    const userInput = amount(input.amount, input.currency);
    return {
      eventType: event.type === 'CAAS' ? `CAAS.${event.data.type}` : event.type,
      subject: subjectOf(event),
      time: timeOf(event.at),
      outcome: outcomeOf(event),
      amounts: userInput ? [{ role: 'userInputAmount', ...userInput }] : [],
    };
  },
  retrySpanSeconds: RETRY_SPAN_SECONDS,
};
