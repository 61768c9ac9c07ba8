import { type BodySignatureScheme, bodySignatureVerifier } from '../hmacSignature.ts';

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
export const verify = bodySignatureVerifier(SIGNATURE_SCHEME);
