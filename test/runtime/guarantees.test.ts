import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBRecord } from 'aws-lambda';
import * as v from 'valibot';
import { bundleLambda } from '../../bench/bundle.ts';
import { CLIENT_CALL_MAX_MS, CLIENT_CONFIG, INLINE_PUBLISH_MAX_MS } from '../../functions/awsConfig.ts';
import { makeEventHandler } from '../../functions/event-handler/eventHandler.ts';
import { makeStreamPublisher } from '../../functions/stream-publisher/streamPublisher.ts';
import { FUNCTION_SIZING } from '../../infra/functionSizing.ts';
import { apiGatewayEvent } from '../../local/apiGatewayEvent.ts';
import { localClients } from '../../local/awsClients.ts';
import { freePort } from '../../local/servers.ts';
import { startStreamPoller } from '../../local/streamPoller.ts';
import { AlertWindows } from '../../shared/alertWindows.ts';
import { NormalizedEventSchema } from '../../shared/contract/eventContract.ts';
import { parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import { EntityStateStore } from '../../shared/entityState.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { EVENT_ID_HEADER } from '../../shared/providers/openpoly/verify.ts';
import { PROVIDER_NAMES, signerOf } from '../../shared/providers/signers.ts';
import {
  EventPublisher,
  eventMessage,
  MAX_MESSAGE_BYTES,
  snsMessageBytes,
  unpublishableReason,
} from '../../shared/publisher.ts';
import { STREAM_EVENT_FILTER } from '../../shared/resources.ts';
import { startBundledIngest } from '../support/bundledIngest.ts';
import { sqsRecord } from '../support/lambdaEvents.ts';
import { personalDataIn, personalValues } from '../support/personalData.ts';
import { sample, samplesOf } from '../support/samples.ts';
import {
  answerOf,
  captureLogs,
  deadlineContext,
  failingSns,
  hangingEndpoint,
  hangingSns,
  manualClock,
  metricTotals,
  publishedEvent,
  type ReceivedMessage,
  testStack,
  unreachableStore,
  until,
  useLocalServers,
  within,
} from '../support/testStack.ts';

const localServers = useLocalServers();

/**
 * An APARA delivery to `stack`'s ingest as an invocation with `budgetMs` to live (its context's remaining
 * time runs down), failing the test if it is not answered by then: what a function timeout would do.
 */
function deliverInBudget(
  stack: Awaited<ReturnType<typeof testStack>>,
  body: Buffer,
  budgetMs: number,
  what: string,
) {
  return within(
    budgetMs,
    what,
    stack.deliver('apara', body, { context: deadlineContext('ingest-apara', budgetMs) }),
  );
}

/** A DynamoDB client as the Lambda functions build it (`CLIENT_CONFIG`), pointed at `endpoint`. */
const lambdaDynamoDbAt = (endpoint: string) =>
  new DynamoDBClient({ ...CLIENT_CONFIG, endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });

/** An SNS client as the Lambda functions build it (`CLIENT_CONFIG`), pointed at `endpoint`. */
const lambdaSnsAt = (endpoint: string) =>
  new SNSClient({ ...CLIENT_CONFIG, endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

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

  it('50 identical deliveries at once, 5 bursts: every answer 200, one stored item and one message per event', async () => {
    // The inline publish of each burst's first copy waits until another copy has been answered, so
    // copies arrive while the first delivery is still in flight: they must be answered duplicate, not 503.
    const gatedSns = localClients(localServers().endpoints).sns;
    const send = gatedSns.send.bind(gatedSns) as (command: unknown) => Promise<unknown>;
    let answered = 0;
    gatedSns.send = (async (command: unknown) => {
      await until('another copy to be answered while the first publishes', () => answered > 0, 10_000);
      return send(command);
    }) as typeof gatedSns.send;
    const t = await testStack(localServers(), { ingestSns: gatedSns });
    const bodies = [...samplesOf('apara').values()].slice(0, 5);
    expect(bodies).toHaveLength(5);

    const ids: string[] = [];
    for (const body of bodies) {
      answered = 0;
      const signedAt = new Date();
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          t.deliver('apara', body, { signedAt }).then((a) => {
            answered += 1;
            return a;
          }),
        ),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array(50).fill(200));
      const accepted = answers.filter((a) => answerOf(a).status === 'accepted');
      expect(accepted).toHaveLength(1);
      const id = answerOf(accepted[0] ?? {}).id ?? '';
      expect(answers.filter((a) => answerOf(a).status === 'duplicate').map(answerOf)).toEqual(
        Array(49).fill({ status: 'duplicate', id }),
      );
      ids.push(id);
    }

    const stored = await t.stack.store.scanEvents();
    expect(stored.map((item) => item.event.id).sort()).toEqual([...ids].sort());
    const messages = (await t.auditMessages()).map(publishedEvent);
    expect(messages.map((m) => m.id).sort()).toEqual([...ids].sort());
  });
});

