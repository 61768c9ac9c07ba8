import type { Headers, ProviderSettings, VerifyResult } from '../../core/providerModule.ts';
import { type BodySignatureScheme, verifyBodySignature } from '../hmacSignature.ts';

/**
 * APARA publishes no signature scheme; their pages match TransFi's, who send hex HMAC-SHA256 of the raw
 * body in `X-Transfi-Hmac-Hash`. The header name is configurable (`settings.signatureHeader`). No timestamp
 * is signed, so there is no freshness check.
 */
export const SIGNATURE_SCHEME: BodySignatureScheme = {
  defaultHeader: 'x-transfi-hmac-hash',
  encodings: ['hex'],
};

/**
 * @example
 * verify(rawBody, headers, { keys: ['secret'] }, new Date()) // { ok: true }
 */
export function verify(
  rawBody: Buffer,
  headers: Headers,
  settings: ProviderSettings,
  _now: Date,
): VerifyResult {
  return verifyBodySignature(SIGNATURE_SCHEME, rawBody, headers, settings);
}
