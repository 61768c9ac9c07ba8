/**
 * What a sender can make us hold or walk, bounded. Every bound a request meets is here, with its
 * reason. An authentic delivery past a bound is quarantined (kept, answered 200, re-ingestable) with a
 * reason that names the bound; it is never answered 5xx (a provider would retry it forever).
 */

/**
 * Deepest nesting of objects and arrays in a payload. The parser's reviver, the content hash, the
 * validator and the serializer each recurse once per level, and so do many consumers' parsers; an
 * unbounded depth overflows a stack somewhere, at a depth that depends on which code runs first.
 * Provider payloads nest 6 levels at most; 64 leaves room and stays far from any stack limit.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Longest event id (the dedupe key), in UTF-8 bytes. It becomes the event-store key
 * (`<provider>#<id>`, plus `#<hash>` for a conflict), and DynamoDB refuses partition keys of 2048 bytes
 * or more; consumers store it as their idempotency key too. Provider ids are UUIDs or shorter.
 */
export const MAX_EVENT_ID_BYTES = 512;

/**
 * Longest entity reference (`subject`, built from a payload field), in UTF-8 bytes. The default handler
 * keys entity state by it in DynamoDB (`state#<provider>#<subject>`, under 2048 bytes), and consumers
 * group by it; a longer one would fail there, after we acknowledged it.
 */
export const MAX_SUBJECT_BYTES = 512;

/**
 * Longest event type (`<provider>.<provider's type>`), in UTF-8 bytes. It travels as an SNS message
 * attribute that subscription filter policies match, and SNS counts attribute values against its
 * 262,144-byte message limit; real provider types are a few dozen characters.
 */
export const MAX_EVENT_TYPE_BYTES = 256;

/**
 * Largest request line and headers together, in bytes: API Gateway's HTTP API refuses more (10240, a
 * quota that cannot be raised), so the Lambda never sees larger; the local server refuses the same
 * with 431. It also bounds the headers kept with a quarantine record (DynamoDB items ≤ 400 KB).
 */
export const MAX_HEADER_BYTES = 10_240;

/** Largest body, in bytes (API Gateway's payload limit is larger; SNS and SQS take 256 KiB). */
export const MAX_BODY_BYTES = 256 * 1024;
