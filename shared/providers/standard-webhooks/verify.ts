import {
  createHmac,
  createPublicKey,
  type KeyObject,
  timingSafeEqual,
  verify as verifyEd25519,
} from 'node:crypto';
import type { AuthFailure, Headers, ProviderSettings, VerifyResult } from '../../core/providerModule.ts';
import { DEFAULT_TOLERANCE_SECONDS } from '../../core/signatureWindow.ts';

/** The delivery's id: the same on every retry of one message, and our dedupe key. */
export const ID_HEADER = 'webhook-id';
/** Unix seconds of the attempt. */
export const TIMESTAMP_HEADER = 'webhook-timestamp';
/** Space-separated `v1,<base64 HMAC-SHA256>` and `v1a,<base64 Ed25519>` entries. */
export const SIGNATURE_HEADER = 'webhook-signature';

/** HMAC-SHA256 with a shared secret (`whsec_` + base64 of 24 to 64 random bytes). */
export const SYMMETRIC = 'v1';
/** Ed25519; we hold the sender's public key (`whpk_` + base64 of its 32 bytes). */
export const ASYMMETRIC = 'v1a';
export const SECRET_PREFIX = 'whsec_';
export const PUBLIC_KEY_PREFIX = 'whpk_';

/** More entries than a sender rotating keys sends (two or three): refused before any crypto. */
const MAX_SIGNATURES = 8;
/** Printable ASCII without spaces, as message ids are (`msg_…`), short enough for a table key. */
const MESSAGE_ID = /^[\x21-\x7e]{1,256}$/;
const UNIX_SECONDS = /^\d{1,12}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** A signature version: `v1`, `v1a`, and whatever later versions the spec adds. */
const VERSION = /^v\d+[a-z]*$/;
const HMAC_BASE64 = /^[A-Za-z0-9+/]{43}=?$/;
const ED25519_BASE64 = /^[A-Za-z0-9+/]{86}(==)?$/;
/** DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32-byte raw key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

interface VerifyKeys {
  secrets: Buffer[];
  publicKeys: KeyObject[];
}

/**
 * Standard Webhooks' authentication (spec 1.0.0): a signature over `{webhook-id}.{webhook-timestamp}.{body}`,
 * any valid entry of `webhook-signature` passing: `v1` entries against every configured `whsec_` secret,
 * `v1a` entries against every configured `whpk_` public key. Entries of other versions are skipped. The
 * signature is checked before the clock, so `stale_timestamp` / `future_timestamp` always mean a genuine
 * delivery outside the window (`toleranceSeconds`, default 5 minutes, each way), and `bad_signature` a
 * forgery, a tampered id, timestamp or body, or a key we do not hold (these cannot be told apart).
 *
 * @example
 * verify(rawBody, { 'webhook-id': 'msg_…', 'webhook-timestamp': '1674087231', 'webhook-signature': 'v1,K5o…' },
 *   { keys: ['whsec_…'] }, new Date())
 */
