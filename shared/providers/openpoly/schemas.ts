import * as v from 'valibot';
import { currencyOf } from '../../core/amounts.ts';
import { isLosslessNumber, JsonNumberSchema, type LosslessNumber } from '../../core/losslessJson.ts';

// Fields that normalization reads, and the correlation ids OpenPoly names for support, are required;
// other documented fields are typed but optional: a missing descriptive field never holds up an event,
// while a field of the wrong type is quarantined with its path.

/** A JSON number kept as its exact digits, with what it means. */
const jsonNumber = (description: string) => v.pipe(JsonNumberSchema, v.description(description));

const OrderIdSchema = jsonNumber('OpenPoly order id; support correlation id.');
const OperatorUserIdSchema = v.optional(jsonNumber("OpenPoly's id of the operator's user."));
const ExternalUserIdSchema = v.optional(
  v.pipe(v.string(), v.description("The operator's own user id, as given to OpenPoly at launch.")),
);
const MarketIdSchema = v.optional(jsonNumber('Prediction market id.'));
const SideSchema = v.optional(v.pipe(v.string(), v.description('Trade side, e.g. "buy".')));
const TradeOutcomeSchema = v.optional(
  v.pipe(v.string(), v.description('Market outcome traded, e.g. "yes" (not the contract outcome).')),
);
const FailureReasonSchema = v.optional(
  v.pipe(
    v.string(),
    v.description('Operator-facing diagnostic, e.g. "OPERATOR_DEBIT_FAILED"; not a closed list.'),
  ),
);

export const MinorUnitsSchema = v.pipe(
  v.custom<LosslessNumber>(
    (input) => isLosslessNumber(input) && /^-?\d+$/.test(input.value),
    'expected an integer JSON number of minor units',
  ),
  v.description('Money in minor units of `currency_code` (10000 IDR = 100.00 IDR).'),
);

// An amount in a currency we cannot scale cannot be normalized; quarantined rather than sent on without it.
export const CurrencyCodeSchema = v.pipe(
  v.custom<string>(
    (input) => typeof input === 'string' && currencyOf(input) !== undefined,
    'expected an ISO 4217 currency code',
  ),
  v.description('ISO 4217 currency of `external_amount_minor`, e.g. "IDR".'),
);

export const TradeProcessedDataSchema = v.looseObject({
  order_id: OrderIdSchema,
  trade_id: jsonNumber('OpenPoly trade id; support correlation id.'),
  operator_user_id: OperatorUserIdSchema,
  external_user_id: ExternalUserIdSchema,
  market_id: MarketIdSchema,
  side: SideSchema,
  outcome: TradeOutcomeSchema,
  shares_micro: v.optional(jsonNumber('Shares bought or sold, in millionths of a share.')),
  credits_delta: v.optional(
    jsonNumber("Change of the user's OpenPoly credits (not money in a currency: kept in data only)."),
  ),
  external_amount_minor: MinorUnitsSchema,
  currency_code: CurrencyCodeSchema,
});

export const TradeFailedDataSchema = v.looseObject({
  order_id: OrderIdSchema,
  operator_user_id: OperatorUserIdSchema,
  external_user_id: ExternalUserIdSchema,
  market_id: MarketIdSchema,
  side: SideSchema,
  outcome: TradeOutcomeSchema,
  failure_reason: FailureReasonSchema,
});

export const TradeCompensationRequiredDataSchema = v.looseObject({
  order_id: OrderIdSchema,
  operator_user_id: OperatorUserIdSchema,
  external_user_id: ExternalUserIdSchema,
  debit_operation_id: jsonNumber('Wallet debit that happened; support correlation id.'),
  reversal_operation_id: v.optional(jsonNumber('Reversal of the debit, where one was attempted.')),
  failure_reason: FailureReasonSchema,
});

export const PayoutPendingDataSchema = v.looseObject({
  order_id: OrderIdSchema,
  redemption_item_id: v.optional(v.nullable(jsonNumber('Redemption item paid out, or null.'))),
  operator_user_id: OperatorUserIdSchema,
  external_user_id: ExternalUserIdSchema,
  credit_operation_id: jsonNumber('Wallet credit in unknown state; support correlation id.'),
  external_amount_minor: MinorUnitsSchema,
  currency_code: CurrencyCodeSchema,
  failure_reason: FailureReasonSchema,
});

/** Payload of the event types OpenPoly does not document: any object, every field kept. */
export const UndocumentedDataSchema = v.pipe(
  v.looseObject({}),
  v.description('Event-specific payload; OpenPoly publishes no fields for this event type.'),
);

const EventIdSchema = v.pipe(
  v.string(),
  v.minLength(1),
  v.description('Unique event id ("evt_…"), also sent as header X-Polynion-Event-Id; the dedupe key.'),
);

function eventType<const T extends string>(type: T, description: string) {
  return v.pipe(v.literal(type), v.description(description));
}

export const OpenPolyEventSchema = v.pipe(
  v.variant('event_type', [
    v.looseObject({
      event_id: EventIdSchema,
      event_type: eventType('mini_app.login.succeeded', 'Sent after authenticated launch succeeds.'),
      data: UndocumentedDataSchema,
    }),
    v.looseObject({
      event_id: EventIdSchema,
      event_type: eventType(
        'mini_app.trade.submitted',
        'Sent when order accepted into OpenPoly processing flow.',
      ),
      data: UndocumentedDataSchema,
    }),
    v.looseObject({
      event_id: EventIdSchema,
      event_type: eventType('mini_app.trade.processed', 'Sent when trade completed successfully.'),
      data: TradeProcessedDataSchema,
    }),
    v.looseObject({
      event_id: EventIdSchema,
      event_type: eventType(
        'mini_app.trade.failed',
        'Sent when trade fails and no successful final execution exists.',
      ),
      data: TradeFailedDataSchema,
    }),
    v.looseObject({
      event_id: EventIdSchema,
      event_type: eventType(
        'mini_app.trade.compensation_required',
        'Sent when wallet debit happened but downstream completion needed manual or compensating handling.',
      ),
      data: TradeCompensationRequiredDataSchema,
    }),
    v.looseObject({
      event_id: EventIdSchema,
      event_type: eventType(
        'mini_app.redemption.processed',
        'Sent when redemption or payout completed successfully.',
      ),
      data: UndocumentedDataSchema,
    }),
    v.looseObject({
      event_id: EventIdSchema,
      event_type: eventType(
        'mini_app.redemption.failed',
        'Sent when redemption flow failed before successful credit completion.',
      ),
      data: UndocumentedDataSchema,
    }),
    v.looseObject({
      event_id: EventIdSchema,
      event_type: eventType(
        'mini_app.payout.pending',
        'Sent when payout reached unknown or pending external state and operator follow-up may be required.',
      ),
      data: PayoutPendingDataSchema,
    }),
    v.looseObject({
      event_id: EventIdSchema,
      event_type: eventType(
        'mini_app.logout.requested',
        'Sent when OpenPoly requests operator-side session cleanup.',
      ),
      data: UndocumentedDataSchema,
    }),
    v.looseObject({
      event_id: EventIdSchema,
      event_type: eventType('mini_app.session.expired', 'Sent when launched Mini App session expired.'),
      data: UndocumentedDataSchema,
    }),
  ]),
  v.description('An OpenPoly Mini App webhook: envelope `event_id`, `event_type`, `data`.'),
);

export type OpenPolyEvent = v.InferOutput<typeof OpenPolyEventSchema>;
export type OpenPolyEventType = OpenPolyEvent['event_type'];
