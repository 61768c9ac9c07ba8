import { request } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { IngestHandler } from '../../functions/ingest/ingestHandler.ts';
import { type HttpServer, startHttpServer } from '../../local/httpServer.ts';
import { MAX_HEADER_BYTES } from '../../shared/core/bounds.ts';

/** The local server hands the handler the bytes the sender sent, as API Gateway's HTTP API does. */
let server: HttpServer;
const seen: APIGatewayProxyEventV2[] = [];
const recordingHandler: IngestHandler = async (event) => {
  seen.push(event);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"accepted"}' };
};

beforeAll(async () => {
  server = await startHttpServer(0, { apara: recordingHandler });
});
afterAll(async () => {
  await server.close();
});

function post(body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/webhooks/apara`, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The bytes the handler got, decoded as requestChecks decodes them. */
function bytesOf(event: APIGatewayProxyEventV2): Buffer {
  return Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
}

describe('local HTTP server body encoding', () => {
  it('passes invalid UTF-8 sent as application/json base64-encoded, byte for byte (never replaced)', async () => {
    const body = Buffer.concat([
      Buffer.from('{"name":"'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}'),
    ]);
    seen.length = 0;

    expect(await post(body, { 'content-type': 'application/json' })).toBe(200);

    expect(seen[0]?.isBase64Encoded).toBe(true);
    expect(bytesOf(seen[0] as APIGatewayProxyEventV2).equals(body)).toBe(true);
  });

  it('passes valid UTF-8 JSON as text, and any body of a binary type base64-encoded', async () => {
    const body = Buffer.from('{"name":"Zoë 😀"}');
    seen.length = 0;

    await post(body, { 'content-type': 'application/json; charset=utf-8' });
    await post(body, { 'content-type': 'application/octet-stream' });

    expect(seen.map((event) => event.isBase64Encoded)).toEqual([false, true]);
    expect(seen.every((event) => bytesOf(event).equals(body))).toBe(true);
  });

  it(`refuses request headers over ${MAX_HEADER_BYTES} bytes with 431, as API Gateway refuses them`, async () => {
    seen.length = 0;
    const status = await post(Buffer.from('{}'), {
      'content-type': 'application/json',
      'x-long': 'x'.repeat(MAX_HEADER_BYTES),
    });
    expect(status).toBe(431);
    expect(seen).toHaveLength(0);
  });
});
