import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { INGEST_TABLE_ACTIONS } from '../../infra/webhookApi.ts';
import { localClients } from '../../local/awsClients.ts';
import { generateKeys } from '../../local/localKeys.ts';
import { provisionLocal } from '../../local/provision.ts';
import { intake } from '../../shared/core/intake.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { apara } from '../../shared/providers/apara/index.ts';
import { signerOf } from '../../shared/providers/signers.ts';
import { sample } from '../support/samples.ts';
import { useLocalServers } from '../support/testStack.ts';

const localServers = useLocalServers();
const LEASE_MS = 10_000;
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
    store: new EventStore(recording.client, { table: resources.table, leaseMs: LEASE_MS }),
  };
}

function aparaEvent(name: string, at: Date) {
  const keys = generateKeys('apara');
  const body = sample('apara', name);
  const result = intake(
    apara,
    body,
    signerOf('apara').sign(body, keys.signingKey, at),
    { keys: keys.verifyKeys },
    at,
  );
  if (result.kind !== 'event') throw new Error(`sample ${name} did not read as an event`);
  return {
    provider: 'apara',
    dedupeKey: result.dedupeKey,
    hash: result.hash,
    event: result.event,
    retentionSeconds: 86_400,
  };
}

describe('the event store', () => {
  it('after the lease runs out, exactly one of two concurrent retries takes the event over', async () => {
    const { store } = await freshStore();
    const t0 = new Date();
    const delivery = aparaEvent('order.completed', t0);
    expect((await store.claim({ ...delivery, now: t0 })).kind).toBe('stored');

    const later = new Date(t0.getTime() + LEASE_MS + 1);
    const results = await Promise.all([
      store.claim({ ...delivery, now: later }),
      store.claim({ ...delivery, now: later }),
    ]);

    expect(results.map((r) => r.kind).sort()).toEqual(['in_flight', 'stored']);
    expect(results.find((r) => r.kind === 'stored')).toMatchObject({ takenOver: true });
  });

  it('a retry that finds the event published in the meantime answers duplicate, without reading the table', async () => {
    const { store, sent, beforeNext } = await freshStore();
    const t0 = new Date();
    const delivery = aparaEvent('order.completed', t0);
    const first = await store.claim({ ...delivery, now: t0 });
    if (first.kind !== 'stored') throw new Error('first claim did not store');

    // The retry reads "received, lease expired"; the original invocation marks it published just
    // before the retry's take-over reaches DynamoDB.
    beforeNext(async () => undefined); // the retry's put
    const later = new Date(t0.getTime() + LEASE_MS + 1);
    const retry = store.claim({ ...delivery, now: later });
    await new Promise((r) => setTimeout(r, 0));
    beforeNext(async (command) => {
      if (command instanceof UpdateItemCommand) await store.markPublished(first.pk);
    });
    const answer = await retry;

    expect(answer.kind).toBe('duplicate');
    expect(sent).not.toContain('GetItem');
  });

  it('the ingest path uses only the table actions its IAM role is granted', async () => {
    const { store, sent } = await freshStore();
    const t0 = new Date();
    const completed = aparaEvent('order.completed', t0);
    const settled = aparaEvent('order.fund_settled', t0);
    const failed = aparaEvent('order.fund_failed', t0); // same eventId as fund_settled: a conflict
    const later = new Date(t0.getTime() + LEASE_MS + 1);

    const stored = await store.claim({ ...completed, now: t0 });
    await store.claim({ ...completed, now: t0 }); // in flight
    await store.claim({ ...completed, now: later }); // taken over
    if (stored.kind === 'stored') await store.markPublished(stored.pk);
    await store.claim({ ...completed, now: later }); // duplicate
    const kept = await store.claim({ ...settled, now: t0 });
    if (kept.kind === 'stored') await store.markPending(kept.pk, t0);
    await store.claim({ ...failed, now: t0 }); // conflict
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
