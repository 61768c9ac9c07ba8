import * as v from 'valibot';

/**
 * Event types as the spec recommends them: full-stop delimited identifiers (`user.created`,
 * `invoice.paid`); dashes allowed, as some senders use them. A type is logged and becomes an SNS
 * attribute, so nothing else passes (an authentic event with another type is quarantined, not lost).
 */
const EVENT_TYPE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * The spec's recommended payload: `type`, `timestamp` (ISO 8601, when the event occurred), `data`. Only
 * `type` is required: `data` may be "squashed" into the top level, and every other field is kept.
 */
export const StandardWebhooksEventSchema = v.looseObject({
  type: v.pipe(
    v.string(),
    v.maxLength(128),
    v.regex(EVENT_TYPE, 'expected a full-stop delimited event type'),
    v.description('Full-stop delimited event type, e.g. "contact.created".'),
  ),
  timestamp: v.optional(
    v.pipe(v.unknown(), v.description('When the event occurred, ISO 8601 (recommended).')),
  ),
  data: v.optional(v.pipe(v.unknown(), v.description('The event data (recommended).'))),
});

export type StandardWebhooksEvent = v.InferOutput<typeof StandardWebhooksEventSchema>;
