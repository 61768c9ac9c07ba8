import { createHmac } from 'node:crypto';
import { equalBytes } from '../core/constantTime.ts';
import type { Headers, ProviderModule, ProviderSettings, VerifyResult } from '../core/providerModule.ts';

/** How a provider writes an HMAC-SHA256 signature (32 bytes) in a header. */
export type SignatureEncoding = 'hex' | 'base64';

const HEX_SHA256_LENGTH = 64;
const SHA256_BYTES = 32;
/** Base64 digits of 32 bytes: 43, then one `=` or nothing. */
const BASE64_SHA256_DIGITS = 43;
// Standard or URL-safe alphabet, padding optional (see `isBase64Of`).
const BASE64_SHA256 = /^[A-Za-z0-9+/_-]+=?$/;
const EQUALS = 0x3d;
/** Most entries one signature header may carry: a provider rotating secrets sends two or three. */
const MAX_SIGNATURES = 8;
/** What separates the entries of a signature header. */
const SEPARATOR = /[\s,]/;
const SEPARATORS = /[\s,]+/;

/**
 * Decodes one HMAC-SHA256 signature in one of the allowed encodings. The encoding is told by the format:
 * 64 hex digits or 43 base64 characters (plus padding) never overlap, so a hex signature is never read
 * as base64. Returns undefined for anything else.
 *
 * @example
 * decodeSignature('9f86d0…', ['hex', 'base64']) // 32 bytes
 */
export function decodeSignature(text: string, encodings: readonly SignatureEncoding[]): Buffer | undefined {
  if (text.length === HEX_SHA256_LENGTH && encodings.includes('hex')) return hexSha256(text);
  if (encodings.includes('base64') && isBase64Of(text, BASE64_SHA256_DIGITS, 1, BASE64_SHA256))
    return Buffer.from(text, 'base64');
  return undefined;
}

/**
 * Whether `text` is exactly `digits` base64 digits followed by `padding` `=` signs or by nothing, as
 * `/^[alphabet]{digits}(?:={padding})?$/` answers: `pattern` is `/^[alphabet]+(?:={padding})?$/`,
 * and the length says the rest. A counted repetition takes V8's regexp engine about three times as long.
 *
 * @example
 * isBase64Of(value, 86, 2, /^[A-Za-z0-9+/]+(?:==)?$/) // an Ed25519 signature, padded or not
 */
export function isBase64Of(text: string, digits: number, padding: number, pattern: RegExp): boolean {
  const last = text.charCodeAt(text.length - 1);
  if (text.length === digits) return last !== EQUALS && pattern.test(text);
  return text.length === digits + padding && last === EQUALS && pattern.test(text);
}

/** Hex digits only (the length is checked apart: a counted repetition is slower in V8's engine). */
const HEX_DIGITS = /^[0-9a-f]+$/i;

/**
 * 64 hex digits (either case) as 32 bytes, else undefined. The digits are checked first:
 * `Buffer.from(…, 'hex')` reads only the low byte of each character, so `ｄ` (U+FF44) would decode as `d`.
 */
function hexSha256(text: string): Buffer | undefined {
  if (!HEX_DIGITS.test(text)) return undefined;
  const bytes = Buffer.from(text, 'hex');
  return bytes.length === SHA256_BYTES ? bytes : undefined;
}

/**
 * The entries of a signature header, split on commas and white space (a provider may send one signature
 * per active secret; a proxy may merge repeated headers with commas). Undefined when empty or too many.
 */
export function signatureEntries(header: string | undefined): string[] | undefined {
  if (!header) return undefined;
  // The common case, one entry and nothing around it, without splitting.
  if (!SEPARATOR.test(header)) return [header];
  const entries = header.split(SEPARATORS).filter(Boolean);
  return entries.length > 0 && entries.length <= MAX_SIGNATURES ? entries : undefined;
}

/** The configured secrets that can sign: an empty string would let anyone compute the signature. */
export function activeKeys(settings: ProviderSettings): readonly string[] {
  const { keys } = settings;
  for (let i = 0; i < keys.length; i += 1) {
    if ((keys[i] as string).length === 0) return keys.filter((key) => key.length > 0);
  }
  return keys;
}

/**
 * True when any key signs `prefix` then `rawBody` to any of the signatures. Every key is tried against
 * every signature with a constant-time compare, so the time taken tells neither which key nor which
 * entry matched.
 */
export function anyKeySigned(
  keys: readonly string[],
  signatures: readonly Uint8Array[],
  rawBody: Buffer,
  prefix?: string,
): boolean {
  let matched = false;
  for (let k = 0; k < keys.length; k += 1) {
    const mac = createHmac('sha256', keys[k] as string);
    if (prefix !== undefined) mac.update(prefix);
    const digest = mac.update(rawBody).digest();
    for (let s = 0; s < signatures.length; s += 1)
      matched = equalBytes(digest, signatures[s] as Uint8Array) || matched;
  }
  return matched;
}

/** A provider that signs the raw body alone, in a header the receiver may rename (APARA, Coinme). */
export interface BodySignatureScheme {
  /** Header name used when the deployment does not configure one; lower case. */
  defaultHeader: string;
  /** Encodings the provider may use; several are told apart by format. */
  encodings: readonly SignatureEncoding[];
}

function headerName(
  scheme: BodySignatureScheme,
  settings?: Pick<ProviderSettings, 'signatureHeader'>,
): string {
  const configured = settings?.signatureHeader;
  return configured === undefined
    ? scheme.defaultHeader
    : (configured.trim() || scheme.defaultHeader).toLowerCase();
}

/**
 * Verifies an HMAC-SHA256 of the raw body against every configured key. No timestamp is signed by these
 * schemes, so a captured delivery can be replayed: the dedupe key absorbs that while the store remembers it.
 */
export function verifyBodySignature(
  scheme: BodySignatureScheme,
  rawBody: Buffer,
  headers: Headers,
  settings: ProviderSettings,
): VerifyResult {
  const keys = activeKeys(settings);
  if (keys.length === 0) return { ok: false, reason: 'no_keys_configured' };
  const header = headers[headerName(scheme, settings)];
  if (!header?.trim()) return { ok: false, reason: 'missing_signature' };
  const signatures = decodedSignatures(header, scheme.encodings);
  if (!signatures) return { ok: false, reason: 'malformed_signature' };
  return anyKeySigned(keys, signatures, rawBody) ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

/** Every entry of the header decoded, or undefined when there are none, too many, or one is malformed. */
function decodedSignatures(header: string, encodings: readonly SignatureEncoding[]): Buffer[] | undefined {
  const entries = signatureEntries(header);
  if (!entries) return undefined;
  const signatures: Buffer[] = [];
  for (let i = 0; i < entries.length; i += 1) {
    const signature = decodeSignature(entries[i] as string, encodings);
    if (!signature) return undefined;
    signatures.push(signature);
  }
  return signatures;
}

/** The `verify` of a provider that signs the raw body alone (APARA, Coinme). */
export function bodySignatureVerifier(scheme: BodySignatureScheme): ProviderModule['verify'] {
  return (rawBody, headers, settings) => verifyBodySignature(scheme, rawBody, headers, settings);
}
