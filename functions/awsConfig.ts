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

/** The longest one call through a client built from `CLIENT_CONFIG` can take, every attempt timing out. */
export const CLIENT_CALL_MAX_MS =
  CLIENT_CONFIG.maxAttempts *
  (CLIENT_CONFIG.requestHandler.connectionTimeout + CLIENT_CONFIG.requestHandler.requestTimeout);

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
