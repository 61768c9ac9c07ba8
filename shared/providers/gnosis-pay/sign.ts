import { createPrivateKey, sign as signEd25519 } from 'node:crypto';
import type { SignDelivery } from '../../core/providerModule.ts';
import { SIGNATURE_HEADER, signedMessage, TIMESTAMP_HEADER } from './verify.ts';

/**
 * Signs a delivery as Gnosis Pay does: Ed25519 (private key as PKCS#8 PEM) over
 * `${unixSeconds}.${rawBody}`, base64 signature. For tests and the local sample sender only.
 *
 * @example
 * const headers = sign(Buffer.from(body), privateKeyPem, new Date());
 */
export const sign: SignDelivery = (rawBody, key, now) => {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = signEd25519(null, signedMessage(timestamp, rawBody), createPrivateKey(key));
  return {
    'content-type': 'application/json',
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signature.toString('base64'),
  };
};
