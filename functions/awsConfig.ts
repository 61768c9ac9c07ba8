/**
 * Client settings for the Lambda functions: every AWS call times out well inside the function's own
 * timeout, so a hung call is answered (a 503, a logged failed publish, a retried batch) instead of
 * killing the invocation. `throwOnRequestTimeout` is what makes `requestTimeout` hold: without it
 * `@smithy/node-http-handler` only logs a warning and keeps waiting.
 */
export const CLIENT_CONFIG = {
  // In-region DynamoDB and SNS answer in milliseconds: two short attempts fit a 10 s function
  // several times over.
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1500, throwOnRequestTimeout: true },
} as const;

/**
 * The SDK's longest wait before a retry: a throttled call waits a random time up to 500 ms × 2 before
 * its second attempt (`@smithy/util-retry`), any other failure up to 100 ms × 2.
 */
const RETRY_DELAY_MAX_MS = 1_000;

/** The longest one call through a client built from `config` can take, every attempt timing out. */
function callMaxMs(config: {
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number };
}): number {
  const { connectionTimeout, requestTimeout } = config.requestHandler;
  return (
    config.maxAttempts * (connectionTimeout + requestTimeout) + (config.maxAttempts - 1) * RETRY_DELAY_MAX_MS
  );
}

/** The longest one call through a client built from `CLIENT_CONFIG` can take, every attempt timing out. */
export const CLIENT_CALL_MAX_MS = callMaxMs(CLIENT_CONFIG);

/**
 * The SNS client of the ingest's inline publish: one attempt, at most 1.5 s. That publish is only a
 * head start (the stream publisher publishes every stored event with the same deduplication id), so a
 * slow or failing SNS costs the provider's answer no more than this, and no retry is worth waiting for.
 */
export const INLINE_PUBLISH_CLIENT_CONFIG = {
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1_000, throwOnRequestTimeout: true },
} as const;

/** The longest one inline publish can take (`INLINE_PUBLISH_CLIENT_CONFIG`). */
export const INLINE_PUBLISH_MAX_MS = callMaxMs(INLINE_PUBLISH_CLIENT_CONFIG);

/** A required environment variable, or a clear error at cold start. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function numberEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`environment variable ${name} must be a positive number`);
  return parsed;
}
