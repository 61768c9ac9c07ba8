import { type BodySignatureScheme, bodySignatureVerifier } from '../hmacSignature.ts';

/**
 * Coinme signs the raw body with HMAC-SHA256 (a secret the partner chooses) and sends it hex or base64
 * encoded in `X-Coinme-Signature`, a name the partner may change (`settings.signatureHeader`). Both
 * encodings are accepted, told apart by format. No signed timestamp is published: no freshness check.
 */
export const SIGNATURE_SCHEME: BodySignatureScheme = {
  defaultHeader: 'x-coinme-signature',
  encodings: ['hex', 'base64'],
};

/**
 * @example
 * verify(rawBody, headers, { keys: ['a-secret-of-32-or-more-characters'] }, new Date()) // { ok: true }
 */
export const verify = bodySignatureVerifier(SIGNATURE_SCHEME);
