import { createHash } from 'node:crypto';
import { isLosslessNumber } from 'lossless-json';

/**
 * A hash of the payload's content, independent of key order and white space, so a provider that
 * re-serializes a retry still matches, while any change of a value (a status, an amount) does not.
 * Number digits are taken as sent (`1.0` and `1` differ: a provider that changes them changed the payload).
 */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(canonical(payload)).digest('base64url').slice(0, 22);
}

function canonical(value: unknown): string {
  if (isLosslessNumber(value)) return value.value;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}
