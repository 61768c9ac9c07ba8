import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { IngestHandler } from '../functions/ingest/ingestHandler.ts';
import { MAX_HEADER_BYTES } from '../shared/core/bounds.ts';
import { errorField, log } from '../shared/log.ts';
import { apiGatewayEvent } from './apiGatewayEvent.ts';
import { localContext } from './queuePoller.ts';

/** API Gateway refuses payloads over 10 MB before any Lambda runs; so do we. */
const API_GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

/**
 * Content types API Gateway passes as text (when the bytes are UTF-8); any other body reaches the
 * Lambda base64-encoded.
 */
const TEXT_CONTENT_TYPE =
  /^(text\/|application\/([\w.+-]*\+)?(json|xml|x-www-form-urlencoded|javascript)\b)/i;

export interface HttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/webhooks/{provider}` on 127.0.0.1 as API Gateway (HTTP API) would: each request becomes a
 * payload v2 event for that provider's ingest handler, whose answer is sent back. Unknown routes get 404.
 *
 * @example
 * const http = await startHttpServer(3000, stack.ingest);
 */
export async function startHttpServer(
  port: number,
  ingest: Record<string, IngestHandler>,
): Promise<HttpServer> {
  // Larger request lines and headers get 431, as API Gateway refuses them (see bounds.ts).
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (request, response) => {
    serveWebhook(request, response, ingest).catch((error: unknown) => {
      log.error('local HTTP server failed a request', { error: errorField(error) });
      if (!response.headersSent)
        send(response, 500, { 'content-type': 'application/json' }, '{"message":"Internal Server Error"}');
      else response.destroy();
    });
  });
  await listen(server, port);
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `Port ${port} (HTTP server) is already in use. Stop whatever uses it, or set PORT to another port.`,
            )
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
}

async function serveWebhook(
  request: IncomingMessage,
  response: ServerResponse,
  ingest: Record<string, IngestHandler>,
): Promise<void> {
  const provider = providerOfPath(request.url ?? '/');
  // Own keys only: `/webhooks/constructor` must not reach Object.prototype.
  const handler = provider && Object.hasOwn(ingest, provider) ? ingest[provider] : undefined;
  if (!provider || !handler) {
    request.resume();
    const known = Object.keys(ingest).map((name) => `/webhooks/${name}`);
    send(
      response,
      404,
      { 'content-type': 'application/json' },
      JSON.stringify({ message: 'Not Found', routes: known }),
    );
    return;
  }

  const body = await readBody(request);
  if (body === undefined) {
    send(response, 413, { 'content-type': 'application/json' }, '{"message":"Request Entity Too Large"}');
    return;
  }
  const headers = joinedHeaders(request);
  const contentType = headers['content-type'] ?? '';
  const event = apiGatewayEvent(provider, body, headers, {
    method: request.method ?? 'GET',
    base64: asBase64(body, contentType),
  });
  const result = await handler(event, localContext(`ingest-${provider}`));
  const resultHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) resultHeaders[name] = String(value);
  const resultBody = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
  send(response, result.statusCode ?? 200, resultHeaders, resultBody);
}

/**
 * Whether API Gateway hands the body over base64-encoded: the Lambda event is JSON text, so only a
 * body of a text content type that is valid UTF-8 can travel as text unchanged (API Gateway: "a text
 * payload is a UTF-8-encoded JSON string; a binary payload is anything other than a text payload").
 * Any other body travels base64-encoded, byte for byte, so the signature is checked on the bytes sent;
 * decoding it as UTF-8 would replace invalid bytes and break an authentic signature.
 */
export function asBase64(body: Buffer, contentType: string): boolean {
  return body.length > 0 && (!TEXT_CONTENT_TYPE.test(contentType) || !isUtf8(body));
}

/** `/webhooks/<provider>` → the provider; undefined for any other path, or one that does not decode (`%zz`). */
function providerOfPath(url: string): string | undefined {
  try {
    const match = /^\/webhooks\/([^/]+)\/?$/.exec(new URL(url, 'http://local').pathname);
    return match?.[1] ? decodeURIComponent(match[1]) : undefined;
  } catch {
    return undefined; // a malformed URL or escape names no route: 404, as for any unknown route
  }
}

/** The body, or undefined when it passes API Gateway's payload limit (the rest is read and dropped). */
function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= API_GATEWAY_MAX_BYTES) chunks.push(chunk);
    });
    request.once('end', () => resolve(size > API_GATEWAY_MAX_BYTES ? undefined : Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

/** Headers as API Gateway v2 passes them: lower-case names, repeated headers joined with commas. */
function joinedHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headersDistinct)) {
    if (value) headers[name] = value.join(',');
  }
  return headers;
}

function send(
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
): void {
  response.writeHead(status, headers);
  response.end(body);
}
