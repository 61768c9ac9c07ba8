import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import * as v from 'valibot';
import { reingest, reingestMany } from '../../local/ops/reingest.ts';
import { replay } from '../../local/ops/replay.ts';
import { readCdkOutputs } from '../../local/ops/target.ts';
import { opsProgram } from '../../local/ops.ts';
import { writeStackFile } from '../../local/stackFile.ts';
import type { ProviderModule } from '../../shared/core/providerModule.ts';
import type { EventStore } from '../../shared/eventStore.ts';
import { apara } from '../../shared/providers/apara/index.ts';
import type { EventPublisher } from '../../shared/publisher.ts';
import { sample } from '../support/samples.ts';
import { manualClock, publishedEvent, testStack, useLocalServers } from '../support/testStack.ts';

const localServers = useLocalServers();

const event = publishedEvent;
const MINUTE = 60_000;

/** An APARA sample under a new event id (APARA's dedupe key), optionally with another status. */
function aparaBody(name: string, eventId: string, status?: string): Buffer {
  let text = sample('apara', name)
    .toString('utf8')
    .replace(/"eventId":\s*"[^"]*"/, `"eventId": "${eventId}"`);
  if (status) text = text.replace(/"status":\s*"[^"]*"/, `"status": "${status}"`);
  return Buffer.from(text);
}

/**
 * APARA as it would read once its schema learns a new status: the same module (dedupe key, retry span),
 * with a schema that accepts any order status and a normalize for it.
 */
const aparaWithRefunds: ProviderModule = {
  ...apara,
  schema: v.looseObject({
    eventId: v.string(),
    entityType: v.string(),
    entityId: v.string(),
    status: v.string(),
    createdAt: v.string(),
  }) as unknown as ProviderModule['schema'],
  normalize(payload) {
    const e = payload as { entityType: string; entityId: string; status: string; createdAt: string };
    return {
      eventType: `${e.entityType}.${e.status}`,
      subject: `${e.entityType}/${e.entityId}`,
      time: new Date(e.createdAt).toISOString(),
      outcome: 'info',
      amounts: [],
      data: payload,
    };
  },
};

describe('quarantine reingest', () => {
  it('a quarantined delivery, re-ingested after the schema fix, is published exactly once and resolves its record', async () => {
    const t = await testStack(localServers());
    const body = aparaBody('order.completed', 'EV-REFUND-1', 'refunded');
    const delivered = await t.deliver('apara', body);
    expect(JSON.parse(delivered.body ?? '{}')).toMatchObject({ status: 'quarantined' });
    const [record] = await t.stack.store.scanQuarantine();
    expect(record?.pk).toMatch(/^apara#q#/);
    const pk = record?.pk ?? '';
    expect(await t.auditMessages()).toHaveLength(0);
    const deps = { store: t.stack.store, publisher: t.stack.publisher };

    // With today's schema it stays quarantined, and nothing is published.
    const unchanged = await reingest(deps, pk);
    expect(unchanged).toMatchObject({
      result: 'still_quarantined',
      reason: expect.stringMatching(/^status: .*got string of length 8$/),
    });
    expect(await t.auditMessages()).toHaveLength(0);

    // With the fixed schema (no signature check: the signature was verified at receipt).
    const fixed = await reingest({ ...deps, providerModule: () => aparaWithRefunds }, pk);

    expect(fixed).toMatchObject({
      result: 'published',
      eventPk: 'apara#EV-REFUND-1',
      eventId: 'EV-REFUND-1',
    });
    const messages = (await t.auditMessages()).map(event);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      id: 'EV-REFUND-1',
      type: 'apara.order.refunded',
      subject: 'order/OR-241127050200660',
    });
    // One receipt time: the event's, the stored item's (what listing and replay filter on) and the record's.
    expect(messages[0]?.receivedat).toBe(record?.receivedAt.toISOString());
    const stored = await t.stack.store.get('apara#EV-REFUND-1');
    expect(stored?.status).toBe('stored');
    expect(stored?.receivedAt.toISOString()).toBe(record?.receivedAt.toISOString());
    const resolved = await t.stack.store.get(pk);
    expect(resolved?.status).toBe('reingested');
    expect(resolved?.quarantine?.reason).toBe('re-ingested as apara#EV-REFUND-1');

    // Running it again, by key or with --all, publishes nothing more.
    const again = await reingestMany({ ...deps, providerModule: () => aparaWithRefunds }, [pk]);
    expect(again).toEqual([expect.objectContaining({ result: 'skipped' })]);
    expect(await t.stack.store.scanQuarantine()).toHaveLength(0);
    expect(await t.auditMessages()).toHaveLength(0);
  });
});

