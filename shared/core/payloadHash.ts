import { hash } from 'node:crypto';
import { isLosslessNumber } from 'lossless-json';

/**
 * A hash of the payload's content, independent of key order and white space, so a provider that
 * re-serializes a retry still matches, while any change of a value (a status, an amount) does not.
 * Number digits are taken as sent (`1.0` and `1` differ: a provider that changes them changed the payload).
 */
export function payloadHash(payload: unknown): string {
  return hashOfCanonical(canonical(payload));
}

/** How many characters a payload hash has (base64url of SHA-256, cut to 132 bits). */
export const PAYLOAD_HASH_LENGTH = 22;

/** The hash of a canonical form already built (by `canonical`). */
export function hashOfCanonical(canonicalText: string): string {
  return hash('sha256', canonicalText, 'base64url').slice(0, PAYLOAD_HASH_LENGTH);
}

/**
 * The canonical form of a JSON value: keys sorted, no white space, numbers as their digits.
 */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (isLosslessNumber(value)) return value.value;
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i += 1) text += `${i === 0 ? '' : ','}${canonical(value[i])}`;
    return `${text}]`;
  }
  const keys = Object.keys(value).sort();
  let text = '{';
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i] as string;
    text += `${i === 0 ? '' : ','}${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`;
  }
  return `${text}}`;
}
