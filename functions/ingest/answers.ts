import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** The small JSON bodies providers get back (they read only the status; people read the rest). */
export interface AnswerBody {
  status: 'accepted' | 'duplicate' | 'quarantined' | 'rejected' | 'unauthorized' | 'unavailable';
  id?: string;
  reason?: string;
}

export function answer(
  statusCode: number,
  body: AnswerBody,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** 503 with Retry-After: the provider should come back; nothing internal is said. */
export function retryLater(seconds: number) {
  return answer(503, { status: 'unavailable' }, { 'retry-after': String(Math.max(1, seconds)) });
}
