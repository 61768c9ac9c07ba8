import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { localClients } from '../../local/awsClients.ts';
import { parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import { EVENT_ID_HEADER } from '../../shared/providers/openpoly/verify.ts';
import { PROVIDER_NAMES, signerOf } from '../../shared/providers/signers.ts';
import { personalValues, sample, samplesOf } from '../support/samples.ts';
import {
  answerOf,
  captureLogs,
  failingSns,
  faultyStore,
  hangingSns,
  manualClock,
  metricTotals,
  publishedEvent,
  setsPendingMark,
  testStack,
  unreachableStore,
  until,
  useLocalServers,
} from '../support/testStack.ts';

const localServers = useLocalServers();

/** One sample per provider that normalizes to a real entity; a provider not listed uses its first sample. */
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
      const body = sample(provider, FIRST_SAMPLE[provider] ?? [...samplesOf(provider).keys()][0] ?? '');

      const response = await t.deliver(provider, body);

      expect(response.statusCode).toBe(200);
      expect(answerOf(response).status).toBe('accepted');
      const messages = await t.auditMessages();
      expect(messages).toHaveLength(1);
      const published = publishedEvent(messages[0] ?? '');
      expect(published.id).toBe(answerOf(response).id);
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
    const answers: { sample: string; status: number; answer: string; id?: string }[] = [];
    for (const provider of PROVIDER_NAMES) {
      for (const [name, body] of samplesOf(provider)) {
        const response = await t.deliver(provider, body);
        const { status, id } = answerOf(response);
        answers.push({ sample: `${provider}/${name}`, status: response.statusCode ?? 0, answer: status, id });
      }
    }
    // No two samples are one event: APARA samples that share an eventId carry different payloads, so
    // the later one is a conflict, accepted under its own id. Nothing is quarantined or a duplicate.
    expect(answers.filter((a) => a.status !== 200 || a.answer !== 'accepted')).toEqual([]);
    const ids = (await t.auditMessages()).map((m) => publishedEvent(m).id);
    expect(ids).toHaveLength(answers.length);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(answers.map((a) => a.id).sort());
    const items = await scanAll(t.clients.dynamodb, t.resources.table);
    expect(items.filter((i) => i.s?.S === 'quarantined')).toEqual([]);
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
    expect(answers.slice(1).map((a) => answerOf(a).status)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    expect(await t.auditMessages()).toHaveLength(1);
  });

  it('50 identical deliveries at once give one message; 503s carry Retry-After and end in 200 on retry', async () => {
    // The winner's publish waits until some other copy has been answered, so at least one copy
    // meets the event stored but not yet published (the case that must be retryable, not "duplicate").
    const gatedSns = localClients(localServers().endpoints).sns;
    const send = gatedSns.send.bind(gatedSns) as (command: unknown) => Promise<unknown>;
    let answered = 0;
    gatedSns.send = (async (command: unknown) => {
      await until('another copy to be answered while the first publishes', () => answered > 0, 10_000);
      return send(command);
    }) as typeof gatedSns.send;
    const t = await testStack(localServers(), { ingestSns: gatedSns });
    const body = sample('openpoly', 'mini_app.trade.processed');
    const signedAt = new Date();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.deliver('openpoly', body, { signedAt }).then((a) => {
          answered += 1;
          return a;
        }),
      ),
    );

    // Exactly one invocation stored and published the event: the store decided, not FIFO dedup.
    const winners = answers.filter((a) => a.statusCode === 200 && answerOf(a).status === 'accepted');
    expect(winners).toHaveLength(1);
    const id = answerOf(winners[0] ?? {}).id;
    expect(id).toBe('evt_sample_trade_processed');
    const others = answers.filter((a) => !winners.includes(a));
    const retries = others.filter((a) => a.statusCode === 503);
    expect(retries.length).toBeGreaterThan(0);
    expect(others.filter((a) => a.statusCode !== 503).map((a) => [a.statusCode, answerOf(a)])).toEqual(
      Array(others.length - retries.length).fill([200, { status: 'duplicate', id }]),
    );
    for (const a of retries) {
      expect(answerOf(a)).toEqual({ status: 'retry' });
      expect(Number(a.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    }

    const retried = await Promise.all(retries.map(() => t.deliver('openpoly', body, { signedAt })));
    expect(retried.map((a) => [a.statusCode, answerOf(a)])).toEqual(
      retried.map(() => [200, { status: 'duplicate', id }]),
    );
    expect(await t.auditMessages()).toHaveLength(1);
  });
});

