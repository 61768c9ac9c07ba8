import * as v from 'valibot';

/**
 * The normalized event every consumer receives: CloudEvents 1.0 (JSON format) with our extensions.
 * Version 1. A change that breaks consumers is a new version (a new schema and JSON Schema file).
 */
export const CONTRACT_VERSION = 1;

export const OUTCOMES = ['succeeded', 'failed', 'pending', 'action_required', 'info'] as const;
export const OutcomeSchema = v.pipe(
  v.picklist(OUTCOMES),
  v.description(
    'What the event means for the business flow: succeeded (money or state reached its goal), failed, pending, action_required (an operator must look), info (no money moved).',
  ),
);

export const DecimalStringSchema = v.pipe(
  v.string(),
  v.regex(/^-?(0|[1-9]\d*)(\.\d+)?$/, 'must be a plain decimal string'),
  v.description('An exact decimal number as text: never a float.'),
);

export const AmountSchema = v.pipe(
  v.strictObject({
    role: v.pipe(
      v.string(),
      v.description(
        'Which amount of the event this is, named after the provider field (e.g. "withdrawAmount").',
      ),
    ),
    value: DecimalStringSchema,
    currency: v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        'ISO 4217 alphabetic code for fiat (numeric codes are mapped), the token symbol for crypto (e.g. "USDC"), or "wei" for raw on-chain base units.',
      ),
    ),
  }),
  v.description('A money amount in major units, exactly as the provider stated it.'),
);

const ProviderNameSchema = v.pipe(
  v.string(),
  v.regex(/^[a-z][a-z0-9-]*$/),
  v.description('The provider route name, e.g. "openpoly", "apara", "coinme", "gnosis-pay".'),
);

const TimestampSchema = v.pipe(v.string(), v.isoTimestamp(), v.description('RFC 3339 timestamp.'));

export const NormalizedEventSchema = v.pipe(
  v.strictObject({
    specversion: v.pipe(v.literal('1.0'), v.description('CloudEvents specification version.')),
    id: v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        'Stable event id: the provider event id, or a content key where the provider has none. The same genuine event always has the same id: be idempotent on (source, id).',
      ),
    ),
    source: v.pipe(
      v.string(),
      v.regex(/^webhooks\/[a-z][a-z0-9-]*$/),
      v.description('"webhooks/<provider>".'),
    ),
    type: v.pipe(
      v.string(),
      v.description('"<provider>.<provider event type>", e.g. "apara.order.completed".'),
    ),
    subject: v.pipe(v.string(), v.description('The business entity, e.g. "order/OR-241127050200660".')),
    time: v.pipe(
      TimestampSchema,
      v.description("The provider's event time where given, else the receipt time."),
    ),
    datacontenttype: v.literal('application/json'),
    data: v.pipe(
      v.optional(v.unknown()),
      v.description(
        "The provider's payload, every field kept; numbers keep every digit they had on the wire (parse with a lossless JSON parser). Absent only when `dataref` is set.",
      ),
    ),
    dataref: v.optional(
      v.pipe(
        v.string(),
        v.description(
          'Set instead of data when the event is too large for one message: the event-store key to read the full event from.',
        ),
      ),
    ),
    provider: ProviderNameSchema,
    receivedat: v.pipe(TimestampSchema, v.description('When our endpoint received the delivery.')),
    outcome: OutcomeSchema,
    amounts: v.pipe(
      v.array(AmountSchema),
      v.description('Money amounts the event carries; empty when none.'),
    ),
    conflict: v.optional(
      v.pipe(
        v.literal(true),
        v.description(
          'Set when the provider sent a different payload under an event id already seen: kept as its own event, never dropped.',
        ),
      ),
    ),
    replayed: v.optional(
      v.pipe(v.literal(true), v.description('Set when an operator replayed a stored event.')),
    ),
  }),
  v.description('A provider webhook, normalized (CloudEvents 1.0 JSON with extensions). Contract version 1.'),
);

export type Outcome = v.InferOutput<typeof OutcomeSchema>;
export type ContractAmount = v.InferOutput<typeof AmountSchema>;
export type NormalizedEvent = v.InferOutput<typeof NormalizedEventSchema>;
export type ProviderName = v.InferOutput<typeof ProviderNameSchema>;
