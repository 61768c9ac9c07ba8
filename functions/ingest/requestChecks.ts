import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { MAX_BODY_BYTES } from '../../shared/core/bounds.ts';
import { answer } from './answers.ts';

/** Bodies above this are refused (413) before anything else is done with them. */
export { MAX_BODY_BYTES };

export interface CheckedRequest {
  rawBody: Buffer;
  headers: Record<string, string>;
}

/** The Lambda context once the request passed its checks. */
export type CheckedContext = Context & { checked: CheckedRequest };

type Middleware = middy.MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  CheckedContext
>;

/**
 * Method, size and body decoding, before any work is spent on a request. Puts the raw bytes and
 * lower-cased headers on `context.checked`; answers 405 / 413 itself.
 */
export function requestChecks(): Middleware {
  const requestChecksBefore: NonNullable<Middleware['before']> = (request) => {
    const { event } = request;
    if (event.requestContext?.http?.method !== 'POST') {
      return answer(405, { status: 'rejected', reason: 'only POST is accepted' }, { allow: 'POST' });
    }
    const body = event.body ?? '';
    const decodedLength = event.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body);
    if (decodedLength > MAX_BODY_BYTES + 2) return tooLarge();
    const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
    if (rawBody.length > MAX_BODY_BYTES) return tooLarge();

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      if (value !== undefined) headers[name.toLowerCase()] = value;
    }
    request.context.checked = { rawBody, headers };
    return undefined;
  };
  return { before: requestChecksBefore };
}

function tooLarge(): APIGatewayProxyStructuredResultV2 {
  return answer(413, { status: 'rejected', reason: `body larger than ${MAX_BODY_BYTES} bytes` });
}
