import * as v from 'valibot';
import { isLosslessNumber, JsonNumberSchema, type LosslessNumber } from '../../core/losslessJson.ts';

/*
 * Gnosis Pay webhook events, as published in their event reference (29 event types).
 * Loose objects throughout: fields Gnosis Pay adds are accepted and kept. Fields the reference shows as
 * always present are required; `null` and `?` are accepted only where the reference shows them.
 */

const text = (description: string) => v.pipe(v.string(), v.description(description));
const flag = (description: string) => v.pipe(v.boolean(), v.description(description));

// ── Shared parts ──────────────────────────────────────────────────────────────────────────────────

export const KYC_STATUSES = [
  'notStarted',
  'documentsRequested',
  'pending',
  'processing',
  'approved',
  'resubmissionRequested',
  'rejected',
  'requiresAction',
] as const;

/** The user snapshot carried by every `kyc.*` and `user.*` event. */
export const UserSchema = v.looseObject({
  id: text('Unique user identifier.'),
  email: text('User email address.'),
  phone: text('User phone number.'),
  firstName: text('User first name.'),
  lastName: text('User last name.'),
  address1: text('Primary address line.'),
  address2: text('Secondary address line.'),
  city: text('City.'),
  postalCode: text('Postal/ZIP code.'),
  state: text('State/Province.'),
  country: text('Country.'),
  nationalityCountry: text('Nationality country.'),
  signInWallets: v.pipe(
    v.array(v.looseObject({ address: text('Wallet address.') })),
    v.description("The user's sign-in wallet addresses."),
  ),
  safeWallets: v.pipe(
    v.array(v.looseObject({ address: text('Safe wallet address.'), chainId: text('Blockchain chain ID.') })),
    v.description("The user's Safe wallet addresses."),
  ),
  kycStatus: v.pipe(v.picklist(KYC_STATUSES), v.description('KYC verification status.')),
  availableFeatures: v.pipe(
    v.looseObject({ moneriumIban: flag('Whether a Monerium IBAN is available.') }),
    v.description('Features available to the user.'),
  ),
  cards: v.pipe(
    v.array(
      v.looseObject({
        id: text('Card ID.'),
        cardToken: text('Card token.'),
        lastFourDigits: text('Last four digits of the card.'),
        embossedName: text('Name embossed on the card.'),
        activatedAt: text('Card activation timestamp.'),
        virtual: flag('Whether the card is virtual.'),
      }),
    ),
    v.description("The user's cards."),
  ),
  bankingDetails: v.pipe(
    v.looseObject({
      moneriumIban: text('Monerium IBAN.'),
      moneriumBic: text('Monerium BIC.'),
      moneriumIbanStatus: text('Monerium IBAN status.'),
      address: text('Banking address.'),
    }),
    v.description("The user's banking details."),
  ),
  isSourceOfFundsAnswered: flag('Whether the source-of-funds question was answered.'),
  isPhoneValidated: flag('Whether the phone number is validated.'),
});

const CountrySchema = v.pipe(
  v.looseObject({
    name: text('Country name.'),
    numeric: text('ISO 3166-1 numeric code.'),
    alpha2: text('ISO 3166-1 alpha-2 code.'),
    alpha3: text('ISO 3166-1 alpha-3 code.'),
  }),
  v.description('A country.'),
);

/** An amount in minor units of its currency (`"5000"` with 2 decimals is 50.00): digits only, so it can be read exactly. */
const MinorUnitsSchema = (description: string) =>
  v.pipe(v.string(), v.regex(/^-?\d{1,40}$/), v.description(description));

const CurrencySchema = (description: string) =>
  v.pipe(
    v.looseObject({
      symbol: text('Currency symbol, e.g. "$".'),
      code: v.pipe(v.string(), v.minLength(1), v.description('ISO 4217 numeric code, e.g. "840" for USD.')),
      decimals: v.pipe(
        v.custom<LosslessNumber>(
          (n) => isLosslessNumber(n) && /^\d{1,2}$/.test(n.value),
          'expected a whole number of decimal places',
        ),
        v.description('Decimal places of the currency: the exponent of its minor unit.'),
      ),
      name: text('Currency name.'),
    }),
    v.description(description),
  );

