import * as v from 'valibot';
import type { NormalizedEvent } from '../contract/eventContract.ts';
import { parseJson } from './losslessJson.ts';
import { payloadHash } from './payloadHash.ts';
import type { AuthFailure, Headers, ProviderModule, ProviderSettings } from './providerModule.ts';

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

  const dedupeKey = provider.dedupeKey(parsed.output, headers);
  const parts = provider.normalize(parsed.output, { headers, receivedAt });
  const receivedat = receivedAt.toISOString();
  const event: NormalizedEvent = {
    specversion: '1.0',
    id: dedupeKey,
    source: `webhooks/${provider.name}`,
    type: `${provider.name}.${parts.eventType}`,
    subject: parts.subject,
    time: parts.time ?? receivedat,
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
      const got = showsValue(issue, path) ? JSON.stringify(issue.input) : kindOf(issue.input);
      const expected = issue.type === 'custom' ? issue.message.replace(/^expected /, '') : issue.expected;
      return `${path}: expected ${expected ?? issue.type}, got ${got}`;
    })
    .join('; ')
    .slice(0, 1000);
}

/** The longest discriminator value shown; a longer one is more likely free text than a status. */
const MAX_DISCRIMINATOR_LENGTH = 64;

/** A string at a path ending in `type`, or a short string that matched no variant's discriminator. */
function showsValue(issue: v.BaseIssue<unknown>, path: string): boolean {
  if (typeof issue.input !== 'string') return false;
  if (/type$/i.test(path)) return true;
  // A variant issue on a non-object input expects "Object" and carries the whole value: not shown.
  const discriminatorMismatch = issue.type === 'variant' && issue.expected !== 'Object';
  return discriminatorMismatch && issue.input.length <= MAX_DISCRIMINATOR_LENGTH;
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object' && (value as { isLosslessNumber?: boolean }).isLosslessNumber)
    return 'number';
  return typeof value;
}
