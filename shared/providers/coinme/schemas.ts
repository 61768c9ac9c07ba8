import * as v from 'valibot';
import { AssetCodeSchema } from '../../core/amounts.ts';
import { isLosslessNumber, type LosslessNumber } from '../../core/losslessJson.ts';
import { isReadableTimestamp } from '../../core/timestamps.ts';

// Fields that normalization reads are required; other documented fields are typed but optional: a missing
// descriptive field never holds up an event, while a field of the wrong type is quarantined with its path.

const optionalText = (description: string) => v.optional(v.pipe(v.string(), v.description(description)));

// Seconds, not milliseconds: ten digits last until 2286, and a millisecond value is quarantined, not misread.
const EPOCH_SECONDS = /^\d{1,10}(\.\d{1,9})?$/;

/** True for Unix epoch seconds written as a JSON number or a numeric string. */
export function isEpochSeconds(input: unknown): input is string | LosslessNumber {
  const text = isLosslessNumber(input) ? input.value : input;
  return typeof text === 'string' && EPOCH_SECONDS.test(text);
}

export const EventTimeSchema = v.pipe(
  v.custom<string | LosslessNumber>(
    (input) => isEpochSeconds(input) || isReadableTimestamp(input),
    'expected an ISO 8601 timestamp or Unix epoch seconds',
  ),
  v.description(
    'When the event happened: ISO 8601 in UTC, or Unix epoch seconds (JSON number or numeric string).',
  ),
);

export const ErrorDataSchema = v.pipe(
  v.nullable(
    v.looseObject({
      code: optionalText('Error code, e.g. "314-001-S3" (published codes are examples only).'),
      message: optionalText('Error text, e.g. "Transaction cancelled by Auth Void".'),
    }),
  ),
  v.description('Why the order failed, or null. Non-null means failed, whatever the status says.'),
);

export const UserInputAmountSchema = v.looseObject({
  amount: v.pipe(
    v.string(),
    v.regex(/^-?\d+(\.\d+)?$/),
    v.description('Decimal amount as text, e.g. "59" or "55.0"; kept exactly.'),
  ),
  currency: v.pipe(AssetCodeSchema, v.description('Currency code, e.g. "USD".')),
});

export const OrderTemplateDataSchema = v.looseObject({
  providerId: optionalText('Identifier of the payment provider.'),
  orderTemplateId: v.pipe(v.string(), v.minLength(1), v.description('Order template (barcode) id.')),
  providerTransactionRef: optionalText("The retail payment provider's transaction reference."),
  orderTemplateStatus: v.pipe(
    v.string(),
    v.description('Template status: CONSUMED (paid at a store), EXPIRED.'),
  ),
  userInputAmount: v.pipe(UserInputAmountSchema, v.description('Amount and currency the user asked for.')),
  errorData: ErrorDataSchema,
});

export const BlockchainDataSchema = v.looseObject({
  targetWalletAddress: optionalText('Destination wallet address.'),
  blockchainTransactionId: optionalText('On-chain transaction id.'),
  blockchainMemo: optionalText('Memo attached to the on-chain transaction.'),
  currency: optionalText('Currency of the on-chain transaction.'),
  chain: optionalText('Blockchain network.'),
  refundWalletAddress: optionalText('Wallet address for refunds.'),
  sourceWalletAddress: optionalText('Source wallet address.'),
});

export const BuyDataSchema = v.looseObject({
  type: v.pipe(v.literal('BUY'), v.description('Buy transaction event.')),
  providerId: optionalText('Identifier of the payment provider.'),
  transactionId: v.pipe(v.string(), v.minLength(1), v.description('Buy transaction id.')),
  metadata: v.looseObject({
    orderStatus: v.pipe(v.string(), v.description('Order status: COMPLETED, FAILED.')),
    blockchainData: v.optional(
      v.pipe(v.nullable(BlockchainDataSchema), v.description('On-chain details, or null if not applicable.')),
    ),
  }),
  errorData: ErrorDataSchema,
});

/** SELL and ORDER_TRACKING are named but not detailed: the BUY fields, each optional. */
const caasUndetailed = <const T extends string>(type: T, description: string) =>
  v.looseObject({
    type: v.pipe(v.literal(type), v.description(description)),
    providerId: optionalText('Identifier of the payment provider.'),
    transactionId: optionalText('Transaction id.'),
    metadata: v.optional(
      v.looseObject({
        orderStatus: optionalText('Order status.'),
        blockchainData: v.optional(v.nullable(BlockchainDataSchema)),
      }),
    ),
    errorData: v.optional(ErrorDataSchema),
  });

export const SellDataSchema = caasUndetailed('SELL', 'Sell transaction event (not detailed by Coinme).');
export const OrderTrackingDataSchema = caasUndetailed(
  'ORDER_TRACKING',
  'Order tracking event (not detailed by Coinme).',
);

const EventIdSchema = v.pipe(
  v.string(),
  v.minLength(1),
  v.description('Unique event identifier; the dedupe key.'),
);

/** Payload of the event types Coinme names but does not describe: any object, every field kept. */
const UndocumentedDataSchema = v.pipe(
  v.looseObject({}),
  v.description('Event payload; fields not published.'),
);

const envelopeType = <const T extends string>(type: T, description: string) =>
  v.pipe(v.literal(type), v.description(description));

export const CoinmeEventSchema = v.pipe(
  v.variant('type', [
    v.looseObject({
      id: EventIdSchema,
      type: envelopeType('ORDER_TEMPLATE', 'Order template (cash barcode) status change.'),
      data: OrderTemplateDataSchema,
      at: EventTimeSchema,
    }),
    v.looseObject({
      id: EventIdSchema,
      type: envelopeType('CAAS', 'Crypto-as-a-service transaction; `data.type` says which.'),
      data: v.variant('type', [BuyDataSchema, SellDataSchema, OrderTrackingDataSchema]),
      at: EventTimeSchema,
    }),
    v.looseObject({
      id: EventIdSchema,
      type: envelopeType('PAYMENT_METHOD', 'Payment method notification (payload not published).'),
      data: UndocumentedDataSchema,
      at: EventTimeSchema,
    }),
    v.looseObject({
      id: EventIdSchema,
      type: envelopeType('REFUND', 'Refund notification (payload not published).'),
      data: UndocumentedDataSchema,
      at: EventTimeSchema,
    }),
    v.looseObject({
      id: EventIdSchema,
      type: envelopeType('CAAS_BLOCKCHAIN', 'On-chain transaction notification (payload not published).'),
      data: UndocumentedDataSchema,
      at: EventTimeSchema,
    }),
  ]),
  v.description('A Coinme webhook: `{id, type, data, at}`.'),
);

export type CoinmeEvent = v.InferOutput<typeof CoinmeEventSchema>;
export type CoinmeEventType = CoinmeEvent['type'];