describe('stored means published', () => {
  it('the inline publish fails after the store write: still 200, and the stream publisher publishes it once', async () => {
    const t = await testStack(localServers(), { ingestSns: failingSns(localServers()) });
    const logs = captureLogs();

    const response = await t.deliver('coinme', sample('coinme', 'buy-order-completed'));

    expect(response.statusCode).toBe(200);
    expect(answerOf(response).status).toBe('accepted');
    const messages = await t.auditMessages();
    expect(messages.map((m) => publishedEvent(m).id)).toEqual([answerOf(response).id]);
    const totals = metricTotals(logs());
    expect(totals.get('PublishFailed{provider=coinme}')).toBe(1);
    expect(totals.get('StreamPublished{service=stream-publisher}')).toBe(1);
  });

  it('the ingest dies after its write and before it answers, and the provider never retries: published exactly once', async () => {
    const hanging = hangingSns(localServers());
    const t = await testStack(localServers(), { ingestSns: hanging.sns });
    const body = sample('apara', 'order.completed');

    // This invocation never answers: it is stuck in its publish, as if killed there.
    void t.deliver('apara', body);
    await until('the dying invocation to reach its publish', hanging.reached, 10_000);

    const messages = await t.auditMessages();
    expect(messages.map((m) => publishedEvent(m).id)).toEqual(['EV-241127050915602']);
    // A late retry is a duplicate at once: the stored item is bound to be published.
    const retry = await t.deliver('apara', body);
    expect(answerOf(retry)).toEqual({ status: 'duplicate', id: 'EV-241127050915602' });
    expect(await t.auditMessages()).toHaveLength(0);
  });

  it('the ingest process SIGKILLed after its write and before it answers, no retry: the stream publishes it exactly once', async () => {
    const t = await testStack(localServers());
    const hanging = await hangingEndpoint(); // holds the inline publish, so the kill lands before the answer
    const body = sample('apara', 'order.completed');
    const event = apiGatewayEvent(
      'apara',
      body,
      signerOf('apara').sign(body, t.keys.apara?.signingKey ?? '', new Date()),
    );
    // The production bundle (Node does not run this TypeScript as it is).
    const { file: entry } = await bundleLambda(
      'functions/ingest/index.ts',
      mkdtempSync(join(tmpdir(), 'ingest-killed-')),
    );
    const { child, exited, output } = startBundledIngest(entry, {
      event,
      dynamodb: localServers().endpoints.dynamodb,
      sns: hanging.url,
      table: t.resources.table,
      topicArn: t.resources.topicArn,
      verifyKeys: t.keys.apara?.verifyKeys ?? [],
    });
    try {
      await until(
        'the ingest process to store the event',
        async () => (await t.stack.store.get('apara#EV-241127050915602')) !== undefined,
        30_000,
        5,
      );
      child.kill('SIGKILL');
      await exited;
      expect(output()).not.toContain('ANSWER');
    } finally {
      child.kill('SIGKILL');
      await hanging.close();
    }

    const messages = await t.auditMessages();
    expect(messages.map((m) => publishedEvent(m).id)).toEqual(['EV-241127050915602']);
  });

  it('SNS refusing connections, then hanging: 200 within the ingest budget; each event published once when SNS is back', async () => {
    const refusedPort = await freePort();
    const hanging = await hangingEndpoint();
    let snsBack = false;
    const streamSns = localClients(localServers().endpoints).sns;
    const send = streamSns.send.bind(streamSns) as (command: unknown) => Promise<unknown>;
    streamSns.send = (async (command: unknown) => {
      if (!snsBack) throw new Error('injected: SNS unavailable to the stream publisher too');
      return send(command);
    }) as typeof streamSns.send;
    const refusing = await testStack(localServers(), {
      ingestSns: lambdaSnsAt(`http://127.0.0.1:${refusedPort}`),
      streamSns,
    });
    const hangingStack = await testStack(localServers(), {
      ingestSns: lambdaSnsAt(hanging.url),
      share: refusing,
    });
    const budget = FUNCTION_SIZING.ingest.timeoutSeconds * 1000;

    try {
      const first = await deliverInBudget(
        refusing,
        sample('apara', 'order.completed'),
        budget,
        'the ingest with SNS refusing',
      );
      const second = await deliverInBudget(
        hangingStack,
        sample('apara', 'order.fund_settled'),
        budget,
        'the ingest with SNS hanging',
      );
      expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
      expect([answerOf(first).status, answerOf(second).status]).toEqual(['accepted', 'accepted']);
    } finally {
      await hanging.close();
    }

    snsBack = true;
    const messages = (await refusing.auditMessages()).map(publishedEvent);
    expect(messages.map((m) => m.type).sort()).toEqual(['apara.order.completed', 'apara.order.fund_settled']);
    expect(new Set(messages.map((m) => m.id)).size).toBe(2);
  });

  it('the stream publisher killed in the middle of a batch and started again: nothing lost, nothing doubled', async () => {
    const t = await testStack(localServers(), {
      ingestSns: failingSns(localServers()),
      streamPublisher: false,
    });
    const bodies = [...samplesOf('gnosis-pay').values()].slice(0, 8);
    for (const body of bodies) expect(answerOf(await t.deliver('gnosis-pay', body)).status).toBe('accepted');

    // The first publisher publishes three events, then hangs in the fourth publish: it is killed there.
    const firstSns = localClients(localServers().endpoints).sns;
    const send = firstSns.send.bind(firstSns) as (command: unknown) => Promise<unknown>;
    let published = 0;
    firstSns.send = (async (command: unknown) => {
      if (published === 3) return new Promise(() => undefined);
      published += 1;
      return send(command);
    }) as typeof firstSns.send;
    const checkpoints = new Map<string, string>();
    const first = startStreamPoller({
      streams: t.clients.streams,
      streamArn: t.resources.streamArn,
      handler: makeStreamPublisher({ publisher: new EventPublisher(firstSns, t.resources.topicArn) }),
      checkpoints,
    });
    await until('the first publisher to be stuck mid-batch', () => published === 3, 10_000);
    first.kill();

    // Started again, it resumes from its checkpoint: the batch that never finished, from its start.
    t.startStreamPublisher({ checkpoints });
    const messages = (await t.auditMessages()).map(publishedEvent);
    expect(messages).toHaveLength(8);
    expect(new Set(messages.map((m) => m.id)).size).toBe(8);
  });

  it('a failed batch is retried from the failed record, until SNS takes it; other records are not published twice', async () => {
    let failuresLeft = 3;
    const flakySns = localClients(localServers().endpoints).sns;
    const send = flakySns.send.bind(flakySns) as (command: unknown) => Promise<unknown>;
    flakySns.send = (async (command: unknown) => {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('injected: SNS throttled');
      }
      return send(command);
    }) as typeof flakySns.send;
    const t = await testStack(localServers(), { ingestSns: failingSns(localServers()), streamSns: flakySns });
    const logs = captureLogs();

    for (const body of [...samplesOf('coinme').values()]) await t.deliver('coinme', body);

    const messages = (await t.auditMessages()).map(publishedEvent);
    expect(messages).toHaveLength(samplesOf('coinme').size);
    expect(new Set(messages.map((m) => m.id)).size).toBe(samplesOf('coinme').size);
    expect(metricTotals(logs()).get('PublishFailed{service=stream-publisher}')).toBe(3);
  });

  it('only event items reach the stream publisher: not quarantine records, entity states or alert marks', async () => {
    const t = await testStack(localServers(), { streamPublisher: false });
    await t.deliver('apara', sample('apara', 'order.fund_failed')); // an event; the handler alerts on it
    await t.deliver('apara', Buffer.from('{"not json')); // a quarantine record
    await t.handleAll(); // writes the entity state and the alert mark
    const keysOf = async (filter: object) => {
      const keys = new Set<string>();
      const poller = startStreamPoller({
        streams: t.clients.streams,
        streamArn: t.resources.streamArn,
        filter,
        handler: async (event) => {
          for (const record of event.Records) keys.add(record.dynamodb?.Keys?.pk?.S ?? '');
          return { batchItemFailures: [] };
        },
      });
      await poller.caughtUp();
      await poller.stop();
      return [...keys].sort();
    };

    const everything = await keysOf({});
    expect(everything.map((key) => key.split('#')[0])).toEqual(
      expect.arrayContaining(['alert', 'apara', 'state']),
    );
    expect(everything.some((key) => key.startsWith('apara#q#'))).toBe(true);
    expect(await keysOf(STREAM_EVENT_FILTER)).toEqual(['apara#EV-241127050552618']);
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

describe('deadlines hold', () => {
  it('a Lambda client (CLIENT_CONFIG) gives up a call that never answers by itself, with no abort signal', async () => {
    const hanging = await hangingEndpoint();
    const client = lambdaDynamoDbAt(hanging.url);
    try {
      const call = new EventStore(client, 'any').get('apara#EV-1').then(
        () => 'answered',
        (error: Error) => error.name,
      );
      // Without throwOnRequestTimeout the SDK would only warn and wait for ever: this would time out.
      expect(await within(CLIENT_CALL_MAX_MS + 2_000, 'a call to a DynamoDB that never answers', call)).toBe(
        'TimeoutError',
      );
    } finally {
      client.destroy();
      await hanging.close();
    }
  });

  it('DynamoDB accepts connections and never answers: the ingest answers 503 within its budget', async () => {
    const hanging = await hangingEndpoint();
    const neverAnswers = lambdaDynamoDbAt(hanging.url);
    const store = new EventStore(neverAnswers, 'any');
    const t = await testStack(localServers(), { ingestStore: store });
    const budget = FUNCTION_SIZING.ingest.timeoutSeconds * 1000;
    try {
      const response = await deliverInBudget(
        t,
        sample('apara', 'order.completed'),
        budget,
        'the ingest with DynamoDB hanging',
      );
      expect(response.statusCode).toBe(503);
      expect(answerOf(response)).toEqual({ status: 'unavailable' });
    } finally {
      await hanging.close();
    }
  });

  it('the ingest as the Lambda builds it (its clients end their own calls, no abort signal): DynamoDB hanging → 503, SNS hanging → 200, each within the budget', async () => {
    const t = await testStack(localServers());
    const hanging = await hangingEndpoint();
    const { file: entry } = await bundleLambda(
      'functions/ingest/index.ts',
      mkdtempSync(join(tmpdir(), 'ingest-deadlines-')),
    );
    const answerWith = async (endpoints: { dynamodb: string; sns: string }, body: Buffer) => {
      const event = apiGatewayEvent(
        'apara',
        body,
        signerOf('apara').sign(body, t.keys.apara?.signingKey ?? '', new Date()),
      );
      const { child, exited, output } = startBundledIngest(entry, {
        event,
        ...endpoints,
        table: t.resources.table,
        topicArn: t.resources.topicArn,
        verifyKeys: t.keys.apara?.verifyKeys ?? [],
      });
      try {
        // The function's timeout, counted from the process start (the bundle's import included).
        await within(FUNCTION_SIZING.ingest.timeoutSeconds * 1000, 'the bundled ingest', exited);
      } finally {
        child.kill('SIGKILL');
      }
      return JSON.parse(output().replace(/^[\s\S]*ANSWER /, '')) as { statusCode: number; body: string };
    };
    try {
      const unstored = await answerWith(
        { dynamodb: hanging.url, sns: localServers().endpoints.sns },
        sample('apara', 'order.completed'),
      );
      expect(unstored.statusCode).toBe(503);
      const unpublished = await answerWith(
        { dynamodb: localServers().endpoints.dynamodb, sns: hanging.url },
        sample('apara', 'order.fund_settled'),
      );
      expect(unpublished.statusCode).toBe(200);
      expect(answerOf(unpublished).status).toBe('accepted');
    } finally {
      await hanging.close();
    }
  });

  it('a conflict whose second write hangs: 503 within the budget, even when the first write carried no signal', async () => {
    const t = await testStack(localServers());
    expect(answerOf(await t.deliver('apara', sample('apara', 'order.fund_settled'))).status).toBe('accepted');
    // A store whose first write reaches DynamoDB (and fails: the key is taken) and whose next write
    // hangs until its abort signal fires: only a signal on the second write ends it.
    const client = localClients(localServers().endpoints).dynamodb;
    const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
    let writes = 0;
    client.send = ((command: unknown, options?: { abortSignal?: AbortSignal }) => {
      writes += 1;
      if (writes === 1) return send(command, options);
      return new Promise((_, reject) => {
        options?.abortSignal?.addEventListener('abort', () => reject(options.abortSignal?.reason));
      });
    }) as typeof client.send;
    const lambdaLike = await testStack(localServers(), {
      share: t,
      streamPublisher: false,
      ingestStore: new EventStore(client, t.resources.table),
      // Clients that end their own calls within 1 s: the first write, with 3.5 s left, carries no signal.
      ingestCallLimits: { storeMs: 1_000, publishMs: INLINE_PUBLISH_MAX_MS },
    });
    const budget = 4_000;

    const response = await deliverInBudget(
      lambdaLike,
      sample('apara', 'order.fund_failed'),
      budget,
      'the ingest with a conflict write that hangs',
    );

    expect(writes).toBe(2);
    expect(response.statusCode).toBe(503);
  });

  it('SNS never answers: the stream publisher reports the record failed within its budget', async () => {
    const hanging = await hangingEndpoint();
    const sns = lambdaSnsAt(hanging.url);
    const t = await testStack(localServers(), { streamPublisher: false });
    await t.deliver('apara', sample('apara', 'order.completed'));
    const [stored] = await t.stack.store.scanEvents();
    const publish = makeStreamPublisher({ publisher: new EventPublisher(sns, t.resources.topicArn) });
    const budget = 5_000;
    try {
      const record = await firstStreamRecord(t);
      const response = await within(
        budget,
        'the stream publisher with SNS hanging',
        publish({ Records: [record] }, deadlineContext('stream-publisher', budget)),
      );
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.dynamodb?.SequenceNumber }]);
      expect(stored?.pk).toBe('apara#EV-241127050915602');
    } finally {
      await hanging.close();
    }
  });
  it('DynamoDB never answers: the event handler reports the message failed within its budget', async () => {
    const hanging = await hangingEndpoint();
    const t = await testStack(localServers());
    await t.deliver('apara', sample('apara', 'order.completed'));
    const [body] = await t.auditMessages();
    const neverAnswers = lambdaDynamoDbAt(hanging.url);
    const store = new EventStore(neverAnswers, 'any');
    const handler = makeEventHandler({
      states: new EntityStateStore(store),
      store,
      sns: t.clients.sns,
      alertsTopicArn: t.resources.alertsTopicArn,
      alertWindows: new AlertWindows(neverAnswers, 'any', 5 * 60_000, 3600),
    });
    const budget = FUNCTION_SIZING.eventHandler.timeoutSeconds * 1000;
    try {
      const response = await within(
        budget,
        'the event handler with DynamoDB hanging',
        handler({ Records: [sqsRecord('m-1', body ?? '')] }, deadlineContext('event-handler', budget)),
      );
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    } finally {
      await hanging.close();
    }
  });
});

