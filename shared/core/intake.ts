import type * as v from 'valibot';
import type { NormalizedEvent } from '../contract/eventContract.ts';
import { MAX_EVENT_ID_BYTES, MAX_EVENT_TYPE_BYTES, MAX_SUBJECT_BYTES } from './bounds.ts';
import { isLosslessNumber, JsonTooDeepError, parsePayload } from './losslessJson.ts';
import { validatePayload } from './payloadValidation.ts';
import type {
  AuthFailure,
  Headers,
  NormalizedParts,
  ProviderModule,
  ProviderSettings,
} from './providerModule.ts';
import { isoTimestamp, utcTimestamp } from './timestamps.ts';

/** What the pure part of the intake decided about one delivery; no AWS call has happened yet. */
export type IntakeResult =
  | { kind: 'unauthentic'; reason: AuthFailure }
  | { kind: 'rejected'; reason: string }
  | { kind: 'quarantine'; reason: string }
  | { kind: 'event'; event: NormalizedEvent; dedupeKey: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Authenticate, parse without losing digits, validate, key and normalize one delivery.
 *
 * @example
 * const result = intake(apara, rawBody, headers, settings, new Date());
 * if (result.kind === 'event') store(result.event, result.dedupeKey);
 */
export function intake(
  provider: ProviderModule,
  rawBody: Buffer,
  headers: Headers,
  settings: ProviderSettings,
  receivedAt: Date,
): IntakeResult {
  const verified = provider.verify(rawBody, headers, settings, receivedAt);
  if (!verified.ok) return { kind: 'unauthentic', reason: verified.reason };

  let payload: unknown;
  try {
    payload = parsePayload(utf8.decode(rawBody));
  } catch (error) {
    if (error instanceof JsonTooDeepError) return { kind: 'quarantine', reason: error.message };
    // Parser messages quote what they choked on; keep single characters, drop longer fragments (data).
    const where = (error as Error).message.replace(/'[^']{2,}'/g, "'…'");
    return { kind: 'quarantine', reason: `invalid JSON: ${where}`.slice(0, 300) };
  }

  const valid = validatePayload(provider.schema, payload);
  if (!valid.success) return { kind: 'quarantine', reason: describeIssues(valid.issues) };

  const mismatch = provider.checkHeaders?.(valid.output, headers);
  if (mismatch) return { kind: 'rejected', reason: mismatch };

  let dedupeKey: string;
  let parts: NormalizedParts;
  let time: string | undefined;
  try {
    dedupeKey = provider.dedupeKey(valid.output, headers);
    parts = provider.normalize(valid.output, { headers, receivedAt });
    time = parts.time === undefined ? undefined : utcTimestamp(parts.time);
  } catch (error) {
    // A valid payload the provider module cannot key or map (a gap in our code, not in theirs): kept,
    // answered 200 and re-ingested after the fix, instead of a 503 the provider retries until it gives up.
    return { kind: 'quarantine', reason: `could not normalize: ${(error as Error).name}` };
  }
  const type = `${provider.name}.${parts.eventType}`;
  const pastBound = keyPastBound(dedupeKey, type, parts.subject);
  if (pastBound) return { kind: 'quarantine', reason: pastBound };
  const receivedat = isoTimestamp(receivedAt);
  const event: NormalizedEvent = {
    specversion: '1.0',
    id: dedupeKey,
    source: `webhooks/${provider.name}`,
    type,
    subject: parts.subject,
    time: time ?? receivedat,
    datacontenttype: 'application/json',
    // The payload exactly as parsed (key order, unknown fields, number digits), not the validator's copy.
    data: payload,
    provider: provider.name,
    receivedat,
    outcome: parts.outcome,
    amounts: parts.amounts,
  };
  return { kind: 'event', event, dedupeKey };
}

/**
 * Checked here, once for every provider: the event id and the subject become keys in DynamoDB (ours
 * and the default handler's) and in consumers' stores, which refuse long keys; the type is an SNS
 * message attribute (see `bounds.ts`).
 */
function keyPastBound(dedupeKey: string, type: string, subject: string): string | undefined {
  const typeBytes = bytesPast(type, MAX_EVENT_TYPE_BYTES);
  if (typeBytes !== undefined)
    return `event type of ${typeBytes} bytes is longer than the event type bound (${MAX_EVENT_TYPE_BYTES} bytes)`;
  const idBytes = bytesPast(dedupeKey, MAX_EVENT_ID_BYTES);
  if (idBytes !== undefined)
    return `event id of ${idBytes} bytes is longer than the event id bound (${MAX_EVENT_ID_BYTES} bytes)`;
  const subjectBytes = bytesPast(subject, MAX_SUBJECT_BYTES);
  if (subjectBytes !== undefined)
    return `subject of ${subjectBytes} bytes is longer than the subject bound (${MAX_SUBJECT_BYTES} bytes)`;
  return undefined;
}

/**
 * The UTF-8 length of `text` when it is past `bound`, else undefined. No UTF-16 unit takes more than
 * 3 bytes, so a short text is answered without counting.
 */
function bytesPast(text: string, bound: number): number | undefined {
  if (text.length * 3 <= bound) return undefined;
  const bytes = Buffer.byteLength(text);
  return bytes > bound ? bytes : undefined;
}

/**
 * Valibot issues as one readable line: each issue's field path, then what was expected and the shape
 * of what came (its kind, and the length of a string or an array). Never a value from the payload: an
 * unknown event type may as well be a name typed into the wrong field, and reasons reach logs and
 * answers. The stored raw body shows the value to whoever may read it (`npm run ops -- events show`).
 */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .map((issue) => {
      const path = issue.path?.map((item) => pathSegment(item.key)).join('.') ?? '(body)';
      // A required key that is absent: valibot "expects" the key's own name.
      if (issue.input === undefined && issue.expected === `"${String(issue.path?.at(-1)?.key)}"`)
        return `${path}: missing`;
      const expected = issue.type === 'custom' ? issue.message.replace(/^expected /, '') : issue.expected;
      return `${path}: expected ${expected ?? issue.type}, got ${shapeOf(issue.input)}`;
    })
    .join('; ')
    .slice(0, 1000);
}

/** A key as a path segment: field names and indices as they are; a key that could be data is not shown. */
function pathSegment(key: unknown): string {
  if (typeof key === 'number') return String(key);
  return typeof key === 'string' && /^[A-Za-z_$][\w$-]{0,63}$/.test(key) ? key : '[key]';
}

/** What kind of value came, and its length where it has one: `string of length 8`, `array of length 2`. */
export function shapeOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (isLosslessNumber(value)) return 'number';
  if (typeof value === 'string') return `string of length ${value.length}`;
  return typeof value;
}
