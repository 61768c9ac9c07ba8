/**
 * Client settings for the Lambda functions: time out well inside the function's own timeout, so a
 * hung call is answered (503, or handed to the sweeper) instead of killing the invocation.
 */
export const CLIENT_CONFIG = {
  // In-region DynamoDB and SNS answer in milliseconds: two short attempts fit a 10 s function
  // several times over (put, publish, and the hand-over to the sweeper if the publish fails).
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1500 },
} as const;

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
