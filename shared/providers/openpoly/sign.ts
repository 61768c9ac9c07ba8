import { hmacSha256 } from '../../core/constantTime.ts';
import { parseJson } from '../../core/losslessJson.ts';
import type { SignDelivery } from '../../core/providerModule.ts';
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
