import type { ContractAmount, Outcome } from '../../contract/eventContract.ts';
import { amountFromMinor, decimalText } from '../../core/amounts.ts';
import { payloadHash } from '../../core/payloadHash.ts';
import type { Headers, NormalizedParts, ProviderModule } from '../../core/providerModule.ts';
import { isReadableTimestamp } from '../../core/timestamps.ts';
import {
  type GnosisPayData,
  type GnosisPayEvent,
  GnosisPayEventSchema,
  type GnosisPayEventType,
  type GnosisPayEventV1,
  type KYC_STATUSES,
  type PAYMENT_STATUSES,
} from './schemas.ts';
import { TIMESTAMP_HEADER, verify } from './verify.ts';

/**
 * How one event type is keyed and normalized. The README's table is this table in prose.
 * `identity: 'own'`: the payload identifies its occurrence (an id or time unique to it), so identical
 * content can only be a retry. `'timeless'`: identical content can be a genuine new event (A → B → A).
 */
interface EventRule<Data> {
  identity: 'own' | 'timeless';
  subject(data: Data): string;
  outcome(data: Data): Outcome;
  /** The event's own time, where the payload has one. */
  time?(data: Data): string | undefined;
  amounts?(data: Data): ContractAmount[];
}

type Rules = { [T in GnosisPayEventType]: EventRule<GnosisPayData<T>> };
type CardTransactionData = GnosisPayData<'card.transaction.created'>;
type CardTransaction = CardTransactionData['event'];
type Currency = CardTransaction['billingCurrency'];

const segment = (id: string) => encodeURIComponent(id);
/** Ethereum addresses arrive in checksum case or lower case; one Safe must group as one subject. */
const address = (value: string) => segment(value.toLowerCase());
const userSubject = (data: { id: string }) => `user/${segment(data.id)}`;
const cardSubject = (data: { cardToken: string }) => `card/${segment(data.cardToken)}`;
const safeSubject = (safe: string) => `safe/${address(safe)}`;
const always = (outcome: Outcome) => () => outcome;

const KYC_OUTCOMES: Record<(typeof KYC_STATUSES)[number], Outcome> = {
  notStarted: 'info',
  documentsRequested: 'pending',
  pending: 'pending',
  processing: 'pending',
  resubmissionRequested: 'pending',
  approved: 'succeeded',
  rejected: 'action_required',
  requiresAction: 'action_required',
};

/** Authorization responses that mean the card payment was refused. */
const DECLINED_PAYMENT: ReadonlySet<(typeof PAYMENT_STATUSES)[number]> = new Set([
  'IncorrectPin',
  'InsufficientFunds',
  'ExceedsApprovalAmountLimit',
  'InvalidAmount',
  'PinEntryTriesExceeded',
  'IncorrectSecurityCode',
  'Other',
]);

function cardTransactionRule(
  settled: Outcome,
  timeField: 'createdAt' | 'clearedAt' | undefined,
): EventRule<CardTransactionData> {
  return {
    identity: 'own',
    subject: (data) => `card-transaction/${segment(data.event.threadId)}`,
    outcome: ({ event }) =>
      event.kind === 'Payment' && DECLINED_PAYMENT.has(event.status) ? 'failed' : settled,
    time: timeField && (({ event }) => event[timeField]),
    amounts: ({ event }) => [
      ...cardAmount('billingAmount', event.billingAmount, event.billingCurrency),
      ...cardAmount('transactionAmount', event.transactionAmount, event.transactionCurrency),
      ...(event.kind === 'Refund'
        ? cardAmount('refundAmount', event.refundAmount, event.refundCurrency)
        : []),
      ...(event.kind === 'Reversal'
        ? cardAmount('reversalAmount', event.reversalAmount, event.reversalCurrency)
        : []),
    ],
  };
}

/** Card amounts are minor units with the exponent on the currency; the code is ISO 4217 numeric ("840" → USD). */
function cardAmount(role: string, value: string, currency: Currency): ContractAmount[] {
  const found = amountFromMinor(value, currency.code, Number(currency.decimals.value));
  return found ? [{ role, ...found }] : [];
}

function weiAmount(role: string, value: unknown): ContractAmount[] {
  const decimal = decimalText(value);
  return decimal === undefined ? [] : [{ role, value: decimal, currency: 'wei' }];
}

