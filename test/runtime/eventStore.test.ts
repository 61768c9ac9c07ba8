import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { itemSize } from '../../bench/capacity.ts';
import { INGEST_TABLE_ACTIONS } from '../../infra/webhookApi.ts';
import { localClients } from '../../local/awsClients.ts';
import { generateKeys } from '../../local/localKeys.ts';
import { provisionLocal } from '../../local/provision.ts';
import { intake } from '../../shared/core/intake.ts';
import {
  isLosslessNumber,
  LosslessNumber,
  parseJson,
  stringifyJson,
} from '../../shared/core/losslessJson.ts';
import { payloadHash } from '../../shared/core/payloadHash.ts';
import { EventStore, eventItem, eventKey, holdsDeflatedEvent } from '../../shared/eventStore.ts';
import { apara } from '../../shared/providers/apara/index.ts';
import { signerOf } from '../../shared/providers/signers.ts';
import { EVENT_TABLE } from '../../shared/resources.ts';
import { sample } from '../support/samples.ts';
import { useLocalServers } from '../support/testStack.ts';

const localServers = useLocalServers();
let suffix = 0;

/**
 * A real DynamoDB client that records every command it sends, and can run a step just before a
 * chosen command (to interleave another invocation's write deterministically).
 */
function recordingClient(endpoint: string) {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const sent: string[] = [];
  let before: ((command: unknown) => Promise<void>) | undefined;
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  client.send = (async (command: unknown) => {
    sent.push((command as object).constructor.name.replace(/Command$/, ''));
    const step = before;
    before = undefined;
    if (step) await step(command);
    return send(command);
  }) as typeof client.send;
  return { client, sent, beforeNext: (step: (command: unknown) => Promise<void>) => (before = step) };
}

async function freshStore() {
  suffix += 1;
  const { endpoints } = localServers();
  const resources = await provisionLocal(localClients(endpoints), {
    suffix: `-store-${process.pid}-${suffix}`,
  });
  const recording = recordingClient(endpoints.dynamodb);
  return {
    ...recording,
    store: new EventStore(recording.client, resources.table),
  };
}

/** Every item of a table as DynamoDB holds it. */
async function scanRaw(table: string) {
  const { Items } = await localClients(localServers().endpoints).dynamodb.send(
    new ScanCommand({ TableName: table, ConsistentRead: true }),
  );
  return Items ?? [];
}

function aparaEvent(name: string, at: Date) {
  return aparaDelivery(sample('apara', name), at);
}

/** What ingest makes of an APARA delivery of these bytes. */
function aparaDelivery(body: Buffer, at: Date) {
  const keys = generateKeys('apara');
  const result = intake(
    apara,
    body,
    signerOf('apara').sign(body, keys.signingKey, at),
    { keys: keys.verifyKeys },
    at,
  );
  if (result.kind !== 'event') throw new Error('the body did not read as an event');
  return {
    provider: 'apara',
    dedupeKey: result.dedupeKey,
    event: result.event,
    retentionSeconds: 86_400,
  };
}

/** The same JSON value in other bytes: every object's keys in reverse order, a space after `:` and `,`. */
function reserialized(body: Buffer): Buffer {
  const reverse = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(reverse);
    if (value === null || typeof value !== 'object' || isLosslessNumber(value)) return value;
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .reverse()
        .map(([key, item]) => [key, reverse(item)]),
    );
  };
  const text = stringifyJson(reverse(parseJson(body.toString('utf8'))));
  return Buffer.from(indent(text));
}

/** JSON text with a space after every `:` and `,` outside strings (no string in the samples holds either raw). */
function indent(text: string): string {
  return text.replace(
    /("(?:[^"\\]|\\.)*")|([:,])/g,
    (_, quoted: string | undefined, mark: string) => quoted ?? `${mark} `,
  );
}

/** A store request for the event, as ingest makes it. */
function putRequest(delivery: ReturnType<typeof aparaEvent>, now: Date) {
  return {
    pk: eventKey(delivery.provider, delivery.dedupeKey),
    event: delivery.event,
    retentionSeconds: delivery.retentionSeconds,
    now,
  };
}

