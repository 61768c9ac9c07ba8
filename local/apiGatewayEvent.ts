import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * An API Gateway HTTP API (payload v2) event, as API Gateway builds it for `/webhooks/<provider>`:
 * header names lower-cased, binary-safe bodies base64-encoded when asked.
 */
export function apiGatewayEvent(
  provider: string,
  rawBody: Buffer,
  headers: Record<string, string>,
  options: { method?: string; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const method = options.method ?? 'POST';
  const base64 = options.base64 ?? false;
  const lowerCased = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    version: '2.0',
    routeKey: `ANY /webhooks/${provider}`,
    rawPath: `/webhooks/${provider}`,
    rawQueryString: '',
    headers: lowerCased,
    isBase64Encoded: base64,
    body: base64 ? rawBody.toString('base64') : rawBody.toString('utf8'),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method,
        path: `/webhooks/${provider}`,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
      requestId: crypto.randomUUID(),
      routeKey: `ANY /webhooks/${provider}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  };
}
