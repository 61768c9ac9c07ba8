import type { SignDelivery } from '../../core/providerModule.ts';
import { bodySigner } from '../hmacSignature.ts';
import { SIGNATURE_SCHEME } from './verify.ts';

/** Signs a delivery as Coinme does, hex-encoded: HMAC-SHA256 of the raw body in the signature header. */
export const sign: SignDelivery = bodySigner(SIGNATURE_SCHEME, 'hex');

/** The same signature base64-encoded, the other encoding a Coinme partner may choose. */
export const signBase64: SignDelivery = bodySigner(SIGNATURE_SCHEME, 'base64');
