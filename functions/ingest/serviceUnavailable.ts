import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { DEFAULT_LEASE_MS } from '../../shared/eventStore.ts';
import { errorField, log } from '../../shared/log.ts';
import { retryLater } from './answers.ts';

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
    // No sooner than a stored-but-unpublished attempt's lease runs out: a retry before it only meets
    // the same record still held.
    request.response = retryLater(Math.ceil(DEFAULT_LEASE_MS / 1000));
  };
  return { onError: serviceUnavailableOnError };
}