export function verify(
  rawBody: Buffer,
  headers: Headers,
  settings: ProviderSettings,
  now: Date,
): VerifyResult {
  const keys = verifyKeys(settings.keys);
  if (keys.secrets.length === 0 && keys.publicKeys.length === 0) return failure('no_keys_configured');

  const id = headers[ID_HEADER];
  if (!id) return failure('missing_id');
  if (!MESSAGE_ID.test(id)) return failure('malformed_id');
  const timestamp = headers[TIMESTAMP_HEADER];
  if (!timestamp) return failure('missing_timestamp');
  if (!UNIX_SECONDS.test(timestamp)) return failure('malformed_timestamp');
  const header = headers[SIGNATURE_HEADER]?.trim();
  if (!header) return failure('missing_signature');

  const versioned = signatureEntries(header);
  if (!versioned) return failure('malformed_signature');
  const hmacs = versioned.filter((e) => e.version === SYMMETRIC);
  const ed25519s = versioned.filter((e) => e.version === ASYMMETRIC);
  if (hmacs.length + ed25519s.length === 0) return failure('unknown_signature_version');
  // One rule for every provider: each entry of a version we check must be well formed.
  if (!hmacs.every((e) => HMAC_BASE64.test(e.value)) || !ed25519s.every((e) => ED25519_BASE64.test(e.value)))
    return failure('malformed_signature');
  const hmacSignatures = hmacs.map((e) => Buffer.from(e.value, 'base64'));
  const ed25519Signatures = ed25519s.map((e) => Buffer.from(e.value, 'base64'));
  const checkHmac = hmacSignatures.length > 0 && keys.secrets.length > 0;
  const checkEd25519 = ed25519Signatures.length > 0 && keys.publicKeys.length > 0;
  if (!checkHmac && !checkEd25519) return failure('no_key_for_version');

  const prefix = `${id}.${timestamp}.`;
  // HMAC first (microseconds); Ed25519 (tens of microseconds) only when no HMAC entry matched. The
  // HMAC reads the prefix and the body in turn; only Ed25519 needs them as one buffer.
  const matched =
    (checkHmac && anySecretSigned(keys.secrets, hmacSignatures, prefix, rawBody)) ||
    (checkEd25519 &&
      anyPublicKeySigned(
        keys.publicKeys,
        ed25519Signatures,
        Buffer.concat([Buffer.from(prefix, 'utf8'), rawBody]),
      ));
  if (!matched) return failure('bad_signature');

  const skewMs = now.getTime() - Number(timestamp) * 1000;
  const toleranceMs = (settings.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000;
  if (skewMs > toleranceMs) return failure('stale_timestamp');
  if (-skewMs > toleranceMs) return failure('future_timestamp');
  return { ok: true };
}

/**
 * The `version,value` entries of a signature header: separated by white space (the spec), or by the
 * comma an HTTP layer puts between repeated headers (`v1,a, v1,b`). Undefined when an entry has no
 * version or no value, or there are more than MAX_SIGNATURES. Versions we do not know are kept (and
 * skipped by the caller): the spec lets senders add them.
 */
function signatureEntries(header: string): { version: string; value: string }[] | undefined {
  const parts = header.split(/[\s,]+/).filter(Boolean);
  if (parts.length % 2 !== 0 || parts.length / 2 > MAX_SIGNATURES) return undefined;
  const entries: { version: string; value: string }[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const version = parts[i] ?? '';
    if (!VERSION.test(version)) return undefined;
    entries.push({ version, value: parts[i + 1] ?? '' });
  }
  return entries;
}

function failure(reason: AuthFailure): VerifyResult {
  return { ok: false, reason };
}

/** Every secret against every entry, each compare in constant time. */
function anySecretSigned(
  secrets: readonly Buffer[],
  signatures: readonly Buffer[],
  prefix: string,
  rawBody: Buffer,
): boolean {
  let matched = false;
  for (const secret of secrets) {
    const mac = createHmac('sha256', secret).update(prefix, 'utf8').update(rawBody).digest();
    for (const signature of signatures) matched = timingSafeEqual(mac, signature) || matched;
  }
  return matched;
}

function anyPublicKeySigned(
  keys: readonly KeyObject[],
  signatures: readonly Buffer[],
  signed: Buffer,
): boolean {
  let matched = false;
  for (const key of keys) {
    for (const signature of signatures) matched = verifyEd25519(null, signed, key, signature) || matched;
  }
  return matched;
}

const parsedKeys = new Map<string, Buffer | KeyObject | undefined>();

/**
 * The configured keys, each parsed once and cached: `whsec_…` secrets and `whpk_…` public keys. Anything
 * else (a `whsk_` private key, which only the sender should hold, an unprefixed or empty key) is never
 * used; with none usable, verify answers `no_keys_configured`.
 */
export function verifyKeys(configured: readonly string[]): VerifyKeys {
  const keys: VerifyKeys = { secrets: [], publicKeys: [] };
  for (const text of configured) {
    if (!parsedKeys.has(text)) parsedKeys.set(text, parseKey(text.trim()));
    const key = parsedKeys.get(text);
    if (Buffer.isBuffer(key)) keys.secrets.push(key);
    else if (key) keys.publicKeys.push(key);
  }
  return keys;
}

function parseKey(text: string): Buffer | KeyObject | undefined {
  if (text.startsWith(SECRET_PREFIX)) {
    const secret = base64Bytes(text.slice(SECRET_PREFIX.length));
    return secret && secret.length > 0 ? secret : undefined;
  }
  if (text.startsWith(PUBLIC_KEY_PREFIX)) {
    const raw = base64Bytes(text.slice(PUBLIC_KEY_PREFIX.length));
    if (raw?.length !== 32) return undefined;
    try {
      return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function base64Bytes(text: string): Buffer | undefined {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}
