import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as signEd25519,
  timingSafeEqual,
} from 'node:crypto';
import type { SignDelivery } from '../../core/providerModule.ts';
import type { ProviderSigner } from '../signers.ts';
import {
  ASYMMETRIC,
  ID_HEADER,
  PUBLIC_KEY_PREFIX,
  SECRET_PREFIX,
  SIGNATURE_HEADER,
  SYMMETRIC,
  TIMESTAMP_HEADER,
  verifyKeys,
} from './verify.ts';

/** The sender's Ed25519 private key: `whsk_` + base64 of the 32-byte seed (or of seed and public key, 64). */
export const PRIVATE_KEY_PREFIX = 'whsk_';
/** DER header of an Ed25519 PKCS#8 private key (RFC 8410); the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 private key from `whsk_…`. */
export function privateKeyOf(key: string) {
  const seed = Buffer.from(key.slice(PRIVATE_KEY_PREFIX.length), 'base64').subarray(0, 32);
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** `whpk_…` of a `whsk_…` key: what the receiver configures. */
export function publicKeyText(privateKey: string): string {
  const der = createPublicKey(privateKeyOf(privateKey)).export({ format: 'der', type: 'spki' });
  return `${PUBLIC_KEY_PREFIX}${der.subarray(der.length - 32).toString('base64')}`;
}

/**
 * A message id standing in for the sender's: derived from the body, so sending the same sample again is a
 * retry of one message (as a sender's retry keeps its id) and a different body is a different message.
 */
export function messageIdOf(rawBody: Buffer): string {
  return `msg_${createHash('sha256').update(rawBody).digest('base64url').slice(0, 27)}`;
}

/**
 * The headers a Standard Webhooks sender sends: one signature entry per key, `v1` for each `whsec_`
 * secret, `v1a` for each `whsk_` private key (keys separated by spaces, as a sender rotating keys signs
 * with both).
 *
 * @example
 * signMessage(Buffer.from(body), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330_000))
 */
export function signMessage(rawBody: Buffer, keys: string, id: string, now: Date): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), rawBody]);
  const entries = keys
    .split(/\s+/)
    .filter(Boolean)
    .map((key) => {
      if (key.startsWith(SECRET_PREFIX)) {
        const secret = Buffer.from(key.slice(SECRET_PREFIX.length), 'base64');
        return `${SYMMETRIC},${createHmac('sha256', secret).update(signed).digest('base64')}`;
      }
      if (key.startsWith(PRIVATE_KEY_PREFIX)) {
        return `${ASYMMETRIC},${signEd25519(null, signed, privateKeyOf(key)).toString('base64')}`;
      }
      throw new Error(
        `a Standard Webhooks signing key starts with ${SECRET_PREFIX} or ${PRIVATE_KEY_PREFIX}`,
      );
    });
  return {
    'content-type': 'application/json',
    [ID_HEADER]: id,
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: entries.join(' '),
  };
}

/** Signs a delivery as a Standard Webhooks sender does, with a message id derived from the body. */
export const sign: SignDelivery = (rawBody, key, now) => signMessage(rawBody, key, messageIdOf(rawBody), now);

/** A fresh secret and key pair: the sender signs with both (`v1` and `v1a`), we hold the secret and the public key. */
function generateKeys() {
  const secret = `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
  const der = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
  const privateKey = `${PRIVATE_KEY_PREFIX}${der.subarray(der.length - 32).toString('base64')}`;
  return { signingKey: `${secret} ${privateKey}`, verifyKeys: [secret, publicKeyText(privateKey)] };
}

/** A Standard Webhooks sender, for tests, the bench and `npm run send`. */
export const signer: ProviderSigner = {
  sign,
  generateKeys,
  asNewEvent(body, id) {
    // The message id follows the body (see messageIdOf); a new entity makes it another event.
    const data = body.data;
    if (data && typeof data === 'object' && !Array.isArray(data)) (data as Record<string, unknown>).id = id;
    else body.data = { id };
  },
  signatureFloor(rawBody, headers, key) {
    const [secret] = verifyKeys([key]).secrets;
    if (!secret) throw new Error('the bench floor needs a whsec_ key first');
    const prefix = `${headers[ID_HEADER]}.${headers[TIMESTAMP_HEADER]}.`;
    const entry =
      (headers[SIGNATURE_HEADER] ?? '').split(' ').find((e) => e.startsWith(`${SYMMETRIC},`)) ?? '';
    const signature = Buffer.from(entry.slice(SYMMETRIC.length + 1), 'base64');
    return () => {
      const ok = timingSafeEqual(
        createHmac('sha256', secret).update(prefix).update(rawBody).digest(),
        signature,
      );
      return JSON.parse(rawBody.toString('utf8')) !== undefined && ok;
    };
  },
};
