/**
 * What several providers' signers share (`<name>/sign.ts`): key generation and the body-HMAC signer.
 * Sender-side code for tests, the bench and `npm run send`; no Lambda imports it.
 */
import { createHmac, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { hmacSha256 } from '../core/constantTime.ts';
import type { SignDelivery } from '../core/providerModule.ts';
import { type BodySignatureScheme, decodeSignature, type SignatureEncoding } from './hmacSignature.ts';
import type { JsonObject, ProviderKeys } from './signers.ts';

/** A random shared secret (both sides hold it), `whsec_`-prefixed like most providers' dashboards show. */
export function hmacKeys(): ProviderKeys {
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  return { signingKey: secret, verifyKeys: [secret] };
}

/** An Ed25519 key pair standing in for the provider's: PKCS#8 PEM to sign, SPKI PEM to verify. */
export function ed25519Keys(): ProviderKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    signingKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    verifyKeys: [publicKey.export({ type: 'spki', format: 'pem' }).toString()],
  };
}

/**
 * A `SignDelivery` for a body-HMAC scheme (APARA, Coinme), writing the signature in the given encoding
 * under the configured header, or the scheme's default.
 *
 * @example
 * export const sign = bodySigner({ defaultHeader: 'x-coinme-signature', encodings: ['hex', 'base64'] }, 'hex');
 */
export function bodySigner(scheme: BodySignatureScheme, encoding: SignatureEncoding): SignDelivery {
  return function signBody(rawBody, key, _now, settings) {
    const header = (settings?.signatureHeader?.trim() || scheme.defaultHeader).toLowerCase();
    return { 'content-type': 'application/json', [header]: hmacSha256(key, rawBody).toString(encoding) };
  };
}

/**
 * The bench floor of a body-HMAC scheme: one HMAC-SHA256 of the body, a constant-time compare with the
 * header's signature, and `JSON.parse`.
 */
export function bodyHmacFloor(scheme: BodySignatureScheme) {
  return (rawBody: Buffer, headers: Readonly<Record<string, string>>, key: string): (() => boolean) => {
    const signature =
      decodeSignature(headers[scheme.defaultHeader] ?? '', scheme.encodings) ?? Buffer.alloc(32);
    return () => {
      const ok = timingSafeEqual(createHmac('sha256', key).update(rawBody).digest(), signature);
      return JSON.parse(rawBody.toString('utf8')) !== undefined && ok;
    };
  };
}

/** The value as a JSON object, or undefined: for reaching into a sample's nested fields. */
export function jsonObject(value: unknown): JsonObject | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}
