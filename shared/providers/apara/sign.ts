import type { SignDelivery } from '../../core/providerModule.ts';
import { bodySigner } from '../hmacSignature.ts';
import { SIGNATURE_SCHEME } from './verify.ts';

/** Signs a delivery as APARA (TransFi) does: hex HMAC-SHA256 of the raw body in the signature header. */
export const sign: SignDelivery = bodySigner(SIGNATURE_SCHEME, 'hex');