describe('the event store', () => {
  it('20 concurrent puts of one event: exactly one stored, every other a duplicate holding the stored event', async () => {
    const { store } = await freshStore();
    const t0 = new Date();
    const delivery = aparaEvent('order.completed', t0);

    const results = await Promise.all(Array.from({ length: 20 }, () => store.put(putRequest(delivery, t0))));

    expect(results.filter((r) => r.kind === 'stored')).toHaveLength(1);
    const duplicates = results.filter((r) => r.kind === 'duplicate');
    expect(duplicates).toHaveLength(19);
    for (const duplicate of duplicates) expect(duplicate.event).toEqual(delivery.event);
  });

  it('a duplicate is answered from the failed write itself, without a read', async () => {
    const { store, sent } = await freshStore();
    const t0 = new Date();
    const delivery = aparaEvent('order.completed', t0);
    await store.put(putRequest(delivery, t0));
    sent.length = 0;

    expect((await store.put(putRequest(delivery, t0))).kind).toBe('duplicate');
    expect(sent).toEqual(['PutItem']);
  });

  it('a retry in other bytes (keys reordered, spaced) is a duplicate, found by content; one changed digit is a conflict', async () => {
    const { store, sent } = await freshStore();
    const t0 = new Date();
    const body = sample('apara', 'order.completed');
    const original = aparaDelivery(body, t0);
    await store.put(putRequest(original, t0));

    const otherBytes = reserialized(body);
    expect(otherBytes.equals(body)).toBe(false);
    const other = aparaDelivery(otherBytes, t0);
    sent.length = 0;
    const retry = await store.put(putRequest(other, t0));
    expect(retry).toEqual({ kind: 'duplicate', pk: 'apara#EV-241127050915602', event: original.event });
    expect(sent).toEqual(['PutItem']);

    const changed = Buffer.from(body.toString('utf8').replace('24.843798', '24.843799'));
    expect(changed.equals(body)).toBe(false);
    const conflict = await store.put(putRequest(aparaDelivery(changed, t0), t0));
    expect(conflict.kind).toBe('stored');
    expect(conflict.event.conflict).toBe(true);
    expect(conflict.pk).toBe(`apara#EV-241127050915602#${payloadHash(conflict.event.data)}`);
  });

  it('an item written before 2026-11-30 (its marker the payload hash) reads as an event and takes a retry as a duplicate', async () => {
    const { store, client } = await freshStore();
    const t0 = new Date();
    const delivery = aparaEvent('order.completed', t0);
    const pk = eventKey('apara', delivery.dedupeKey);
    const item = eventItem(pk, delivery.event, { retentionSeconds: 86_400, now: t0 });
    await client.send(
      new PutItemCommand({
        TableName: store.table,
        Item: { ...item, [EVENT_TABLE.eventItemMarker]: { S: payloadHash(delivery.event.data) } },
      }),
    );

    const retry = await store.put(putRequest(aparaEvent('order.completed', t0), t0));

    expect(retry).toEqual({ kind: 'duplicate', pk, event: delivery.event });
    expect(await store.scanEvents()).toHaveLength(1);
  });

  it('compatible items (for an update that may be rolled back) hold the deflated event and the payload hash the earlier release reads', async () => {
    const { client, store } = await freshStore();
    const compatible = new EventStore(client, store.table, { compatibleItems: true });
    const t0 = new Date();
    const delivery = aparaEvent('order.completed', t0);

    await compatible.put(putRequest(delivery, t0));

    const [item] = await scanRaw(store.table);
    expect(item && holdsDeflatedEvent(item)).toBe(true);
    expect(item?.[EVENT_TABLE.eventItemMarker]?.S).toBe(payloadHash(delivery.event.data));
    expect((await store.get(putRequest(delivery, t0).pk))?.event).toEqual(delivery.event);
    expect((await store.put(putRequest(aparaEvent('order.completed', t0), t0))).kind).toBe('duplicate');
  });

  it('an expired record is replaced by exactly one of two writers racing for its key; the other sees the winner', async () => {
    const { store, sent, beforeNext } = await freshStore();
    const t0 = new Date('2026-01-01T00:00:00Z');
    const first = aparaEvent('order.completed', t0);
    await store.put({ ...putRequest(first, t0), retentionSeconds: 60 });
    const later = new Date(t0.getTime() + 3_600_000); // the record expired 59 minutes ago; TTL has not run
    const again = aparaEvent('order.completed', later);

    // Writer A meets the expired record; just before A replaces it, writer B replaces it first.
    let rival: Awaited<ReturnType<typeof store.put>> | undefined;
    sent.length = 0;
    beforeNext(async () => {
      beforeNext(async () => {
        rival = await store.put(putRequest(again, later));
      });
    });
    const result = await store.put(putRequest(again, later));

    expect(rival?.kind).toBe('stored');
    expect(result.kind).toBe('duplicate');
    expect(result.event.receivedat).toBe(later.toISOString());
    // A: new-key write (fails on the expired record), replace (fails: B replaced it); B: the same two, winning.
    expect(sent).toEqual(['PutItem', 'PutItem', 'PutItem', 'PutItem']);
    expect(await store.scanEvents()).toHaveLength(1);
  });

  it('an event that fits one write unit is stored as JSON, a larger one deflated; both read back whole', async () => {
    const { store } = await freshStore();
    const t0 = new Date();
    const small = aparaEvent('order.completed', t0);
    // Every digit kept in both forms: a 30-digit amount in the small one, the whole payload in the large one.
    small.event = {
      ...small.event,
      data: { amount: new LosslessNumber('123456789012345678901234567890.5') },
    };
    const large = aparaEvent('order.fund_settled', t0);
    large.dedupeKey = 'EV-LARGE';
    large.event = {
      ...large.event,
      id: 'EV-LARGE',
      data: { note: 'x'.repeat(3_000), payload: large.event.data },
    };

    await store.put(putRequest(small, t0));
    await store.put(putRequest(large, t0));

    const raw = await scanRaw(store.table);
    const forms = Object.fromEntries(raw.map((item) => [item.pk?.S, holdsDeflatedEvent(item)]));
    expect(forms).toEqual({ 'apara#EV-241127050915602': false, 'apara#EV-LARGE': true });
    expect(raw.every((item) => itemSize(item) <= 1024)).toBe(true);
    expect((await store.get('apara#EV-241127050915602'))?.event).toEqual(small.event);
    expect((await store.get('apara#EV-LARGE'))?.event).toEqual(large.event);
  });

  it('a re-ingested event keeps its original receive time, in the event and in the stored item that listing and replay read', async () => {
    const { store } = await freshStore();
    const receivedLongAgo = new Date('2024-11-27T05:09:15.500Z');
    const delivery = aparaEvent('order.completed', receivedLongAgo);

    await store.put(putRequest(delivery, new Date()));

    const [stored] = await store.scanEvents();
    expect(stored?.receivedAt.toISOString()).toBe(receivedLongAgo.toISOString());
    expect(stored?.event.receivedat).toBe(receivedLongAgo.toISOString());
    expect(
      await store.scanEvents({ since: receivedLongAgo, until: new Date(receivedLongAgo.getTime() + 1) }),
    ).toHaveLength(1);
    // Its expiry counts from the re-ingest, not from the original receipt.
    expect(stored?.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('a parallel scan: the segments together read every event once, each page reports its read units, a signal stops it', async () => {
    const { store } = await freshStore();
    const t0 = new Date();
    const names = [
      'order.completed',
      'order.fund_settled',
      'order.initiated',
      'order.expired',
      'order.asset_deposited',
    ];
    for (const name of names) await store.put(putRequest(aparaEvent(name, t0), t0));

    const seen: string[] = [];
    let units = 0;
    for (let segment = 0; segment < 3; segment += 1) {
      for await (const page of store.eventPages({}, { segment, totalSegments: 3, pageSize: 2 })) {
        seen.push(...page.items.map((item) => item.pk));
        units += page.consumedReadUnits;
      }
    }
    expect(seen.sort()).toEqual((await store.scanEvents()).map((item) => item.pk).sort());
    expect(new Set(seen).size).toBe(names.length);
    expect(units).toBeGreaterThan(0);

    const stop = new AbortController();
    stop.abort();
    await expect(store.scanEvents({}, { signal: stop.signal })).rejects.toThrow();
  });

  it('the ingest path uses only the table actions its IAM role is granted', async () => {
    const { store, sent } = await freshStore();
    const t0 = new Date();
    const completed = aparaEvent('order.completed', t0);
    const settled = aparaEvent('order.fund_settled', t0);
    const failed = aparaEvent('order.fund_failed', t0); // same eventId as fund_settled: a conflict

    await store.put(putRequest(completed, t0));
    await store.put(putRequest(completed, t0)); // duplicate
    await store.put(putRequest(settled, t0));
    await store.put(putRequest(failed, t0)); // conflict
    await store.put(putRequest(failed, t0)); // duplicate of the conflict
    await store.quarantine({
      provider: 'apara',
      contentKey: 'k',
      rawBody: Buffer.from('{'),
      headers: {},
      reason: 'invalid JSON',
      retentionSeconds: 60,
      now: t0,
    });

    const granted = INGEST_TABLE_ACTIONS.map((action) => action.replace('dynamodb:', ''));
    expect([...new Set(sent)].sort()).toEqual([...granted].sort());
  });
});
