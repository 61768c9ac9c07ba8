import type { Headers, ProviderSettings, VerifyResult } from '../../core/providerModule.ts';
import { signedRecently } from '../../core/signatureWindow.ts';
import { isReadableTimestamp } from '../../core/timestamps.ts';
import { activeKeys, anyKeySigned, decodeSignature, signatureEntries } from '../hmacSignature.ts';

export const SIGNATURE_HEADER = 'x-polynion-signature';
export const TIMESTAMP_HEADER = 'x-polynion-timestamp';
export const EVENT_ID_HEADER = 'x-polynion-event-id';
export const SIGNATURE_VERSION = 'v1';

/**
 * OpenPoly's scheme: `X-Polynion-Signature: v1=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>`, with
 * the ISO-8601 `X-Polynion-Timestamp` inside the signed string. Entries of other versions are skipped (a
 * provider migrating versions sends both); a header with none we know is `unknown_signature_version`.
 * The signature is checked before the clock, so `stale_timestamp` always means a genuine but old (replayed
 * or delayed) delivery, and `bad_signature` a forgery.
 *
 * @example
 * verify(rawBody, headers, { keys: ['whsec_…'] }, new Date()) // { ok: true }
 */
export function verify(
  rawBody: Buffer,
  headers: Headers,
  settings: ProviderSettings,
  now: Date,
): VerifyResult {
  const keys = activeKeys(settings);
  if (keys.length === 0) return { ok: false, reason: 'no_keys_configured' };

  const header = headers[SIGNATURE_HEADER];
  if (!header?.trim()) return { ok: false, reason: 'missing_signature' };
  const timestamp = headers[TIMESTAMP_HEADER]?.trim();
  if (!timestamp) return { ok: false, reason: 'missing_timestamp' };
  const signedAt = Date.parse(timestamp);
  if (!isReadableTimestamp(timestamp)) {
    return { ok: false, reason: 'malformed_timestamp' };
  }

  const entries = signatureEntries(header)?.map((entry) => /^([A-Za-z0-9]+)=(.*)$/.exec(entry));
  if (!entries || entries.some((entry) => entry === null))
    return { ok: false, reason: 'malformed_signature' };
  const current = entries.filter((entry) => entry?.[1] === SIGNATURE_VERSION);
  if (current.length === 0) return { ok: false, reason: 'unknown_signature_version' };
  const signatures = current.map((entry) => decodeSignature(entry?.[2] ?? '', ['hex']));
  if (signatures.some((signature) => signature === undefined))
    return { ok: false, reason: 'malformed_signature' };

  if (!anyKeySigned(keys, signatures as Buffer[], timestamp, '.', rawBody)) {
    return { ok: false, reason: 'bad_signature' };
  }
  if (!signedRecently(signedAt, now, settings)) return { ok: false, reason: 'stale_timestamp' };
  return { ok: true };
}
