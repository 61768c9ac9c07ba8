import type { SignDelivery } from '../../core/providerModule.ts';
import type { ProviderSigner } from '../signers.ts';
import { bodyHmacFloor, bodySigner, hmacKeys, jsonObject } from '../signing.ts';
import { SIGNATURE_SCHEME } from './verify.ts';

/** Signs a delivery as Coinme does, hex-encoded: HMAC-SHA256 of the raw body in the signature header. */
export const sign: SignDelivery = bodySigner(SIGNATURE_SCHEME, 'hex');

/** The same signature base64-encoded, the other encoding a Coinme partner may choose. */
export const signBase64: SignDelivery = bodySigner(SIGNATURE_SCHEME, 'base64');

/** Coinme as a sender, for tests, the bench and `npm run send`. */
export const signer: ProviderSigner = {
  sign,
  generateKeys: hmacKeys,
  asNewEvent(body, id) {
    body.id = id;
    const data = jsonObject(body.data);
    if (data?.orderTemplateId !== undefined) data.orderTemplateId = id;
    if (data?.transactionId !== undefined) data.transactionId = id;
  },
  signatureFloor: bodyHmacFloor(SIGNATURE_SCHEME),
};
