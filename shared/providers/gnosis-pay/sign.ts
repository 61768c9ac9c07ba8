import { createPrivateKey, sign as signEd25519, verify as verifyEd25519 } from 'node:crypto';
import type { SignDelivery } from '../../core/providerModule.ts';
import type { JsonObject, ProviderSigner } from '../signers.ts';
import { ed25519Keys } from '../signing.ts';
import { publicKeyOf, SIGNATURE_HEADER, signedMessage, TIMESTAMP_HEADER } from './verify.ts';

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

/** Gnosis Pay as a sender, for tests, the bench and `npm run send`. */
export const signer: ProviderSigner = {
  sign,
  generateKeys: ed25519Keys,
  asNewEvent(body, id) {
    // v2 envelopes carry an id; v1 events are keyed by their content, so a new entity changes the key.
    if (body.id !== undefined) body.id = id;
    const data = body.data as JsonObject | undefined;
    const event = data?.event as JsonObject | undefined;
    if (event?.threadId !== undefined) event.threadId = `thread_${id}`;
    else if (data) data.userId = `user_${id}`;
  },
  signatureFloor(rawBody, headers, key) {
    const publicKey = publicKeyOf(key);
    if (!publicKey) throw new Error('gnosis-pay key did not parse');
    const timestamp = headers[TIMESTAMP_HEADER] ?? '';
    const signature = Buffer.from(headers[SIGNATURE_HEADER] ?? '', 'base64');
    return () => {
      const ok = verifyEd25519(null, signedMessage(timestamp, rawBody), publicKey, signature);
      return JSON.parse(rawBody.toString('utf8')) !== undefined && ok;
    };
  },
};