export const PAYMENT_STATUSES = [
  'Approved',
  'IncorrectPin',
  'InsufficientFunds',
  'ExceedsApprovalAmountLimit',
  'InvalidAmount',
  'PinEntryTriesExceeded',
  'IncorrectSecurityCode',
  'Reversal',
  'PartialReversal',
  'Other',
] as const;

export const ONCHAIN_STATUSES = ['Unsubmitted', 'Unconfirmed', 'ExecReverted', 'ExecSuccess'] as const;

/** Fields every card transaction kind carries. */
const cardTransactionEntries = {
  threadId: text(
    'Identifier of the card transaction thread (authorization, clearing, refunds and reversals).',
  ),
  createdAt: text('When the transaction was created.'),
  clearedAt: text('When the transaction was cleared.'),
  isPending: flag('Whether the transaction is still pending.'),
  country: CountrySchema,
  mcc: text('Merchant category code.'),
  merchant: v.pipe(
    v.looseObject({
      name: text('Merchant name.'),
      city: text('Merchant city.'),
      country: v.optional(CountrySchema),
    }),
    v.description('The merchant.'),
  ),
  billingAmount: MinorUnitsSchema('Amount billed to the card holder, in minor units of billingCurrency.'),
  billingCurrency: CurrencySchema('Currency of billingAmount.'),
  transactionAmount: MinorUnitsSchema(
    'Amount in the merchant currency, in minor units of transactionCurrency.',
  ),
  transactionCurrency: CurrencySchema('Currency of transactionAmount.'),
  transactionType: text('Transaction type, e.g. "purchase".'),
  cardToken: text('Token of the card used.'),
  impactsCashback: v.pipe(
    v.nullable(v.boolean()),
    v.description('Whether the transaction counts for cashback.'),
  ),
  transactions: v.pipe(
    v.array(
      v.looseObject({
        status: v.pipe(v.picklist(ONCHAIN_STATUSES), v.description('Status of the on-chain transaction.')),
        to: text('Recipient address.'),
        value: text('Value in wei, as a decimal string.'),
        data: text('Call data.'),
        hash: v.pipe(v.nullable(v.string()), v.description('Transaction hash, once submitted.')),
      }),
    ),
    v.description('The on-chain transactions that settle the card transaction.'),
  ),
};

export const CardPaymentSchema = v.looseObject({
  ...cardTransactionEntries,
  kind: v.pipe(v.literal('Payment'), v.description('A card payment.')),
  status: v.pipe(v.picklist(PAYMENT_STATUSES), v.description('Authorization response.')),
});

export const CardRefundSchema = v.looseObject({
  ...cardTransactionEntries,
  kind: v.pipe(v.literal('Refund'), v.description('A refund to the card.')),
  refundAmount: MinorUnitsSchema('Amount refunded, in minor units of refundCurrency.'),
  refundCurrency: CurrencySchema('Currency of refundAmount.'),
});

export const CardReversalSchema = v.looseObject({
  ...cardTransactionEntries,
  kind: v.pipe(v.literal('Reversal'), v.description('A reversal of an authorization.')),
  reversalAmount: MinorUnitsSchema('Amount reversed, in minor units of reversalCurrency.'),
  reversalCurrency: CurrencySchema('Currency of reversalAmount.'),
});

export const CardTransactionSchema = v.variant('kind', [
  CardPaymentSchema,
  CardRefundSchema,
  CardReversalSchema,
]);

/** The payload of every `card.transaction.*` event. */
export const CardTransactionDataSchema = v.looseObject({
  userId: text('User ID.'),
  event: v.pipe(
    CardTransactionSchema,
    v.description('The card transaction: a Payment, a Refund or a Reversal.'),
  ),
});

/** Payload of the card events that carry only the user and the card. */
export const CardRefSchema = v.looseObject({
  userId: text('User ID.'),
  cardToken: text('Unique card token identifier.'),
});

export const CardStatusChangedSchema = v.looseObject({
  userId: text('User ID.'),
  cardToken: text('Card token.'),
  oldStatus: text('Previous card status.'),
  newStatus: text('New card status.'),
});

export const CardOrderStatusChangedSchema = v.looseObject({
  userId: text('User ID.'),
  cardToken: text('Card token.'),
  cardOrderId: text('Card order ID.'),
  oldStatus: text('Previous order status.'),
  newStatus: text('New order status.'),
});

