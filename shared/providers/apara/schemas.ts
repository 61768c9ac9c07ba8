import * as v from 'valibot';
import { AssetCodeSchema } from '../../core/amounts.ts';
import { JsonNumberSchema } from '../../core/losslessJson.ts';
import { TimestampSchema } from '../../core/timestamps.ts';

// Fields that normalization reads are required; other documented fields are typed but optional: a missing
// descriptive field never holds up an event, while a field of the wrong type is quarantined with its path.

/** APARA's order statuses, with their published meaning. */
const ORDER_STATUS_MEANINGS = {
  initiated: 'Payment initiated: order confirmed, user redirected to the payment checkout page.',
  fund_settled: 'Payment authorised: the bank confirmed the payment.',
  fund_failed: 'Payment unauthorised: the bank declined the payment.',
  asset_deposited: "Stablecoin deposited to the user's wallet.",
  completed: "Order completed: top up the user's balance on the gaming platform.",
  expired: 'Order expired: the user did not complete the transaction.',
  manual_review: 'Order held for manual review by the compliance team.',
} as const;

export type AparaOrderStatus = keyof typeof ORDER_STATUS_MEANINGS;

const optionalText = (description: string) => v.optional(v.pipe(v.string(), v.description(description)));

export const AparaUserSchema = v.looseObject({
  userId: v.pipe(v.string(), v.description('APARA user id ("UX-…").')),
  firstName: optionalText('First name (personal data: never logged).'),
  lastName: optionalText('Last name (personal data: never logged).'),
  country: optionalText('ISO 3166-1 alpha-2 country, e.g. "BE".'),
  createdAt: v.optional(v.pipe(TimestampSchema, v.description('When the user was created.'))),
});

export const AparaOrderSchema = v.looseObject({
  orderId: v.pipe(v.string(), v.description('APARA order id ("OR-…"), equal to `entityId`.')),
  type: optionalText('Order type, e.g. "gaming".'),
  depositCurrency: v.pipe(AssetCodeSchema, v.description('Currency the user pays in, e.g. "EUR".')),
  depositAmount: v.pipe(
    JsonNumberSchema,
    v.description('Amount the user pays, in `depositCurrency` (0 until known).'),
  ),
  withdrawCurrency: v.pipe(AssetCodeSchema, v.description('Asset delivered to the wallet, e.g. "USDC".')),
  withdrawAmount: v.pipe(
    JsonNumberSchema,
    v.description('Amount delivered, in `withdrawCurrency`, e.g. 24.843798 (exact digits kept).'),
  ),
  walletAddress: optionalText('Destination wallet address (may be empty).'),
  createdAt: v.optional(v.pipe(TimestampSchema, v.description('When the order was created.'))),
  customerOrderId: optionalText('Our own order reference, given at order creation.'),
  failureCode: optionalText('Why the order failed, e.g. "PAYMENT_NOT_COMPLETED" (on fund_failed, expired).'),
  failureMessage: optionalText('Human-readable failure text; may be empty.'),
});

const EventIdSchema = v.pipe(
  v.string(),
  v.minLength(1),
  v.description('Event id ("EV-…"); the dedupe key. Their samples reuse one id across two statuses.'),
);
const CreatedAtSchema = v.pipe(TimestampSchema, v.description('When APARA created the event.'));
const PartnerContextSchema = v.optional(
  v.pipe(v.looseObject({}), v.description('Free-form object we set at order creation; echoed back.')),
);

const orderEvent = <const S extends AparaOrderStatus>(status: S) =>
  v.looseObject({
    eventId: EventIdSchema,
    entityId: v.pipe(v.string(), v.minLength(1), v.description('The order id ("OR-…").')),
    entityType: v.pipe(v.literal('order'), v.description('Order lifecycle event.')),
    status: v.pipe(v.literal(status), v.description(ORDER_STATUS_MEANINGS[status])),
    user: v.optional(AparaUserSchema),
    order: AparaOrderSchema,
    partnerContext: PartnerContextSchema,
    createdAt: CreatedAtSchema,
  });

/** Order events, one option per status: the shapes agree, the meanings (descriptions) differ. */
export const AparaOrderEventSchema = v.variant('status', [
  orderEvent('initiated'),
  orderEvent('fund_settled'),
  orderEvent('fund_failed'),
  orderEvent('asset_deposited'),
  orderEvent('completed'),
  orderEvent('expired'),
  orderEvent('manual_review'),
]);

// Names end up in the contract type (`apara.<entityType>.<status>`): keep them plain identifiers.
const NameSchema = v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_]*$/i, 'expected an identifier'));

/** Events of other entities (the schema page says user-level events exist): envelope fields only. */
export const AparaEntityEventSchema = v.looseObject({
  eventId: EventIdSchema,
  entityId: v.pipe(v.string(), v.minLength(1), v.description('Id of the entity the event is about.')),
  entityType: v.pipe(
    NameSchema,
    v.notValue('order'),
    v.description('Entity kind other than "order", e.g. "user".'),
  ),
  status: v.pipe(NameSchema, v.description('Status of the entity; not published for non-order entities.')),
  user: v.optional(AparaUserSchema),
  partnerContext: PartnerContextSchema,
  createdAt: CreatedAtSchema,
});

export const AparaEventSchema = v.pipe(
  v.variant('entityType', [AparaOrderEventSchema, AparaEntityEventSchema]),
  v.description(
    'An APARA webhook: `eventId`, `entityId`, `entityType`, `status`, `createdAt` and the entity.',
  ),
);

export type AparaEvent = v.InferOutput<typeof AparaEventSchema>;
export type AparaOrderEvent = v.InferOutput<typeof AparaOrderEventSchema>;
