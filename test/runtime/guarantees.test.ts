import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { freePort } from '../../local/servers.ts';
import { parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { PROVIDER_NAMES } from '../../shared/providers/registry.ts';
import { personalValues, sample, samplesOf } from '../support/samples.ts';
import {
  capturedLogs,
  manualClock,
  publishedEvent,
  testStack,
  useLocalServers,
} from '../support/testStack.ts';

const localServers = useLocalServers();

const event = publishedEvent;
const json = (body: string | undefined) =>
  JSON.parse(body ?? '{}') as { status: string; id?: string; reason?: string };

/** One sample per provider that normalizes to a real entity. */
const FIRST_SAMPLE: Record<string, string> = {
  openpoly: 'mini_app.trade.processed',
  apara: 'order.completed',
  coinme: 'buy-order-completed',
  'gnosis-pay': 'card.transaction.created',
};

describe('each provider end to end', () => {
  it.each(PROVIDER_NAMES)(
    '%s: a signed sample gives 200, one message equal to the contract, and handled state',
    async (provider) => {
      const t = await testStack(localServers());
      const body = sample(provider, FIRST_SAMPLE[provider] ?? '');

      const response = await t.deliver(provider, body);

      expect(response.statusCode).toBe(200);
      expect(json(response.body).status).toBe('accepted');
      const messages = await t.auditMessages();
      expect(messages).toHaveLength(1);
      const published = event(messages[0] ?? '');
      expect(published.id).toBe(json(response.body).id);
      expect(published.source).toBe(`webhooks/${provider}`);
      // Every field and digit the provider sent is in `data`.
      expect(stringifyJson(published.data)).toBe(stringifyJson(parseJson(body.toString('utf8'))));

      await t.handleAll();
      const state = await t.stack.states.get(provider, published.subject);
      expect(state?.lastEventId).toBe(published.id);
    },
  );

  it('every sample of every provider is accepted and published once', async () => {
    const t = await testStack(localServers());
    let expected = 0;
    for (const provider of PROVIDER_NAMES) {
      for (const [, body] of samplesOf(provider)) {
        const response = await t.deliver(provider, body);
        expect(response.statusCode).toBe(200);
        if (json(response.body).status === 'accepted') expected += 1;
      }
    }
    const ids = (await t.auditMessages()).map((m) => event(m).id);
    expect(ids).toHaveLength(expected);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('accepts a base64-encoded body', async () => {
    const t = await testStack(localServers());
    const response = await t.deliver('apara', sample('apara', 'order.initiated'), { base64: true });
    expect(response.statusCode).toBe(200);
    expect(await t.auditMessages()).toHaveLength(1);
  });
});

describe('exactly one message per genuine event', () => {
  it('the same delivery 5 times in a row gives one message', async () => {
    const t = await testStack(localServers());
    const body = sample('apara', 'order.completed');
    const signedAt = new Date();
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await t.deliver('apara', body, { signedAt }));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.slice(1).map((a) => json(a.body).status)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    expect(await t.auditMessages()).toHaveLength(1);
  });

  it('50 identical deliveries at once give one message; 503s carry Retry-After and end in 200 on retry', async () => {
    const t = await testStack(localServers());
    const body = sample('openpoly', 'mini_app.trade.processed');
    const signedAt = new Date();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => t.deliver('openpoly', body, { signedAt })),
    );

    for (const a of answers) {
      expect([200, 503]).toContain(a.statusCode);
      if (a.statusCode === 503) expect(Number(a.headers?.['retry-after'])).toBeGreaterThan(0);
    }
    const retries = answers.filter((a) => a.statusCode === 503);
    const retried = await Promise.all(retries.map(() => t.deliver('openpoly', body, { signedAt })));
    expect(retried.every((a) => a.statusCode === 200)).toBe(true);
    expect(await t.auditMessages()).toHaveLength(1);
  });
});