export const CardOrderedSchema = v.looseObject({
  userId: text('User ID.'),
  cardToken: text('Card token.'),
  id: text('Card order ID.'),
  status: text('Order status.'),
  embossedName: text('Name to emboss on the card.'),
  address1: text('Primary address line.'),
  address2: text('Secondary address line.'),
  city: text('City.'),
  postalCode: text('Postal code.'),
  state: text('State.'),
  country: text('Country.'),
  phone: text('Phone number.'),
});

const WeiSchema = (description: string) => v.pipe(JsonNumberSchema, v.description(description));

export const BalanceChangedSchema = v.looseObject({
  userId: text('User ID.'),
  total: WeiSchema('Total balance in wei (exceeds 2^53: kept as its digits).'),
  spendable: WeiSchema('Spendable balance in wei.'),
  pending: WeiSchema('Pending balance in wei.'),
});

export const LimitChangedSchema = v.looseObject({
  userId: text('User ID.'),
  oldLimit: v.pipe(JsonNumberSchema, v.description('Previous account limit.')),
  newLimit: v.pipe(JsonNumberSchema, v.description('New account limit.')),
});

export const WITHDRAWAL_STATUSES = ['QUEUING', 'WAITING', 'EXECUTING', 'EXECUTED', 'FAILED'] as const;

export const WithdrawalCompletedSchema = v.looseObject({
  id: text('Transaction ID of the withdrawal (delay transaction).'),
  safeAddress: text('Safe address.'),
  transactionData: text('Transaction data.'),
  enqueueTaskId: text('Enqueue task ID.'),
  dispatchTaskId: text('Dispatch task ID.'),
  readyAt: text('When the delayed transaction became ready.'),
  operationType: v.pipe(
    v.picklist(['CALL', 'DELEGATECALL']),
    v.description('Operation type of the delay transaction.'),
  ),
  userId: text('User ID.'),
  status: v.pipe(v.picklist(WITHDRAWAL_STATUSES), v.description('Delay transaction status.')),
  createdAt: text('When the withdrawal was created.'),
});

export const WithdrawalFailedSchema = v.looseObject({
  userId: text('User ID.'),
  error: text('Error message.'),
});

export const IbanCreatedSchema = v.looseObject({
  userId: text('User ID.'),
  iban: text('International Bank Account Number.'),
  bic: text('Bank Identifier Code.'),
});

export const IBAN_STATUSES = ['NOTSTARTED', 'PENDING', 'PENDING_OAUTH', 'ASSIGNED'] as const;

export const IbanStatusChangedSchema = v.looseObject({
  userId: text('User ID.'),
  previousStatus: v.pipe(v.picklist(IBAN_STATUSES), v.description('Previous IBAN status.')),
  currentStatus: v.pipe(v.picklist(IBAN_STATUSES), v.description('Current IBAN status.')),
});

/** The Safe account snapshot of `safe.created`, `safe.currency.updated` and `safe.modules.deployed`. */
export const SafeSchema = v.looseObject({
  id: text('Safe account ID.'),
  address: text('Safe account address.'),
  salt: text('Account salt.'),
  chainId: text('Blockchain chain ID.'),
  userId: text('User ID.'),
  tokenSymbol: v.pipe(v.picklist(['GBPe', 'EURe', 'USDCe']), v.description('Token symbol of the Safe.')),
  createdAt: text('When the Safe account was created (not when a later change happened).'),
});

export const SafeOwnerAddedSchema = v.looseObject({
  userId: text('User ID.'),
  owner: text('Current owner address.'),
  safeAddress: text('Safe address.'),
  addedOwner: text('Newly added owner address.'),
});

export const SafeOwnerRemovedSchema = v.looseObject({
  userId: text('User ID.'),
  safeAddress: text('Safe address.'),
  removedOwner: text('Removed owner address.'),
});

// ── Event types ───────────────────────────────────────────────────────────────────────────────────