describe('acknowledged means durable', () => {
  it('publish fails after the store write: still 200, and the sweeper publishes it once', async () => {
    const clock = manualClock();
    const t = await testStack(localServers(), {
      ingestSns: failingSns(localServers()),
      clock: clock.now,
      leaseMs: 10_000,
    });

    const response = await t.deliver('coinme', sample('coinme', 'buy-order-completed'), {
      signedAt: clock.now(),
    });

    expect(response.statusCode).toBe(200);
    expect(answerOf(response).status).toBe('accepted');
    expect(await t.auditMessages()).toHaveLength(0);
    clock.advance(1000);
    expect((await t.stack.sweep()).published).toBe(1);
    expect((await t.stack.sweep()).published).toBe(0);
    const messages = await t.auditMessages();
    expect(messages).toHaveLength(1);
    expect(publishedEvent(messages[0] ?? '').id).toBe(answerOf(response).id);
  });

  it('publish fails and so does the hand-over to the sweeper: 503, and the retry after the lease publishes it once', async () => {
    const clock = manualClock();
    const healthy = await testStack(localServers(), { clock: clock.now, leaseMs: 10_000 });
    const broken = faultyStore(
      localServers(),
      { table: healthy.resources.table, leaseMs: 10_000 },
      setsPendingMark,
    );
    const failing = await testStack(localServers(), {
      clock: clock.now,
      leaseMs: 10_000,
      share: healthy,
      ingestSns: failingSns(localServers()),
      ingestStore: broken.store,
    });
    const body = sample('apara', 'order.completed');

    const first = await failing.deliver('apara', body, { signedAt: clock.now() });

    // Neither published nor handed to the sweeper: it must not be acknowledged.
    expect(broken.failures()).toBe(1);
    expect(first.statusCode).toBe(503);
    expect(Number(first.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(answerOf(first)).toEqual({ status: 'unavailable' });
    expect(await healthy.auditMessages()).toHaveLength(0);
    const stored = await healthy.stack.store.get('apara#EV-241127050915602');
    expect(stored).toMatchObject({ status: 'received', pending: false });

    clock.advance(11_000);
    const retry = await healthy.deliver('apara', body, { signedAt: clock.now() });
    expect(retry.statusCode).toBe(200);
    expect(answerOf(retry)).toEqual({ status: 'accepted', id: 'EV-241127050915602' });
    const again = await healthy.deliver('apara', body, { signedAt: clock.now() });
    expect(answerOf(again)).toEqual({ status: 'duplicate', id: 'EV-241127050915602' });
    const messages = await healthy.auditMessages();
    expect(messages.map((m) => publishedEvent(m).id)).toEqual(['EV-241127050915602']);
  });

  it('the Lambda dies between store and publish: the retry after the lease publishes it once', async () => {
    const clock = manualClock();
    const hanging = hangingSns(localServers());
    const dying = await testStack(localServers(), {
      ingestSns: hanging.sns,
      clock: clock.now,
      leaseMs: 10_000,
    });
    const body = sample('apara', 'order.completed');
    void dying.deliver('apara', body, { signedAt: clock.now() });
    await until('the dying invocation to reach its publish', hanging.reached, 10_000);

    // The provider retries; a healthy invocation shares the same table and topic.
    const healthy = await testStack(localServers(), { clock: clock.now, leaseMs: 10_000, share: dying });
    const early = await healthy.deliver('apara', body, { signedAt: clock.now() });
    expect(early.statusCode).toBe(503);
    expect(Number(early.headers?.['retry-after'])).toBeGreaterThan(0);

    clock.advance(11_000);
    const retry = await healthy.deliver('apara', body, { signedAt: clock.now() });
    expect(retry.statusCode).toBe(200);
    const again = await healthy.deliver('apara', body, { signedAt: clock.now() });
    expect(answerOf(again).status).toBe('duplicate');
    expect(await healthy.auditMessages()).toHaveLength(1);
  });

  it('the store is unreachable: 503 with Retry-After, nothing published', async () => {
    const t = await testStack(localServers(), { ingestStore: await unreachableStore() });
    const response = await t.deliver('apara', sample('apara', 'order.completed'));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBeDefined();
    expect(response.body).not.toMatch(/ECONNREFUSED|Dynamo|127\.0\.0\.1/);
    expect(await t.auditMessages()).toHaveLength(0);
  });
});

describe('lossless money end to end', () => {
  const TOTAL = '1234567890123456789'; // not a double: JSON.parse makes it 1234567890123456800
  const balance = (userId: string) =>
    Buffer.from(
      `{"eventType":"account.balance.changed","data":{"userId":"${userId}","total":${TOTAL},"spendable":0,"pending":0}}`,
    );
  const expectExact = (message: string) => {
    expect(Number(TOTAL).toString()).not.toBe(TOTAL);
    expect(message).toContain(`"total":${TOTAL}`);
    expect(message).not.toContain(String(Number(TOTAL)));
    const published = publishedEvent(message);
    expect(published.amounts.find((a) => a.role === 'total')).toEqual({
      role: 'total',
      value: TOTAL,
      currency: 'wei',
    });
  };

  it('a wei balance above 2^53 reaches the queue digit for digit', async () => {
    const t = await testStack(localServers());
    const response = await t.deliver('gnosis-pay', balance('user_lossless_direct'));
    expect(answerOf(response).status).toBe('accepted');
    const messages = await t.auditMessages();
    expect(messages).toHaveLength(1);
    expectExact(messages[0] ?? '');
  });

  it('and digit for digit when the sweeper publishes it from the store', async () => {
    const clock = manualClock();
    const t = await testStack(localServers(), {
      ingestSns: failingSns(localServers()),
      clock: clock.now,
      leaseMs: 10_000,
    });
    const response = await t.deliver('gnosis-pay', balance('user_lossless_swept'), { signedAt: clock.now() });
    expect(answerOf(response).status).toBe('accepted');
    expect(await t.auditMessages()).toHaveLength(0);
    clock.advance(1000);
    expect((await t.stack.sweep()).published).toBe(1);
    const messages = await t.auditMessages();
    expect(messages).toHaveLength(1);
    expectExact(messages[0] ?? '');
  });
});

describe('nothing silently dropped', () => {
  it('same id, different payload: two messages, the second flagged conflict', async () => {
    const t = await testStack(localServers());
    const first = await t.deliver('apara', sample('apara', 'order.fund_settled'));
    const second = await t.deliver('apara', sample('apara', 'order.fund_failed'));
    const secondAgain = await t.deliver('apara', sample('apara', 'order.fund_failed'));
    expect([first.statusCode, second.statusCode, secondAgain.statusCode]).toEqual([200, 200, 200]);
    expect(answerOf(secondAgain).status).toBe('duplicate');
    const messages = (await t.auditMessages()).map(publishedEvent);
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
    expect(answerOf(a).status).toBe('quarantined');
    expect(answerOf(a).reason).toMatch(/order/);
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
    expect(answerOf(forged).reason).toBe('bad_signature');
    expect(answerOf(stale).reason).toBe('stale_timestamp');
    expect(await scanAll(t.clients.dynamodb, t.resources.table)).toHaveLength(0);
  });

  it('the same invalid bytes delivered twice: one quarantine record, counted once, both answered 200', async () => {
    const clock = manualClock();
    const t = await testStack(localServers(), { clock: clock.now });
    const invalid = Buffer.from(
      '{"eventId":"EV-Q-2","entityId":"OR-2","entityType":"order","status":"completed","order":{"depositAmount":"x"}}',
    );
    const logs = captureLogs();

    const first = await t.deliver('apara', invalid, { signedAt: clock.now() });
    clock.advance(60_000); // the provider's retry, signed again a minute later
    const second = await t.deliver('apara', invalid, { signedAt: clock.now() });

    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(answerOf(first).status).toBe('quarantined');
    expect(answerOf(second)).toEqual(answerOf(first));
    const items = await scanAll(t.clients.dynamodb, t.resources.table);
    expect(items).toHaveLength(1);
    expect(items[0]?.s?.S).toBe('quarantined');
    const stored = await t.stack.store.get(items[0]?.pk?.S ?? '');
    expect(stored?.quarantine?.rawBody.equals(invalid)).toBe(true);
    expect(metricTotals(logs()).get('Quarantined{provider=apara}')).toBe(1);
    expect(await t.auditMessages()).toHaveLength(0);
  });

  it('the quarantine record cannot be written: 503 with Retry-After, not 200', async () => {
    const t = await testStack(localServers(), { ingestStore: await unreachableStore() });
    const invalid = Buffer.from('{"eventId":"EV-Q-3","entityType":"order","status":"completed"}');

    const response = await t.deliver('apara', invalid);

    expect(response.statusCode).toBe(503);
    expect(Number(response.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(answerOf(response)).toEqual({ status: 'unavailable' });
    expect(await scanAll(t.clients.dynamodb, t.resources.table)).toHaveLength(0);
  });

  it('an OpenPoly event id header that differs from the body, or is missing: 400 naming why, nothing stored', async () => {
    const t = await testStack(localServers());
    const body = sample('openpoly', 'mini_app.trade.processed');

    const differs = await t.deliver('openpoly', body, { headers: { [EVENT_ID_HEADER]: 'evt_other' } });
    const { [EVENT_ID_HEADER]: _dropped, ...withoutId } = signerOf('openpoly').sign(
      body,
      t.keys.openpoly?.signingKey ?? '',
      new Date(),
    );
    const missing = await t.invoke('openpoly', body, withoutId);

    expect([differs.statusCode, missing.statusCode]).toEqual([400, 400]);
    expect(answerOf(differs)).toEqual({
      status: 'rejected',
      reason: `EVENT_ID_MISMATCH: body event_id "evt_sample_trade_processed" differs from ${EVENT_ID_HEADER} header "evt_other"`,
    });
    expect(answerOf(missing).reason).toMatch(/^EVENT_ID_MISMATCH: .*header missing/);
    expect(await scanAll(t.clients.dynamodb, t.resources.table)).toHaveLength(0);
    expect(await t.auditMessages()).toHaveLength(0);
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

    expect(answerOf(within).status).toBe('duplicate');
    expect(answerOf(after).status).toBe('accepted');
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
    const published = publishedEvent(messages[0] ?? '');
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

    expect(answerOf(retry)).toEqual({ status: 'duplicate', id: answerOf(a1).id });
    const messages = (await t.auditMessages()).map(publishedEvent);
    expect(messages).toHaveLength(3);
    expect(new Set(messages.map((m) => m.id)).size).toBe(3);
  });
});

describe('metrics (CloudWatch embedded metric format)', () => {
  it('count accepted, duplicates, conflicts, quarantines, rejections by reason and failed publishes', async () => {
    const clock = manualClock();
    const t = await testStack(localServers(), { clock: clock.now, leaseMs: 10_000 });
    const snsDown = await testStack(localServers(), {
      clock: clock.now,
      leaseMs: 10_000,
      share: t,
      ingestSns: failingSns(localServers()),
    });
    const signedAt = clock.now();
    const logs = captureLogs();

    await t.deliver('apara', sample('apara', 'order.fund_settled'), { signedAt }); // accepted
    await t.deliver('apara', sample('apara', 'order.fund_settled'), { signedAt }); // duplicate
    await t.deliver('apara', sample('apara', 'order.fund_failed'), { signedAt }); // accepted, conflict
    const invalid = Buffer.from('{"eventId":"EV-M-1","entityType":"order","status":"completed"}');
    await t.deliver('apara', invalid, { signedAt }); // quarantined
    await t.deliver('apara', invalid, { signedAt }); // the same bytes again: not counted again
    await t.deliver('apara', Buffer.from('{"not json'), { signedAt }); // quarantined
    const openpoly = sample('openpoly', 'mini_app.trade.processed');
    await t.deliver('openpoly', openpoly, { headers: { 'x-polynion-signature': `v1=${'0'.repeat(64)}` } });
    await t.deliver('openpoly', openpoly, { signedAt: new Date(signedAt.getTime() - 10 * 60_000) });
    await snsDown.deliver('coinme', sample('coinme', 'buy-order-completed'), { signedAt }); // publish fails
    clock.advance(1000);
    await t.stack.sweep(); // publishes it

    const totals = metricTotals(logs());
    expect(totals.get('Accepted{provider=apara}')).toBe(2);
    expect(totals.get('Duplicate{provider=apara}')).toBe(1);
    expect(totals.get('Conflict{provider=apara}')).toBe(1);
    expect(totals.get('Quarantined{provider=apara}')).toBe(2);
    expect(totals.get('Rejected{provider=openpoly}')).toBe(2);
    expect(totals.get('Rejected{provider=openpoly,reason=bad_signature}')).toBe(1);
    expect(totals.get('Rejected{provider=openpoly,reason=stale_timestamp}')).toBe(1);
    expect(totals.get('Accepted{provider=coinme}')).toBe(1);
    expect(totals.get('PublishFailed{provider=coinme}')).toBe(1);
    expect(totals.get('Swept{service=sweeper}')).toBe(1);
    expect(totals.get('PublishFailed{service=sweeper}')).toBe(0);
  });
});

describe('no personal data in answers or logs', () => {
  it('logs hold none of the personal values of the samples', async () => {
    const t = await testStack(localServers());
    const logs = captureLogs();
    for (const provider of PROVIDER_NAMES) {
      for (const body of samplesOf(provider).values()) await t.deliver(provider, body);
    }
    await t.handleAll();

    expect(logs().length).toBeGreaterThan(20);
    const all = logs().join('\n');
    const leaked = personalValues(PROVIDER_NAMES).filter((value) => all.includes(value));
    expect(leaked).toEqual([]);
  });

  it('a personal string in a numeric field: the answer and the logs name the path, never the value', async () => {
    const t = await testStack(localServers());
    const personal = 'Priya Raman-Sharma';
    const base = parseJson(sample('apara', 'order.completed').toString('utf8')) as { order: object };
    const body = Buffer.from(stringifyJson({ ...base, order: { ...base.order, depositAmount: personal } }));
    expect(body.toString('utf8')).toContain(`"depositAmount":"${personal}"`);
    const logs = captureLogs();

    const response = await t.deliver('apara', body);

    expect(response.statusCode).toBe(200);
    expect(answerOf(response).status).toBe('quarantined');
    expect(answerOf(response).reason).toContain('order.depositAmount');
    const quarantineLogs = logs().filter((line) => line.includes('quarantined'));
    expect(quarantineLogs.length).toBeGreaterThan(0);
    for (const line of quarantineLogs) expect(line).toContain('order.depositAmount');
    for (const text of [response.body ?? '', ...logs()]) {
      expect(text).not.toContain(personal);
      expect(text).not.toMatch(/Priya|Raman|Sharma/);
    }
  });
});

async function scanAll(client: DynamoDBClient, table: string) {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return Items;
}