describe('acknowledged means durable', () => {
  it('publish fails after the store write: still 200, and the sweeper publishes it once', async () => {
    const clock = manualClock();
    const failingSns = new SNSClient({ region: 'us-east-1', endpoint: localServers().endpoints.sns });
    failingSns.send = async () => {
      throw new Error('injected: SNS unavailable');
    };
    const t = await testStack(localServers(), { ingestSns: failingSns, clock: clock.now, leaseMs: 10_000 });

    const response = await t.deliver('coinme', sample('coinme', 'buy-order-completed'), {
      signedAt: clock.now(),
    });

    expect(response.statusCode).toBe(200);
    expect(await t.auditMessages()).toHaveLength(0);
    clock.advance(1000);
    expect((await t.stack.sweep()).published).toBe(1);
    expect((await t.stack.sweep()).published).toBe(0);
    const messages = await t.auditMessages();
    expect(messages).toHaveLength(1);
    expect(event(messages[0] ?? '').id).toBe(json(response.body).id);
  });

  it('the Lambda dies between store and publish: the retry after the lease publishes it once', async () => {
    const clock = manualClock();
    const hangingSns = new SNSClient({ region: 'us-east-1', endpoint: localServers().endpoints.sns });
    let reachedPublish = false;
    hangingSns.send = () => {
      reachedPublish = true;
      return new Promise(() => undefined) as never; // the invocation never gets past this point
    };
    const dying = await testStack(localServers(), {
      ingestSns: hangingSns,
      clock: clock.now,
      leaseMs: 10_000,
    });
    const body = sample('apara', 'order.completed');
    void dying.deliver('apara', body, { signedAt: clock.now() });
    while (!reachedPublish) await new Promise((r) => setTimeout(r, 10));

    // The provider retries; a healthy invocation shares the same table and topic.
    const healthy = await testStack(localServers(), { clock: clock.now, leaseMs: 10_000, share: dying });
    const early = await healthy.deliver('apara', body, { signedAt: clock.now() });
    expect(early.statusCode).toBe(503);
    expect(Number(early.headers?.['retry-after'])).toBeGreaterThan(0);

    clock.advance(11_000);
    const retry = await healthy.deliver('apara', body, { signedAt: clock.now() });
    expect(retry.statusCode).toBe(200);
    const again = await healthy.deliver('apara', body, { signedAt: clock.now() });
    expect(json(again.body).status).toBe('duplicate');
    expect(await healthy.auditMessages()).toHaveLength(1);
  });

  it('the store is unreachable: 503 with Retry-After, nothing published', async () => {
    const deadPort = await freePort();
    const unreachable = new EventStore(
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${deadPort}`,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        maxAttempts: 1,
      }),
      { table: 'any', leaseMs: 10_000 },
    );
    const t = await testStack(localServers(), { ingestStore: unreachable });
    const response = await t.deliver('apara', sample('apara', 'order.completed'));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBeDefined();
    expect(response.body).not.toMatch(/ECONNREFUSED|Dynamo|127\.0\.0\.1/);
    expect(await t.auditMessages()).toHaveLength(0);
  });
});

describe('nothing silently dropped', () => {
  it('same id, different payload: two messages, the second flagged conflict', async () => {
    const t = await testStack(localServers());
    const first = await t.deliver('apara', sample('apara', 'order.fund_settled'));
    const second = await t.deliver('apara', sample('apara', 'order.fund_failed'));
    const secondAgain = await t.deliver('apara', sample('apara', 'order.fund_failed'));
    expect([first.statusCode, second.statusCode, secondAgain.statusCode]).toEqual([200, 200, 200]);
    expect(json(secondAgain.body).status).toBe('duplicate');
    const messages = (await t.auditMessages()).map(event);
    expect(messages).toHaveLength(2);
    expect(messages[0]?.conflict).toBeUndefined();
    expect(messages[1]?.conflict).toBe(true);
    expect(messages[1]?.id).not.toBe(messages[0]?.id);
    expect(messages[1]?.type).toBe('apara.order.fund_failed');
  });

  it('an authentic invalid body is quarantined with its raw bytes and answered 200', async () => {
    const t = await testStack(localServers());
    const invalid = Buffer.from(
      '{"eventId":"EV-1","entityId":"OR-1","entityType":"order","status":"completed","order":{"depositAmount":"x"}}',
    );
    const notJson = Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x0a]);

    const a = await t.deliver('apara', invalid);
    const b = await t.deliver('apara', notJson, { base64: true });

    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(json(a.body).status).toBe('quarantined');
    expect(json(a.body).reason).toMatch(/order/);
    const items = await scanAll(t.clients.dynamodb, t.resources.table);
    const quarantined = items.filter((i) => i.s?.S === 'quarantined');
    expect(quarantined).toHaveLength(2);
    const stored = await Promise.all(quarantined.map((i) => t.stack.store.get(i.pk?.S ?? '')));
    const bodies = stored.map((s) => s?.quarantine?.rawBody.toString('hex')).sort();
    expect(bodies).toEqual([invalid.toString('hex'), notJson.toString('hex')].sort());
    expect(await t.auditMessages()).toHaveLength(0);
  });

  it('unauthentic or stale: 401 and nothing stored; oversized: 413; GET: 405', async () => {
    const t = await testStack(localServers());
    const body = sample('openpoly', 'mini_app.trade.processed');
    const forged = await t.deliver('openpoly', body, {
      headers: { 'x-polynion-signature': `v1=${'0'.repeat(64)}` },
    });
    const stale = await t.deliver('openpoly', body, { signedAt: new Date(Date.now() - 10 * 60_000) });
    const big = await t.deliver('apara', Buffer.alloc(256 * 1024 + 1, 0x20));
    const get = await t.deliver('apara', sample('apara', 'order.completed'), { method: 'GET' });

    expect([forged.statusCode, stale.statusCode, big.statusCode, get.statusCode]).toEqual([
      401, 401, 413, 405,
    ]);
    expect(json(forged.body).reason).toBe('bad_signature');
    expect(json(stale.body).reason).toBe('stale_timestamp');
    expect(await scanAll(t.clients.dynamodb, t.resources.table)).toHaveLength(0);
  });
});

describe('retention', () => {
  it('a record past its expiry counts as gone even before TTL deletes it (expiry is in the condition)', async () => {
    const clock = manualClock();
    const t = await testStack(localServers(), { clock: clock.now, retentionSeconds: 3600 });
    const body = sample('coinme', 'buy-order-completed');
    // The store never keeps a record for less than the provider's retry span.
    const span = (await (await import('../../shared/providers/registry.ts')).providerNamed('coinme'))
      .retrySpanSeconds;

    await t.deliver('coinme', body, { signedAt: clock.now() });
    clock.advance((span - 60) * 1000);
    const within = await t.deliver('coinme', body, { signedAt: clock.now() });
    clock.advance(120 * 1000);
    const after = await t.deliver('coinme', body, { signedAt: clock.now() });

    expect(json(within.body).status).toBe('duplicate');
    expect(json(after.body).status).toBe('accepted');
  });
});

describe('large events', () => {
  it('an event too large for one message travels by reference and is still handled whole', async () => {
    const t = await testStack(localServers());
    const base = JSON.parse(sample('apara', 'order.completed').toString('utf8')) as Record<string, unknown>;
    // Free-form partner context filling the body to just under the 256 KiB request limit, incompressible:
    // accepted, but once normalized (plus attributes) it no longer fits one 256 KiB SNS message.
    const envelope = JSON.stringify({ ...base, eventId: 'EV-LARGE-1', partnerContext: { blob: '' } }).length;
    const fillerBytes = Math.floor(((256 * 1024 - 64 - envelope) * 3) / 4);
    const filler = Buffer.from(
      Array.from({ length: fillerBytes }, () => Math.floor(Math.random() * 256)),
    ).toString('base64');
    const body = Buffer.from(
      JSON.stringify({ ...base, eventId: 'EV-LARGE-1', partnerContext: { blob: filler } }),
    );
    expect(body.length).toBeLessThanOrEqual(256 * 1024);

    const response = await t.deliver('apara', body);

    expect(response.statusCode).toBe(200);
    const messages = await t.auditMessages();
    expect(messages).toHaveLength(1);
    const published = event(messages[0] ?? '');
    expect(published.data).toBeUndefined();
    expect(published.dataref).toBe('apara#EV-LARGE-1');
    const stored = await t.stack.store.get(published.dataref ?? '');
    expect(stringifyJson(stored?.event?.data)).toBe(stringifyJson(parseJson(body.toString('utf8'))));

    await t.handleAll();
    const state = await t.stack.states.get('apara', published.subject);
    expect(state?.lastEventId).toBe('EV-LARGE-1');
  });
});

describe('ordering and content keys', () => {
  it('APARA completed then an older fund_settled leaves the order at completed', async () => {
    const t = await testStack(localServers());
    await t.deliver('apara', sample('apara', 'order.completed'));
    await t.handleAll();
    await t.deliver('apara', sample('apara', 'order.fund_settled'));
    await t.handleAll();
    const state = await t.stack.states.get('apara', 'order/OR-241127050200660');
    expect(state?.event.type).toBe('apara.order.completed');
  });

  it('Gnosis balance A, B, A: three messages; a retried delivery adds no fourth', async () => {
    const t = await testStack(localServers());
    const balance = (total: string) =>
      Buffer.from(
        `{"eventType":"account.balance.changed","data":{"userId":"user_1","total":${total},"spendable":${total},"pending":0}}`,
      );
    const t0 = Date.now() - 60_000;
    const a1 = await t.deliver('gnosis-pay', balance('1000000000000000000'), { signedAt: new Date(t0) });
    await t.deliver('gnosis-pay', balance('2000000000000000000'), { signedAt: new Date(t0 + 20_000) });
    await t.deliver('gnosis-pay', balance('1000000000000000000'), { signedAt: new Date(t0 + 40_000) });
    const retry = await t.deliver('gnosis-pay', balance('1000000000000000000'), { signedAt: new Date(t0) });

    expect(json(retry.body)).toEqual({ status: 'duplicate', id: json(a1.body).id });
    const messages = (await t.auditMessages()).map(event);
    expect(messages).toHaveLength(3);
    expect(new Set(messages.map((m) => m.id)).size).toBe(3);
  });
});

describe('metrics (CloudWatch embedded metric format)', () => {
  it('count accepted, duplicates, conflicts, quarantines, rejections by reason and failed publishes', () => {
    const totals = new Map<string, number>();
    for (const line of capturedLogs.filter((l) => l.includes('"CloudWatchMetrics"'))) {
      const emf = JSON.parse(line) as Record<string, unknown> & {
        _aws: {
          CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
        };
      };
      const [directive] = emf._aws.CloudWatchMetrics;
      expect(directive?.Namespace).toBe('WebhookIntake');
      const dims = (directive?.Dimensions[0] ?? []).map((d) => `${d}=${emf[d]}`).join(',');
      for (const { Name } of directive?.Metrics ?? []) {
        const key = `${Name}{${dims}}`;
        totals.set(key, (totals.get(key) ?? 0) + Number(emf[Name]));
      }
    }
    expect(totals.get('Accepted{provider=apara}')).toBeGreaterThan(0);
    expect(totals.get('Duplicate{provider=apara}')).toBeGreaterThan(0);
    expect(totals.get('Conflict{provider=apara}')).toBeGreaterThan(0);
    expect(totals.get('Quarantined{provider=apara}')).toBe(2);
    expect(totals.get('Rejected{provider=openpoly,reason=bad_signature}')).toBe(1);
    expect(totals.get('Rejected{provider=openpoly,reason=stale_timestamp}')).toBe(1);
    expect(totals.get('PublishFailed{provider=coinme}')).toBe(1);
    expect(totals.get('Swept{service=sweeper}')).toBeGreaterThan(0);
  });
});

describe('logs', () => {
  it('hold none of the personal values of the samples', () => {
    expect(capturedLogs.length).toBeGreaterThan(20);
    const all = capturedLogs.join('\n');
    const leaked = personalValues(PROVIDER_NAMES).filter((value) => all.includes(value));
    expect(leaked).toEqual([]);
  });
});

async function scanAll(client: DynamoDBClient, table: string) {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return Items;
}
