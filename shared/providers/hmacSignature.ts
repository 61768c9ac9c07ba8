import { equalBytes, hmacSha256 } from '../core/constantTime.ts';
import type { Headers, ProviderModule, ProviderSettings, VerifyResult } from '../core/providerModule.ts';

/** How a provider writes an HMAC-SHA256 signature (32 bytes) in a header. */
export type SignatureEncoding = 'hex' | 'base64';

const HEX_SHA256 = /^[0-9a-f]{64}$/i;
// Standard or URL-safe alphabet, padding optional: 43 characters carry 32 bytes.
const BASE64_SHA256 = /^[A-Za-z0-9+/_-]{43}=?$/;
/** Most entries one signature header may carry: a provider rotating secrets sends two or three. */
const MAX_SIGNATURES = 8;

/**
 * Decodes one HMAC-SHA256 signature in one of the allowed encodings. The encoding is told by the format:
 * 64 hex digits or 43 base64 characters (plus padding) never overlap, so a hex signature is never read
 * as base64. Returns undefined for anything else.
 *
 * @example
 * decodeSignature('9f86d0…', ['hex', 'base64']) // 32 bytes
 */
export function decodeSignature(text: string, encodings: readonly SignatureEncoding[]): Buffer | undefined {
  if (encodings.includes('hex') && HEX_SHA256.test(text)) return Buffer.from(text, 'hex');
  if (encodings.includes('base64') && BASE64_SHA256.test(text)) return Buffer.from(text, 'base64');
  return undefined;
}

/**
 * The entries of a signature header, split on commas and white space (a provider may send one signature
 * per active secret; a proxy may merge repeated headers with commas). Undefined when empty or too many.
 */
export function signatureEntries(header: string | undefined): string[] | undefined {
  const entries = (header ?? '').split(/[\s,]+/).filter(Boolean);
  return entries.length > 0 && entries.length <= MAX_SIGNATURES ? entries : undefined;
}

/** The configured secrets that can sign: an empty string would let anyone compute the signature. */
export function activeKeys(settings: ProviderSettings): string[] {
  return settings.keys.filter((key) => key.length > 0);
}

/**
 * True when any key signs `parts` to any of the signatures. Every key is tried against every signature
 * with a constant-time compare, so the time taken tells neither which key nor which entry matched.
 */
export function anyKeySigned(
  keys: readonly string[],
  signatures: readonly Uint8Array[],
  ...parts: (string | Uint8Array)[]
): boolean {
  let matched = false;
  for (const key of keys) {
    const mac = hmacSha256(key, ...parts);
    for (const signature of signatures) matched = equalBytes(mac, signature) || matched;
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
  return (settings?.signatureHeader?.trim() || scheme.defaultHeader).toLowerCase();
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
  const signatures = signatureEntries(header)?.map((entry) => decodeSignature(entry, scheme.encodings));
  if (!signatures || signatures.some((signature) => signature === undefined)) {
    return { ok: false, reason: 'malformed_signature' };
  }
  return anyKeySigned(keys, signatures as Buffer[], rawBody)
    ? { ok: true }
    : { ok: false, reason: 'bad_signature' };
}

/** The `verify` of a provider that signs the raw body alone (APARA, Coinme). */
export function bodySignatureVerifier(scheme: BodySignatureScheme): ProviderModule['verify'] {
  return (rawBody, headers, settings) => verifyBodySignature(scheme, rawBody, headers, settings);
}
