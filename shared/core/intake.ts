import * as v from 'valibot';
import type { NormalizedEvent } from '../contract/eventContract.ts';
import { parseJson } from './losslessJson.ts';
import { payloadHash } from './payloadHash.ts';
import type {
  AuthFailure,
  Headers,
  NormalizedParts,
  ProviderModule,
  ProviderSettings,
} from './providerModule.ts';
import { utcTimestamp } from './timestamps.ts';

/** What the pure part of the intake decided about one delivery; no AWS call has happened yet. */
export type IntakeResult =
  | { kind: 'unauthentic'; reason: AuthFailure }
  | { kind: 'rejected'; reason: string }
  | { kind: 'quarantine'; reason: string }
  | { kind: 'event'; event: NormalizedEvent; dedupeKey: string; hash: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Authenticate, parse without losing digits, validate, key and normalize one delivery.
 *
 * @example
 * const result = intake(apara, rawBody, headers, settings, new Date());
 * if (result.kind === 'event') store(result.event, result.dedupeKey, result.hash);
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
    payload = parseJson(utf8.decode(rawBody));
  } catch (error) {
    // Parser messages quote what they choked on; keep single characters, drop longer fragments (data).
    const where = (error as Error).message.replace(/'[^']{2,}'/g, "'…'");
    return { kind: 'quarantine', reason: `invalid JSON: ${where}`.slice(0, 300) };
  }

  const parsed = v.safeParse(provider.schema, payload);
  if (!parsed.success) return { kind: 'quarantine', reason: describeIssues(parsed.issues) };

  const mismatch = provider.checkHeaders?.(parsed.output, headers);
  if (mismatch) return { kind: 'rejected', reason: mismatch };

  let dedupeKey: string;
  let parts: NormalizedParts;
  let time: string | undefined;
  try {
    dedupeKey = provider.dedupeKey(parsed.output, headers);
    parts = provider.normalize(parsed.output, { headers, receivedAt });
    time = parts.time === undefined ? undefined : utcTimestamp(parts.time);
  } catch (error) {
    // A valid payload the provider module cannot key or map (a gap in our code, not in theirs): kept,
    // answered 200 and re-ingested after the fix, instead of a 503 the provider retries until it gives up.
    return { kind: 'quarantine', reason: `could not normalize: ${(error as Error).name}` };
  }
  const receivedat = receivedAt.toISOString();
  const event: NormalizedEvent = {
    specversion: '1.0',
    id: dedupeKey,
    source: `webhooks/${provider.name}`,
    type: `${provider.name}.${parts.eventType}`,
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
  return { kind: 'event', event, dedupeKey, hash: payloadHash(payload) };
}

/**
 * Valibot issues as one readable line: each issue's field path, then what was expected and what kind
 * of value came. Values themselves are left out (they may be personal data), except an unknown
 * event type or variant discriminator (e.g. an APARA `status`), which is what an operator needs to see.
 */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .map((issue) => {
      const path = v.getDotPath(issue) ?? '(body)';
      // A required key that is absent: valibot "expects" the key's own name.
      if (issue.input === undefined && issue.expected === `"${String(issue.path?.at(-1)?.key)}"`)
        return `${path}: missing`;
      const got = showsValue(issue, path) ? JSON.stringify(issue.input) : kindOf(issue.input);
      const expected = issue.type === 'custom' ? issue.message.replace(/^expected /, '') : issue.expected;
      return `${path}: expected ${expected ?? issue.type}, got ${got}`;
    })
    .join('; ')
    .slice(0, 1000);
}

/** The longest discriminator value shown; a longer one is more likely free text than a status. */
const MAX_DISCRIMINATOR_LENGTH = 64;

/** A short string at a path ending in `type`, or one that matched no variant's discriminator. */
function showsValue(issue: v.BaseIssue<unknown>, path: string): boolean {
  if (typeof issue.input !== 'string' || issue.input.length > MAX_DISCRIMINATOR_LENGTH) return false;
  if (/type$/i.test(path)) return true;
  // A variant issue on a non-object input expects "Object" and carries the whole value: not shown.
  const discriminatorMismatch = issue.type === 'variant' && issue.expected !== 'Object';
  return discriminatorMismatch;
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object' && (value as { isLosslessNumber?: boolean }).isLosslessNumber)
    return 'number';
  return typeof value;
}
