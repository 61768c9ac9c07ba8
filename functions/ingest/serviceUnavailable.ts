import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { errorField, log } from '../../shared/log.ts';
import { retryLater } from './answers.ts';

/** How soon a provider may retry after a 503: the store is briefly unavailable, or throttled. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Any error the pipeline did not answer itself (the store unreachable, a throttle, a bug) becomes a
 * 503 with Retry-After and no detail: nothing was acknowledged, so the provider's retry is safe.
 */
export function serviceUnavailable<TContext extends Context>(
  provider: string,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, TContext> {
  const serviceUnavailableOnError: middy.MiddlewareFn<
    APIGatewayProxyEventV2,
    APIGatewayProxyStructuredResultV2,
    Error,
    TContext
  > = (request) => {
    if (request.response !== undefined) return;
    log.error('delivery not accepted: internal error', { provider, error: errorField(request.error) });
    request.response = retryLater(RETRY_AFTER_SECONDS);
  };
  return { onError: serviceUnavailableOnError };
}
