import { createHmac, timingSafeEqual } from 'node:crypto';
import { hmacSha256 } from '../../core/constantTime.ts';
import { LosslessNumber, parseJson } from '../../core/losslessJson.ts';
import type { SignDelivery } from '../../core/providerModule.ts';
import type { JsonObject, ProviderSigner } from '../signers.ts';
import { hmacKeys } from '../signing.ts';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, SIGNATURE_VERSION, TIMESTAMP_HEADER } from './verify.ts';

/**
 * Signs a delivery as OpenPoly does: ISO-8601 timestamp, `v1=` hex HMAC-SHA256 of `{timestamp}.{body}`,
 * and the body's `event_id` repeated in `X-Polynion-Event-Id` (left out when the body has none).
 *
 * @example
 * const headers = sign(Buffer.from(body), 'whsec_test', new Date());
 */
export const sign: SignDelivery = (rawBody, key, now) => {
  const timestamp = now.toISOString();
  const signature = hmacSha256(key, timestamp, '.', rawBody).toString('hex');
  const eventId = eventIdOf(rawBody);
  return {
    'content-type': 'application/json',
    ...(eventId === undefined ? {} : { [EVENT_ID_HEADER]: eventId }),
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: `${SIGNATURE_VERSION}=${signature}`,
  };
};

function eventIdOf(rawBody: Buffer): string | undefined {
  try {
    const body = parseJson(rawBody.toString('utf8')) as { event_id?: unknown } | null;
    return typeof body?.event_id === 'string' ? body.event_id : undefined;
  } catch {
    return undefined;
  }
}

/** A stable number for an id: OpenPoly's order ids are numbers. */
function numericId(id: string): number {
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) % 1_000_000_007;
  return hash;
}

/** OpenPoly as a sender, for tests, the bench and `npm run send`. */
export const signer: ProviderSigner = {
  sign,
  generateKeys: hmacKeys,
  asNewEvent(body, id) {
    body.event_id = `evt_${id}`;
    const data = body.data as JsonObject | undefined;
    if (data?.order_id !== undefined) data.order_id = new LosslessNumber(String(numericId(id)));
  },
  signatureFloor(rawBody, headers, key) {
    const prefix = `${headers[TIMESTAMP_HEADER] ?? ''}.`;
    const signature = Buffer.from((headers[SIGNATURE_HEADER] ?? '').replace(/^v1=/, ''), 'hex');
    return () => {
      const ok = timingSafeEqual(
        createHmac('sha256', key).update(prefix).update(rawBody).digest(),
        signature,
      );
      return JSON.parse(rawBody.toString('utf8')) !== undefined && ok;
    };
  },
};
