import { createPublicKey, type KeyObject, verify as verifyEd25519 } from 'node:crypto';
import type { AuthFailure, Headers, ProviderSettings, VerifyResult } from '../../core/providerModule.ts';
import { signedRecently } from '../../core/signatureWindow.ts';
import { signatureEntries } from '../hmacSignature.ts';

/** Unix seconds at which Gnosis Pay signed the delivery. */
export const TIMESTAMP_HEADER = 'x-webhook-timestamp';
/** Base64 Ed25519 signature of `${timestamp}.${rawBody}`. */
export const SIGNATURE_HEADER = 'x-webhook-signature';

const SIGNATURE_BYTES = 64;
const RAW_KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const UNIX_SECONDS = /^\d{1,12}$/;
/** DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32-byte raw key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The bytes Gnosis Pay signs: the timestamp header as sent, a dot, then the raw body. */
export function signedMessage(timestamp: string, rawBody: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), rawBody]);
}

/**
 * Gnosis Pay's authentication: an Ed25519 signature over `${timestamp}.${rawBody}` with a signed
 * timestamp no further than `toleranceSeconds` (default 300) from `now`, either way. Any configured
 * public key may match (rotation).
 *
 * @example
 * verify(rawBody, { 'x-webhook-timestamp': '1767225600', 'x-webhook-signature': 'q1…==' }, { keys: [pem] }, new Date())
 */
export function verify(
  rawBody: Buffer,
  headers: Headers,
  settings: ProviderSettings,
  now: Date,
): VerifyResult {
  const keys = settings.keys.map(publicKeyOf).filter((key): key is KeyObject => key !== undefined);
  if (keys.length === 0) return failure('no_keys_configured');

  const signatureText = headers[SIGNATURE_HEADER];
  if (!signatureText?.trim()) return failure('missing_signature');
  const timestamp = headers[TIMESTAMP_HEADER];
  if (!timestamp) return failure('missing_timestamp');
  if (!UNIX_SECONDS.test(timestamp)) return failure('malformed_timestamp');
  // The same rule as every provider's: entries split on commas and white space (a proxy joins a
  // repeated header with commas; a rotation sends one per key), each well-formed, any one may match.
  const signatures = signatureEntries(signatureText)?.map(decodeSignature);
  if (!signatures || signatures.some((signature) => signature === undefined))
    return failure('malformed_signature');

  if (!signedRecently(Number(timestamp) * 1000, now, settings)) return failure('stale_timestamp');

  const message = signedMessage(timestamp, rawBody);
  let matched = false;
  // Every key is tried on every entry, so the time taken does not tell which (or whether any) matched.
  for (const key of keys) {
    for (const signature of signatures as Buffer[])
      matched = verifyEd25519(null, message, key, signature) || matched;
  }
  return matched ? { ok: true } : failure('bad_signature');
}

function failure(reason: AuthFailure): VerifyResult {
  return { ok: false, reason };
}

function decodeSignature(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === SIGNATURE_BYTES ? bytes : undefined;
}

const publicKeys = new Map<string, KeyObject | undefined>();

/**
 * A configured Gnosis Pay public key, parsed once per key string and cached: PEM (SPKI), or base64 of
 * the SPKI DER or of the 32-byte raw key. Undefined for anything that is not an Ed25519 public key
 * (a key that cannot be used never matches; with none usable, verify answers `no_keys_configured`).
 */
export function publicKeyOf(key: string): KeyObject | undefined {
  if (!publicKeys.has(key)) publicKeys.set(key, parsePublicKey(key));
  return publicKeys.get(key);
}

function parsePublicKey(key: string): KeyObject | undefined {
  // Keys stored in environment variables often carry their PEM line breaks as a literal "\n".
  const text = key.trim().replace(/\\n/g, '\n');
  if (text.includes('PRIVATE KEY')) return undefined;
  try {
    let parsed: KeyObject;
    if (text.startsWith('-----BEGIN')) {
      parsed = createPublicKey({ key: text, format: 'pem' });
    } else {
      const compact = text.replace(/\s+/g, '');
      if (!BASE64.test(compact)) return undefined;
      const der = Buffer.from(compact, 'base64');
      const spki = der.length === RAW_KEY_BYTES ? Buffer.concat([ED25519_SPKI_PREFIX, der]) : der;
      parsed = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    }
    return parsed.asymmetricKeyType === 'ed25519' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
