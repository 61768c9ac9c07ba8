import type { AuthFailure, Headers, ProviderSettings, VerifyResult } from '../../core/providerModule.ts';
import { signedRecently } from '../../core/signatureWindow.ts';
import { isReadableTimestamp } from '../../core/timestamps.ts';
import { activeKeys, anyKeySigned, decodeSignature, signatureEntries } from '../hmacSignature.ts';

export const SIGNATURE_HEADER = 'x-polynion-signature';
export const TIMESTAMP_HEADER = 'x-polynion-timestamp';
export const EVENT_ID_HEADER = 'x-polynion-event-id';
export const SIGNATURE_VERSION = 'v1';

/** A `version=value` entry; the version is letters and digits. */
const VERSIONED_ENTRY = /^[A-Za-z0-9]+=/;
const CURRENT_PREFIX = `${SIGNATURE_VERSION}=`;
/**
 * UTC with a `T`, seconds and an optional fraction, the form OpenPoly sends: every text it matches is an
 * RFC 3339 timestamp (`isReadableTimestamp` holds it readable when `Date` can read it).
 */
const UTC_TIMESTAMP =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?Z$/;

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
  const signedAt = readableTimestampMs(timestamp);
  if (signedAt === undefined) return { ok: false, reason: 'malformed_timestamp' };

  const signatures = currentSignatures(header);
  if (!Array.isArray(signatures)) return { ok: false, reason: signatures };
  if (!anyKeySigned(keys, signatures, rawBody, `${timestamp}.`))
    return { ok: false, reason: 'bad_signature' };
  if (!signedRecently(signedAt, now, settings)) return { ok: false, reason: 'stale_timestamp' };
  return { ok: true };
}

/**
 * The instant of a timestamp `isReadableTimestamp` accepts, else undefined; the common form is read
 * with one `Date.parse` (a fifth of a microsecond) instead of two.
 */
function readableTimestampMs(timestamp: string): number | undefined {
  if (UTC_TIMESTAMP.test(timestamp)) {
    const ms = Date.parse(timestamp);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return isReadableTimestamp(timestamp) ? Date.parse(timestamp) : undefined;
}

/**
 * The decoded signatures of the entries of our version, or why the header cannot be checked: an entry
 * that is not `version=value`, or one of our version that is not 64 hex digits (`malformed_signature`),
 * or no entry of our version (`unknown_signature_version`).
 */
function currentSignatures(header: string): Buffer[] | AuthFailure {
  const entries = signatureEntries(header);
  if (!entries) return 'malformed_signature';
  const signatures: Buffer[] = [];
  let malformed = false;
  for (let i = 0; i < entries.length; i += 1) {
    const entry = entries[i] as string;
    if (entry.startsWith(CURRENT_PREFIX)) {
      const signature = decodeSignature(entry.slice(CURRENT_PREFIX.length), ['hex']);
      if (signature) signatures.push(signature);
      else malformed = true;
    } else if (!VERSIONED_ENTRY.test(entry)) {
      return 'malformed_signature';
    }
  }
  if (malformed) return 'malformed_signature';
  return signatures.length > 0 ? signatures : 'unknown_signature_version';
}
