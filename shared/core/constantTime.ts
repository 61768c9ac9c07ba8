import { createHmac, timingSafeEqual } from 'node:crypto';

/** Compares two byte strings in time that depends only on their lengths, never on where they differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** HMAC-SHA256 of the given parts, concatenated, under one secret. */
export function hmacSha256(secret: string, ...parts: (string | Uint8Array)[]): Buffer {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** True when any of the secrets signs `parts` to `expected` (key rotation: several may be active). */
export function matchesAnyHmac(
  secrets: readonly string[],
  expected: Uint8Array,
  ...parts: (string | Uint8Array)[]
): boolean {
  let matched = false;
  // Every key is tried, so the time taken does not tell which key (or whether any) matched.
  for (const secret of secrets) matched = equalBytes(hmacSha256(secret, ...parts), expected) || matched;
  return matched;
}
