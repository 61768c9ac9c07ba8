import {
  createHmac,
  createPublicKey,
  type KeyObject,
  timingSafeEqual,
  verify as verifyEd25519,
} from 'node:crypto';
import type { AuthFailure, Headers, ProviderSettings, VerifyResult } from '../../core/providerModule.ts';
import { DEFAULT_TOLERANCE_SECONDS } from '../../core/signatureWindow.ts';
import { isBase64Of } from '../hmacSignature.ts';

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
const MESSAGE_ID = /^[\x21-\x7e]+$/;
const MAX_MESSAGE_ID_LENGTH = 256;
const UNIX_SECONDS = /^\d+$/;
const MAX_UNIX_SECONDS_LENGTH = 12;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** A signature version: `v1`, `v1a`, and whatever later versions the spec adds. */
const VERSION = /^v\d+[a-z]*$/;
const SEPARATORS = /[\s,]+/;
/** 32 bytes: 43 base64 digits and one `=` or nothing (see `isBase64Of`). */
const HMAC_BASE64 = /^[A-Za-z0-9+/]+=?$/;
const HMAC_DIGITS = 43;
/** 64 bytes: 86 base64 digits and `==` or nothing. */
const ED25519_BASE64 = /^[A-Za-z0-9+/]+(?:==)?$/;
const ED25519_DIGITS = 86;
/** DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32-byte raw key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

interface VerifyKeys {
  readonly secrets: readonly Buffer[];
  readonly publicKeys: readonly KeyObject[];
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
  if (id.length > MAX_MESSAGE_ID_LENGTH || !MESSAGE_ID.test(id)) return failure('malformed_id');
  const timestamp = headers[TIMESTAMP_HEADER];
  if (!timestamp) return failure('missing_timestamp');
  if (timestamp.length > MAX_UNIX_SECONDS_LENGTH || !UNIX_SECONDS.test(timestamp))
    return failure('malformed_timestamp');
  const header = headers[SIGNATURE_HEADER]?.trim();
  if (!header) return failure('missing_signature');

  const signatures = signaturesOf(header);
  if (typeof signatures === 'string') return failure(signatures);
  const { hmacs: hmacSignatures, ed25519s: ed25519Signatures } = signatures;
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
        ed25519Signatures.map((signature) => Buffer.from(signature, 'base64')),
        Buffer.concat([Buffer.from(prefix, 'utf8'), rawBody]),
      ));
  if (!matched) return failure('bad_signature');

  const skewMs = now.getTime() - Number(timestamp) * 1000;
  const toleranceMs = (settings.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000;
  if (skewMs > toleranceMs) return failure('stale_timestamp');
  if (-skewMs > toleranceMs) return failure('future_timestamp');
  return { ok: true };
}

/** The decoded signatures of a header, by the versions we check. */
interface Signatures {
  hmacs: Buffer[];
  /** Base64, decoded only when no HMAC entry matched. */
  ed25519s: string[];
}

/**
 * The `version,value` entries of a signature header, decoded: separated by white space (the spec), or
 * by the comma an HTTP layer puts between repeated headers (`v1,a, v1,b`). Entries of versions we do
 * not know are skipped (the spec lets senders add them). `malformed_signature` when an entry has no
 * version or no value, there are more than MAX_SIGNATURES, or a `v1` / `v1a` entry does not decode;
 * `unknown_signature_version` when no entry is `v1` or `v1a`.
 */
function signaturesOf(header: string): Signatures | AuthFailure {
  const parts = header.split(SEPARATORS);
  // The header is trimmed: only a comma at either end leaves an empty part.
  const first = parts[0] === '' ? 1 : 0;
  const end = parts[parts.length - 1] === '' ? parts.length - 1 : parts.length;
  const count = end - first;
  if (count % 2 !== 0 || count / 2 > MAX_SIGNATURES) return 'malformed_signature';
  for (let i = first; i < end; i += 2) {
    const version = parts[i] as string;
    if (version !== SYMMETRIC && version !== ASYMMETRIC && !VERSION.test(version))
      return 'malformed_signature';
  }
  const signatures: Signatures = { hmacs: [], ed25519s: [] };
  let known = false;
  let malformed = false;
  for (let i = first; i < end; i += 2) {
    const version = parts[i] as string;
    const value = parts[i + 1] as string;
    if (version === SYMMETRIC) {
      known = true;
      if (isBase64Of(value, HMAC_DIGITS, 1, HMAC_BASE64)) signatures.hmacs.push(Buffer.from(value, 'base64'));
      else malformed = true;
    } else if (version === ASYMMETRIC) {
      known = true;
      if (isBase64Of(value, ED25519_DIGITS, 2, ED25519_BASE64)) signatures.ed25519s.push(value);
      else malformed = true;
    }
  }
  if (!known) return 'unknown_signature_version';
  return malformed ? 'malformed_signature' : signatures;
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
/** The last configured key list and its keys: a deployment verifies with one list (until a reload). */
let lastConfigured: readonly string[] = [];
let lastKeys: VerifyKeys = { secrets: [], publicKeys: [] };

/**
 * The configured keys, each parsed once and cached: `whsec_…` secrets and `whpk_…` public keys. Anything
 * else (a `whsk_` private key, which only the sender should hold, an unprefixed or empty key) is never
 * used; with none usable, verify answers `no_keys_configured`.
 */
export function verifyKeys(configured: readonly string[]): VerifyKeys {
  if (sameKeys(configured, lastConfigured)) return lastKeys;
  const keys = { secrets: [] as Buffer[], publicKeys: [] as KeyObject[] };
  for (const text of configured) {
    if (!parsedKeys.has(text)) parsedKeys.set(text, parseKey(text.trim()));
    const key = parsedKeys.get(text);
    if (Buffer.isBuffer(key)) keys.secrets.push(key);
    else if (key) keys.publicKeys.push(key);
  }
  // A copy: a caller changing its list in place must not find the keys of the old one.
  lastConfigured = [...configured];
  lastKeys = keys;
  return keys;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
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
