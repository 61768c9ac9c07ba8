import type { SignDelivery } from '../../core/providerModule.ts';
import type { ProviderSigner } from '../signers.ts';
import { bodyHmacFloor, bodySigner, hmacKeys, jsonObject } from '../signing.ts';
import { SIGNATURE_SCHEME } from './verify.ts';

/** Signs a delivery as APARA (TransFi) does: hex HMAC-SHA256 of the raw body in the signature header. */
export const sign: SignDelivery = bodySigner(SIGNATURE_SCHEME, 'hex');

/** APARA as a sender, for tests, the bench and `npm run send`. */
export const signer: ProviderSigner = {
  sign,
  generateKeys: hmacKeys,
  asNewEvent(body, id) {
    body.eventId = `EV-${id}`;
    body.entityId = `OR-${id}`;
    const order = jsonObject(body.order);
    if (order?.orderId !== undefined) order.orderId = `OR-${id}`;
  },
  signatureFloor: bodyHmacFloor(SIGNATURE_SCHEME),
};