describe('reingestMany', () => {
  it('reports a key whose re-ingest throws as failed (name and message only) and goes on with the next', async () => {
    const secret = 'IBAN DE89370400440532013000';
    const store = {
      async get(pk: string) {
        if (pk === 'apara#q#broken') throw new TypeError('store unavailable');
        if (pk === 'apara#q#body')
          throw Object.assign(new Error('conditional check failed'), { body: secret });
        return undefined;
      },
    } as unknown as EventStore;
    const seen: string[] = [];

    const outcomes = await reingestMany(
      { store, publisher: {} as EventPublisher },
      ['apara#q#broken', 'apara#q#body', 'apara#q#gone'],
      (outcome) => seen.push(outcome.pk),
    );

    expect(outcomes).toEqual([
      { pk: 'apara#q#broken', result: 'failed', reason: 'TypeError: store unavailable' },
      { pk: 'apara#q#body', result: 'failed', reason: 'Error: conditional check failed' },
      expect.objectContaining({ pk: 'apara#q#gone', result: 'skipped' }),
    ]);
    expect(seen).toEqual(['apara#q#broken', 'apara#q#body', 'apara#q#gone']);
    expect(JSON.stringify(outcomes)).not.toContain(secret);
  });
});

describe('replay', () => {
  /** Three APARA events 10 minutes apart and one Coinme event, received at known times; the audit queue drained. */
  async function storedHistory() {
    const start = Date.now() - 60 * MINUTE;
    const clock = manualClock(start);
    const t = await testStack(localServers(), { clock: clock.now });
    await t.deliver('apara', aparaBody('order.initiated', 'EV-R-1'), { signedAt: clock.now() });
    clock.advance(10 * MINUTE);
    await t.deliver('apara', aparaBody('order.fund_settled', 'EV-R-2'), { signedAt: clock.now() });
    await t.deliver('coinme', sample('coinme', 'buy-order-completed'), { signedAt: clock.now() });
    clock.advance(10 * MINUTE);
    await t.deliver('apara', aparaBody('order.asset_deposited', 'EV-R-3'), { signedAt: clock.now() });
    expect(await t.auditMessages()).toHaveLength(4);
    return { t, at: (minutes: number) => new Date(start + minutes * MINUTE) };
  }

  it('republishes exactly the stored events of the provider received in [since, until), flagged replayed', async () => {
    const { t, at } = await storedHistory();
    const deps = { store: t.stack.store, publisher: t.stack.publisher };

    const report = await replay(deps, { provider: 'apara', since: at(10), until: at(20) });

    expect(report.published).toBe(1);
    const messages = (await t.auditMessages()).map(event);
    // Published seconds ago under the same id: only the replay salt gets it past SNS FIFO deduplication.
    expect(messages.map((m) => [m.id, m.replayed])).toEqual([['EV-R-2', true]]);

    const wholeRange = await replay(deps, { provider: 'apara', since: at(0), until: at(21) });
    expect(wholeRange.published).toBe(3);
    const all = (await t.auditMessages()).map(event);
    expect(all.map((m) => m.id)).toEqual(['EV-R-1', 'EV-R-2', 'EV-R-3']);
    expect(all.every((m) => m.replayed === true)).toBe(true);
  });

  it('a dry run lists the events and publishes nothing', async () => {
    const { t, at } = await storedHistory();
    const deps = { store: t.stack.store, publisher: t.stack.publisher };

    const report = await replay(deps, { provider: 'apara', since: at(0), until: at(21), dryRun: true });

    expect(report.events.map((e) => e.event.id)).toEqual(['EV-R-1', 'EV-R-2', 'EV-R-3']);
    expect(report.published).toBe(0);
    expect(await t.auditMessages()).toHaveLength(0);
  });

  it('through the CLI: `ops --json replay --dry-run` on the local stack file, then for real', async () => {
    const { t, at } = await storedHistory();
    const stateDir = mkdtempSync(join(tmpdir(), 'webhook-ops-'));
    const previous = process.env.LOCAL_STATE_DIR;
    process.env.LOCAL_STATE_DIR = stateDir;
    writeStackFile(
      {
        ...t.resources,
        pid: process.pid,
        startedAt: new Date().toISOString(),
        httpUrl: 'http://127.0.0.1:1',
        webhookUrls: {},
        endpoints: localServers().endpoints,
        region: 'us-east-1',
        keysFile: join(stateDir, 'keys.json'),
      },
      stateDir,
    );
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const ops = (...args: string[]) => opsProgram().parseAsync(['node', 'ops', '--json', ...args]);
    try {
      const range = ['--provider', 'apara', '--since', at(5).toISOString(), '--until', at(25).toISOString()];
      await ops('replay', ...range, '--dry-run');
      const dry = JSON.parse(written.join('')) as {
        dryRun: boolean;
        events: { id: string }[];
        published: number;
      };
      expect(dry).toMatchObject({ dryRun: true, published: 0 });
      expect(dry.events.map((e) => e.id)).toEqual(['EV-R-2', 'EV-R-3']);
      expect(await t.auditMessages()).toHaveLength(0);

      written.length = 0;
      await ops('replay', ...range);
      expect(JSON.parse(written.join(''))).toMatchObject({ dryRun: false, published: 2, failed: [] });
      expect((await t.auditMessages()).map((m) => event(m).id)).toEqual(['EV-R-2', 'EV-R-3']);
    } finally {
      spy.mockRestore();
      if (previous === undefined) delete process.env.LOCAL_STATE_DIR;
      else process.env.LOCAL_STATE_DIR = previous;
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('events list', () => {
  it('filters by provider, type, outcome and receive time', async () => {
    const clock = manualClock(Date.now() - 30 * MINUTE);
    const t = await testStack(localServers(), { clock: clock.now });
    await t.deliver('apara', aparaBody('order.initiated', 'EV-L-1'));
    clock.advance(MINUTE);
    await t.deliver('apara', aparaBody('order.completed', 'EV-L-2'));
    await t.deliver('coinme', sample('coinme', 'buy-order-completed'));
    clock.advance(MINUTE);
    const since = clock.now(); // EV-L-3 is received exactly then: `since` includes it, `until` excludes it
    await t.deliver('apara', aparaBody('order.expired', 'EV-L-3'));
    const ids = async (filter: Parameters<EventStore['scanEvents']>[0]) =>
      (await t.stack.store.scanEvents(filter)).map((e) => e.event.id);

    expect(await ids({ provider: 'apara' })).toEqual(['EV-L-1', 'EV-L-2', 'EV-L-3']);
    expect(await ids({ provider: 'apara', type: 'order.completed' })).toEqual(['EV-L-2']);
    expect(await ids({ type: 'apara.order.expired' })).toEqual(['EV-L-3']);
    expect(await ids({ provider: 'apara', outcome: 'pending' })).toEqual(['EV-L-1']);
    expect(await ids({ provider: 'apara', since })).toEqual(['EV-L-3']);
    expect(await ids({ provider: 'apara', until: since })).toEqual(['EV-L-1', 'EV-L-2']);
  });
});

describe('the AWS target', () => {
  it('reads the events table and topic (not the alerts topic) from `cdk deploy --outputs-file`', () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-ops-'));
    const file = join(dir, 'cdk-outputs.json');
    writeFileSync(
      file,
      JSON.stringify({
        WebhookIntake: {
          AlertsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
          EventsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:events.fifo',
          EventsTableName: 'WebhookIntake-Events-1A2B',
          AparaWebhookUrl: 'https://example.execute-api.eu-west-1.amazonaws.com/webhooks/apara',
        },
      }),
    );
    try {
      expect(readCdkOutputs(file)).toEqual({
        table: 'WebhookIntake-Events-1A2B',
        topicArn: 'arn:aws:sns:eu-west-1:123456789012:events.fifo',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