/** The first record of a test stack's table stream, as Lambda hands it to the stream publisher. */
async function firstStreamRecord(t: Awaited<ReturnType<typeof testStack>>): Promise<DynamoDBRecord> {
  let captured: DynamoDBRecord | undefined;
  const poller = startStreamPoller({
    streams: t.clients.streams,
    streamArn: t.resources.streamArn,
    handler: async (event) => {
      captured ??= event.Records[0];
      return { batchItemFailures: [] };
    },
  });
  try {
    await until('a stream record', () => captured !== undefined, 10_000);
  } finally {
    await poller.stop();
  }
  if (!captured) throw new Error('no stream record');
  return captured;
}

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

  it('and digit for digit when the stream publisher publishes it from the store', async () => {
    const t = await testStack(localServers(), { ingestSns: failingSns(localServers()) });
    const response = await t.deliver('gnosis-pay', balance('user_lossless_streamed'));
    expect(answerOf(response).status).toBe('accepted');
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

describe('every stored event is publishable, as SNS counts a message', () => {
  /** The size SNS counts against its limit: the body and each attribute's name, type and value. */
  const snsSize = (m: ReceivedMessage) =>
    snsMessageBytes({
      Message: m.body,
      MessageAttributes: Object.fromEntries(
        Object.entries(m.attributes).map(([name, value]) => [
          name,
          { DataType: 'String' as const, StringValue: value },
        ]),
      ),
    });

  it('an authentic event with a 131,000-character entity type is quarantined with the reason, never accepted', async () => {
    const t = await testStack(localServers());
    const logs = captureLogs();
    const body = Buffer.from(
      JSON.stringify({
        eventId: 'EV-HUGE-TYPE',
        entityId: 'X-1',
        entityType: 'x'.repeat(131_000),
        status: 'completed',
        createdAt: '2024-11-27T05:09:15.027Z',
      }),
    );
    const response = await t.deliver('apara', body);

    expect(response.statusCode).toBe(200);
    expect(answerOf(response)).toMatchObject({ status: 'quarantined' });
    expect(answerOf(response).reason).toMatch(
      /^event type of \d+ bytes is longer than the event type bound \(256 bytes\)$/,
    );
    const [record] = await t.stack.store.scanQuarantine();
    expect(record?.quarantine?.rawBody.equals(body)).toBe(true);
    const totals = metricTotals(logs());
    expect(totals.get('Quarantined{provider=apara}')).toBe(1);
    expect(totals.get('Accepted{provider=apara}')).toBeUndefined();
    expect(await t.stack.store.scanEvents()).toHaveLength(0);
    expect(await t.auditMessages()).toHaveLength(0);
  });

  it('an event whose message would not fit even by reference is refused before the write (the backstop behind the bounds)', () => {
    const event = v.parse(NormalizedEventSchema, {
      specversion: '1.0',
      id: 'EV-MANY-AMOUNTS',
      source: 'webhooks/apara',
      type: 'apara.order.completed',
      subject: 'order/X-1',
      time: '2024-11-27T05:09:15.027Z',
      datacontenttype: 'application/json',
      data: {},
      provider: 'apara',
      receivedat: '2024-11-27T05:09:15.027Z',
      outcome: 'succeeded',
      // Amounts are kept by reference too: 12,000 of them cannot fit in 262,144 bytes.
      amounts: Array.from({ length: 12_000 }, (_, i) => ({
        role: `amount${i}`,
        value: '1.00',
        currency: 'EUR',
      })),
    });
    expect(unpublishableReason(event, 'apara#EV-MANY-AMOUNTS')).toMatch(
      /^event message of \d+ bytes does not fit SNS's 262144 even by reference$/,
    );
    const fits = { ...event, amounts: event.amounts.slice(0, 10) };
    expect(unpublishableReason(fits, 'apara#EV-MANY-AMOUNTS')).toBeUndefined();
  });

  it("the ingest's shortcut (the event's own message, sized once) refuses exactly what the full conflict check refuses, at the limit", () => {
    const pk = 'apara#EV-AT-THE-LIMIT';
    const at = (amounts: number, pad: number) =>
      v.parse(NormalizedEventSchema, {
        specversion: '1.0',
        id: 'EV-AT-THE-LIMIT',
        source: 'webhooks/apara',
        type: 'apara.order.completed',
        subject: `order/${'x'.repeat(pad)}`,
        time: '2024-11-27T05:09:15.027Z',
        datacontenttype: 'application/json',
        data: {},
        provider: 'apara',
        receivedat: '2024-11-27T05:09:15.027Z',
        outcome: 'succeeded',
        amounts: Array.from({ length: amounts }, (_, i) => ({
          role: `a${i}`,
          value: '1.00',
          currency: 'EUR',
        })),
      });
    // The largest count of amounts that still fits, by the full check (by reference: `data` is empty).
    let low = 4_000;
    let high = 6_000;
    while (high - low > 1) {
      const mid = (low + high) >> 1;
      if (unpublishableReason(at(mid, 0), pk) === undefined) low = mid;
      else high = mid;
    }
    let refused = 0;
    let fitted = 0;
    const base = at(low, 0);
    for (let pad = 0; pad <= 80; pad += 2) {
      const event = { ...base, subject: `order/${'x'.repeat(pad)}` };
      const full = unpublishableReason(event, pk);
      expect(unpublishableReason(event, pk, eventMessage(event, pk))).toBe(full);
      if (full === undefined) fitted += 1;
      else refused += 1;
    }
    // The sweep crossed the limit: both answers were seen.
    expect(fitted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('a 131,000-character field elsewhere is published whole, and a body near 256 KiB by reference: each message within 262,144 bytes', async () => {
    const t = await testStack(localServers());
    const base = JSON.parse(sample('apara', 'order.completed').toString('utf8')) as Record<string, unknown>;
    const long = Buffer.from(
      JSON.stringify({ ...base, eventId: 'EV-LONG-FIELD', partnerContext: { note: 'n'.repeat(131_000) } }),
    );
    const envelope = JSON.stringify({
      ...base,
      eventId: 'EV-NEAR-LIMIT',
      partnerContext: { note: '' },
    }).length;
    const nearLimit = Buffer.from(
      JSON.stringify({
        ...base,
        eventId: 'EV-NEAR-LIMIT',
        partnerContext: { note: 'n'.repeat(256 * 1024 - 64 - envelope) },
      }),
    );
    expect(nearLimit.length).toBeLessThanOrEqual(256 * 1024);

    expect(answerOf(await t.deliver('apara', long)).status).toBe('accepted');
    expect(answerOf(await t.deliver('apara', nearLimit)).status).toBe('accepted');

    const messages = await t.auditMessagesWithAttributes();
    const byId = new Map(messages.map((m) => [publishedEvent(m.body).id, m]));
    expect([...byId.keys()].sort()).toEqual(['EV-LONG-FIELD', 'EV-NEAR-LIMIT']);
    for (const message of messages) expect(snsSize(message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(publishedEvent(byId.get('EV-LONG-FIELD')?.body ?? '').data).toBeDefined();
    const byReference = publishedEvent(byId.get('EV-NEAR-LIMIT')?.body ?? '');
    expect(byReference.data).toBeUndefined();
    expect(byReference.dataref).toBe('apara#EV-NEAR-LIMIT');
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
    const t = await testStack(localServers(), { clock: clock.now });
    const snsDown = await testStack(localServers(), {
      clock: clock.now,
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
    expect(await t.auditMessages()).toHaveLength(3); // the stream publishes the coinme event

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
    // Every stored event went through the stream too; the two the ingest had published were collapsed by SNS.
    expect(totals.get('StreamPublished{service=stream-publisher}')).toBe(3);
    expect(totals.get('PublishFailed{service=stream-publisher}')).toBeUndefined();
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
    expect(personalDataIn(logs(), personalValues(PROVIDER_NAMES))).toEqual([]);
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