const EVENT_RULES: Rules = {
  'kyc.phone-validation.changed': {
    identity: 'timeless',
    subject: userSubject,
    outcome: (user) => (user.isPhoneValidated ? 'succeeded' : 'pending'),
  },
  'kyc.source-of-funds.changed': {
    identity: 'timeless',
    subject: userSubject,
    outcome: (user) => (user.isSourceOfFundsAnswered ? 'succeeded' : 'pending'),
  },
  'kyc.status.changed': {
    identity: 'timeless',
    subject: userSubject,
    outcome: (user) => KYC_OUTCOMES[user.kycStatus],
  },
  'user.created': { identity: 'own', subject: userSubject, outcome: always('info') },
  'user.tos.accepted': { identity: 'timeless', subject: userSubject, outcome: always('info') },

  'card.status.changed': { identity: 'timeless', subject: cardSubject, outcome: always('info') },
  'card.transaction.created': cardTransactionRule('pending', 'createdAt'),
  'card.transaction.declined': cardTransactionRule('failed', 'createdAt'),
  'card.transaction.cleared': cardTransactionRule('succeeded', 'clearedAt'),
  'card.transaction.refunded': cardTransactionRule('succeeded', 'clearedAt'),
  'card.transaction.reversed': cardTransactionRule('succeeded', 'clearedAt'),
  'card.transaction.confirmed': cardTransactionRule('succeeded', undefined),
  'card.transaction.failed': cardTransactionRule('failed', undefined),
  'physical.card.activated': { identity: 'timeless', subject: cardSubject, outcome: always('succeeded') },
  'physical.card.pin.changed': { identity: 'timeless', subject: cardSubject, outcome: always('info') },
  'virtual.card.issued': { identity: 'own', subject: cardSubject, outcome: always('succeeded') },
  'physical.card.ordered': {
    identity: 'own',
    subject: (order) => `card-order/${segment(order.id)}`,
    outcome: always('pending'),
  },
  'physical.card.order.status.changed': {
    identity: 'timeless',
    subject: (order) => `card-order/${segment(order.cardOrderId)}`,
    outcome: always('info'),
  },

  'account.balance.changed': {
    identity: 'timeless',
    subject: (balance) => `account/${segment(balance.userId)}/balance`,
    outcome: always('info'),
    amounts: (balance) => [
      ...weiAmount('total', balance.total),
      ...weiAmount('spendable', balance.spendable),
      ...weiAmount('pending', balance.pending),
    ],
  },
  'account.limit.changed': {
    identity: 'timeless',
    subject: (limit) => `account/${segment(limit.userId)}/limit`,
    outcome: always('info'),
  },
  'account.withdrawal.completed': {
    identity: 'own',
    subject: (withdrawal) => `withdrawal/${segment(withdrawal.id)}`,
    outcome: ({ status }) =>
      status === 'EXECUTED' ? 'succeeded' : status === 'FAILED' ? 'failed' : 'pending',
  },
  'account.withdrawal.failed': {
    identity: 'timeless',
    subject: (failure) => `account/${segment(failure.userId)}/withdrawal`,
    outcome: always('failed'),
  },

  'iban.created': {
    identity: 'own',
    subject: (iban) => `user/${segment(iban.userId)}/iban`,
    outcome: always('succeeded'),
  },
  'iban.status.changed': {
    identity: 'timeless',
    subject: (iban) => `user/${segment(iban.userId)}/iban`,
    outcome: ({ currentStatus }) =>
      currentStatus === 'ASSIGNED' ? 'succeeded' : currentStatus === 'NOTSTARTED' ? 'info' : 'pending',
  },

  'safe.created': {
    identity: 'own',
    subject: (safe) => safeSubject(safe.address),
    outcome: always('succeeded'),
    time: (safe) => safe.createdAt,
  },
  // `createdAt` here is the Safe's creation time, not the update's: identical content can recur.
  'safe.currency.updated': {
    identity: 'timeless',
    subject: (safe) => safeSubject(safe.address),
    outcome: always('info'),
  },
  'safe.modules.deployed': {
    identity: 'timeless',
    subject: (safe) => safeSubject(safe.address),
    outcome: always('succeeded'),
  },
  'safe.owner.added': {
    identity: 'timeless',
    subject: (owner) => safeSubject(owner.safeAddress),
    outcome: always('info'),
  },
  'safe.owner.removed': {
    identity: 'timeless',
    subject: (owner) => safeSubject(owner.safeAddress),
    outcome: always('info'),
  },
};

function isEnvelopeV1(event: GnosisPayEvent): event is GnosisPayEventV1 {
  return 'eventType' in event;
}

/** The parts both envelopes share, with the rule for the event's type. */
function unwrap(event: GnosisPayEvent) {
  const { type, id, createdAt } = isEnvelopeV1(event)
    ? { type: event.eventType, id: undefined, createdAt: undefined }
    : { type: event.type, id: event.id, createdAt: event.createdAt };
  // The schema pairs each type with its own data schema, so this type's rule fits this data.
  const rule = EVENT_RULES[type] as unknown as EventRule<GnosisPayData>;
  return { type, id, createdAt, data: event.data, rule };
}

/**
 * v2 envelopes carry an event id: it is the key. v1 has none, and no delivery id header: the key is the
 * event type and a hash of `data`, plus, for timeless payloads, the signed `x-webhook-timestamp`
 * (see README, "Dedupe").
 */
export function dedupeKey(event: GnosisPayEvent, headers: Headers): string {
  const { type, id, data, rule } = unwrap(event);
  if (id !== undefined) return id;
  const key = `${type}:${payloadHash(data)}`;
  if (rule.identity === 'own') return key;
  const timestamp = headers[TIMESTAMP_HEADER];
  // verify() has already required it; a caller without the signed headers (re-ingest) must pass them on.
  if (!timestamp) throw new Error(`${type} needs the ${TIMESTAMP_HEADER} header for its dedupe key`);
  return `${key}:${timestamp}`;
}

export function normalize(event: GnosisPayEvent): NormalizedParts {
  const { type, createdAt, data, rule } = unwrap(event);
  const time = [createdAt, rule.time?.(data)].find(isReadableTimestamp);
  return {
    eventType: type,
    subject: rule.subject(data),
    ...(time === undefined ? {} : { time }),
    outcome: rule.outcome(data),
    amounts: rule.amounts?.(data) ?? [],
  };
}

/**
 * Gnosis Pay retries a delivery not answered 2xx at 1, 5 and 15 minutes, each attempt allowed 30 s:
 * about 23 minutes in all. One hour leaves a margin; revisit when the v2 schedule (5 retries) is published.
 */
const RETRY_SPAN_SECONDS = 60 * 60;

export const gnosisPay: ProviderModule<GnosisPayEvent> = {
  name: 'gnosis-pay',
  verify,
  schema: GnosisPayEventSchema,
  dedupeKey,
  normalize,
  retrySpanSeconds: RETRY_SPAN_SECONDS,
};