/** Each documented event type with the schema of its `data`: the single list both envelopes are built from. */
export const GnosisPayDataSchemas = {
  'kyc.phone-validation.changed': UserSchema,
  'kyc.source-of-funds.changed': UserSchema,
  'kyc.status.changed': UserSchema,
  'user.created': UserSchema,
  'user.tos.accepted': UserSchema,
  'card.status.changed': CardStatusChangedSchema,
  'card.transaction.cleared': CardTransactionDataSchema,
  'card.transaction.created': CardTransactionDataSchema,
  'card.transaction.confirmed': CardTransactionDataSchema,
  'card.transaction.failed': CardTransactionDataSchema,
  'card.transaction.reversed': CardTransactionDataSchema,
  'card.transaction.refunded': CardTransactionDataSchema,
  'card.transaction.declined': CardTransactionDataSchema,
  'physical.card.activated': CardRefSchema,
  'physical.card.order.status.changed': CardOrderStatusChangedSchema,
  'physical.card.ordered': CardOrderedSchema,
  'physical.card.pin.changed': CardRefSchema,
  'virtual.card.issued': CardRefSchema,
  'account.balance.changed': BalanceChangedSchema,
  'account.limit.changed': LimitChangedSchema,
  'account.withdrawal.completed': WithdrawalCompletedSchema,
  'account.withdrawal.failed': WithdrawalFailedSchema,
  'iban.created': IbanCreatedSchema,
  'iban.status.changed': IbanStatusChangedSchema,
  'safe.created': SafeSchema,
  'safe.currency.updated': SafeSchema,
  'safe.modules.deployed': SafeSchema,
  'safe.owner.added': SafeOwnerAddedSchema,
  'safe.owner.removed': SafeOwnerRemovedSchema,
} as const;

export type GnosisPayEventType = keyof typeof GnosisPayDataSchemas;
export const GNOSIS_PAY_EVENT_TYPES = Object.keys(GnosisPayDataSchemas) as GnosisPayEventType[];

/** The `data` of one event type (or, without an argument, of any). */
export type GnosisPayData<T extends GnosisPayEventType = GnosisPayEventType> = v.InferOutput<
  (typeof GnosisPayDataSchemas)[T]
>;

// ── Envelopes ─────────────────────────────────────────────────────────────────────────────────────

function envelopeV1<const T extends GnosisPayEventType>(type: T) {
  return v.looseObject({
    eventType: v.pipe(v.literal(type), v.description('The event type.')),
    data: GnosisPayDataSchemas[type],
  });
}

function envelopeV2<const T extends GnosisPayEventType>(type: T) {
  return v.looseObject({
    id: v.pipe(
      v.string(),
      v.minLength(1),
      v.description('Event id ("evt_…"): the same on every retry of the event.'),
    ),
    type: v.pipe(v.literal(type), v.description('The event type.')),
    createdAt: text('When the event happened.'),
    data: GnosisPayDataSchemas[type],
  });
}

type EnvelopeV1<T extends GnosisPayEventType> = ReturnType<typeof envelopeV1<T>>;
type EnvelopeV2<T extends GnosisPayEventType> = ReturnType<typeof envelopeV2<T>>;

/** Today's envelope: `{eventType, data}`, no event id. */
export const GnosisPayEventV1Schema = v.variant(
  'eventType',
  GNOSIS_PAY_EVENT_TYPES.map((type) => envelopeV1(type)) as {
    [T in GnosisPayEventType]: EnvelopeV1<T>;
  }[GnosisPayEventType][],
);

/** The announced next envelope: `{id: "evt_…", type, createdAt, data}`, with the same per-type data. */
export const GnosisPayEventV2Schema = v.variant(
  'type',
  GNOSIS_PAY_EVENT_TYPES.map((type) => envelopeV2(type)) as {
    [T in GnosisPayEventType]: EnvelopeV2<T>;
  }[GnosisPayEventType][],
);

/**
 * Either envelope. The envelope is chosen by its shape (a body with `eventType`, or without `type`, is v1)
 * rather than by `v.union`, because a union that fails in both options reports one issue at the root:
 * choosing first keeps the issue path (`eventType`, `data.total`) in the quarantine reason.
 */
export const GnosisPayEventSchema = v.lazy((input) =>
  isEnvelopeV2(input) ? GnosisPayEventV2Schema : GnosisPayEventV1Schema,
);

function isEnvelopeV2(input: unknown): boolean {
  return typeof input === 'object' && input !== null && !('eventType' in input) && 'type' in input;
}

export type GnosisPayEventV1 = v.InferOutput<typeof GnosisPayEventV1Schema>;
export type GnosisPayEventV2 = v.InferOutput<typeof GnosisPayEventV2Schema>;
export type GnosisPayEvent = v.InferOutput<typeof GnosisPayEventSchema>;
