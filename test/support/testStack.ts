import { createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as v from 'valibot';
import type { AnswerBody } from '../../functions/ingest/answers.ts';
import { apiGatewayEvent } from '../../local/apiGatewayEvent.ts';
import { type AwsClients, localClients } from '../../local/awsClients.ts';
import { generateKeys, type LocalKeys } from '../../local/localKeys.ts';
import { buildLocalStack, type LocalStackOptions } from '../../local/localStack.ts';
import { type LocalResources, type ProvisionOptions, provisionLocal } from '../../local/provision.ts';
import { localContext, pollOnce } from '../../local/queuePoller.ts';
import { freePort, type LocalServers, startLocalServers } from '../../local/servers.ts';
import type { StreamPoller, StreamPollerOptions } from '../../local/streamPoller.ts';
import { type NormalizedEvent, NormalizedEventSchema } from '../../shared/contract/eventContract.ts';
import { parseJson } from '../../shared/core/losslessJson.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { logSink } from '../../shared/log.ts';
import { PROVIDER_NAMES, signerOf } from '../../shared/providers/signers.ts';
import { personalDataIn, personalValues } from './personalData.ts';

/**
 * DynamoDB Local and fauxqs for the whole test file: started before its first test, stopped after its
 * last. Call at the top of a test file; the returned function gives the running servers.
 */
export function useLocalServers(): () => LocalServers {
  let servers: LocalServers | undefined;
  beforeAll(async () => {
    servers = await startLocalServers();
  });
  // Each test's stream publishers stop with it, so idle pollers of finished tests do not pile up.
  afterEach(stopStreamPublishers);
  afterAll(async () => {
    await stopStreamPublishers();
    await servers?.stop();
  });
  return () => {
    if (!servers) throw new Error('local servers are not started (call useLocalServers at file level)');
    return servers;
  };
}

const runningPollers: { table: string; poller: StreamPoller }[] = [];

/** Stops every stream publisher the test stacks started. */
export async function stopStreamPublishers(): Promise<void> {
  await Promise.all(runningPollers.splice(0).map(({ poller }) => poller.stop()));
}

/**
 * Waits until every stream publisher running on the table has published what the stream holds now
 * (fails after `deadlineMs`: a stalled publisher fails the test instead of hanging it).
 */
export async function streamSettled(table: string, deadlineMs = 15_000): Promise<void> {
  const pollers = runningPollers.filter((running) => running.table === table);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the stream publisher did not catch up within ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  try {
    await Promise.race([Promise.all(pollers.map(({ poller }) => poller.caughtUp())), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Lambda context whose remaining time runs down from `timeoutMs`, as in a real invocation. */
export function deadlineContext(functionName: string, timeoutMs: number) {
  const started = Date.now();
  return {
    ...localContext(functionName),
    getRemainingTimeInMillis: () => timeoutMs - (Date.now() - started),
  };
}

/**
 * Settles `work` or fails once `budgetMs` has passed: what a function timeout does to an invocation.
 * A deadline the code under test must meet, not a measurement.
 */
export async function within<T>(budgetMs: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${budgetMs} ms`)), budgetMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A TCP server on loopback that accepts every connection and never answers: an AWS endpoint that hangs.
 * `close()` drops the connections it holds.
 */
export async function hangingEndpoint(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A message body read as the normalized event contract (validated, numbers lossless). */
export function publishedEvent(body: string): NormalizedEvent {
  return v.parse(NormalizedEventSchema, parseJson(body));
}

/** Every log line written during this test file, for the no-personal-data check. */
export const capturedLogs: string[] = [];
logSink.write = (line: string) => {
  capturedLogs.push(line);
};

// Every test file that runs the stack ends by checking that no log line holds personal data.
afterAll(() => {
  expect(personalDataIn(capturedLogs, personalValues(PROVIDER_NAMES))).toEqual([]);
});

/**
 * The log lines written from now on: call before the deliveries a test checks, read after them. Keeps
 * a test's metric and log checks independent of what earlier tests in the file logged.
 */
export function captureLogs(): () => string[] {
  const since = capturedLogs.length;
  return () => capturedLogs.slice(since);
}

/**
 * Totals of the embedded-metric-format lines among `lines`, keyed `Name{dim=value,…}`, e.g.
 * `Accepted{provider=apara}` or `Rejected{provider=openpoly,reason=bad_signature}`.
 */
export function metricTotals(lines: readonly string[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of lines.filter((l) => l.includes('"CloudWatchMetrics"'))) {
    const emf = JSON.parse(line) as Record<string, unknown> & {
      _aws: {
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
      };
    };
    const [directive] = emf._aws.CloudWatchMetrics;
    if (directive?.Namespace !== 'WebhookIntake') throw new Error(`metric namespace ${directive?.Namespace}`);
    const dims = (directive.Dimensions[0] ?? []).map((d) => `${d}=${emf[d]}`).join(',');
    for (const { Name } of directive.Metrics) {
      const key = `${Name}{${dims}}`;
      totals.set(key, (totals.get(key) ?? 0) + Number(emf[Name]));
    }
  }
  return totals;
}

/** The JSON body of an ingest answer; an answer without a body fails the test. */
export function answerOf(response: APIGatewayProxyStructuredResultV2): AnswerBody {
  if (typeof response.body !== 'string') throw new Error(`answer ${response.statusCode} has no body`);
  return JSON.parse(response.body) as AnswerBody;
}

/**
 * Polls `condition` (every `intervalMs`) until it holds; fails with `what` once `deadlineMs` has passed.
 * Every wait in a test has a deadline, so a broken behaviour fails instead of hanging.
 */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  deadlineMs = 10_000,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** An SNS client on the local servers whose every call fails: SNS is down for the ingest path. */
export function failingSns(servers: LocalServers): SNSClient {
  const sns = localClients(servers.endpoints).sns;
  sns.send = async () => {
    throw new Error('injected: SNS unavailable');
  };
  return sns;
}

/**
 * An SNS client whose publish never returns: the invocation dies at that point. `reached()` says
 * whether an invocation got that far.
 */
export function hangingSns(servers: LocalServers): { sns: SNSClient; reached: () => boolean } {
  const sns = localClients(servers.endpoints).sns;
  let reached = false;
  sns.send = () => {
    reached = true;
    return new Promise(() => undefined) as never;
  };
  return { sns, reached: () => reached };
}

/** An event store whose DynamoDB endpoint is a closed port: every call fails at once. */
export async function unreachableStore(): Promise<EventStore> {
  const deadPort = await freePort();
  return new EventStore(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${deadPort}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    }),
    'any',
  );
}

let counter = 0;

/** A manual clock: tests move time instead of waiting for it. */
export function manualClock(start = Date.now()) {
  let now = start;
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

/**
 * Fresh, isolated resources on the shared local servers, the real handlers wired to them, and helpers
 * to deliver signed webhooks and read queues. An `audit` queue subscribed to the topic without a
 * filter sees every published message, while the handler queue feeds the event handler.
 */
export async function testStack(
  servers: LocalServers,
  options: Partial<Omit<LocalStackOptions, 'clients' | 'resources' | 'keys'>> & {
    provision?: ProvisionOptions;
    clients?: AwsClients;
    /** Another test stack's resources and keys: a second set of handlers on the same table and topic. */
    share?: { resources: LocalResources; keys: LocalKeys };
    /**
     * The stream publisher on the table's stream, as Lambda's event source mapping runs it: started
     * with the stack unless `false` (a test that starts its own, or shares a table whose publisher runs).
     */
    streamPublisher?: false | Partial<StreamPollerOptions>;
  } = {},
) {
  const clients = options.clients ?? localClients(servers.endpoints);
  counter += 1;
  const resources =
    options.share?.resources ??
    (await provisionLocal(clients, {
      suffix: `-t${process.pid}-${counter}`,
      visibilityTimeoutSeconds: 1,
      subscribers: [{ name: 'audit' }],
      ...options.provision,
    }));
  const keys: LocalKeys =
    options.share?.keys ?? Object.fromEntries(PROVIDER_NAMES.map((name) => [name, generateKeys(name)]));
  const { provision: _p, clients: _c, share: _s, streamPublisher, ...stackOptions } = options;
  const stack = await buildLocalStack({ clients, resources, keys, ...stackOptions });
  /** Starts a stream publisher on this stack's table; it stops when the test ends. */
  const startStreamPublisher = (overrides: Partial<StreamPollerOptions> = {}): StreamPoller => {
    const poller = stack.startStreamPublisher({ idleMs: 50, retryMs: 100, ...overrides });
    runningPollers.push({ table: resources.table, poller });
    return poller;
  };
  if (streamPublisher !== false && !options.share) startStreamPublisher(streamPublisher || {});
  const auditUrl = resources.subscriberQueues.audit?.url ?? '';

  /** Signs like the provider and invokes its ingest handler with an API Gateway event. */
  async function deliver(
    provider: string,
    body: Buffer,
    opts: {
      signedAt?: Date;
      method?: string;
      base64?: boolean;
      headers?: Record<string, string>;
      context?: Context;
    } = {},
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const signingKey = keys[provider]?.signingKey ?? '';
    const headers = {
      ...signerOf(provider).sign(body, signingKey, opts.signedAt ?? new Date()),
      ...opts.headers,
    };
    return invoke(provider, body, headers, opts);
  }

  async function invoke(
    provider: string,
    body: Buffer,
    headers: Record<string, string>,
    opts: { method?: string; base64?: boolean; context?: Context } = {},
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const handler = stack.ingest[provider];
    if (!handler) throw new Error(`no ingest handler for ${provider}`);
    return handler(
      apiGatewayEvent(provider, body, headers, opts),
      opts.context ?? localContext(`ingest-${provider}`),
    );
  }

  /** Runs the event handler over the handler queue until it stays empty. */
  async function handleAll(maxRounds = 50): Promise<void> {
    let empty = 0;
    for (let round = 0; round < maxRounds && empty < 3; round += 1) {
      const count = await pollOnce(clients.sqs, resources.handlerQueueUrl, stack.eventHandler);
      empty = count === 0 ? empty + 1 : 0;
      if (count === 0) await new Promise((r) => setTimeout(r, 30));
    }
  }

  return {
    clients,
    resources,
    keys,
    stack,
    deliver,
    invoke,
    handleAll,
    startStreamPublisher,
    /** Every message the topic delivered, once the stream publisher has published what is stored. */
    auditMessages: async () => {
      await streamSettled(resources.table);
      return drain(clients.sqs, auditUrl);
    },
    /** The audit queue's messages with their attributes, for measuring them as SNS counts. */
    auditMessagesWithAttributes: async () => {
      await streamSettled(resources.table);
      return drainWithAttributes(clients.sqs, auditUrl);
    },
  };
}

/** A new queue subscribed (raw) to the test stack's alert topic; returns its URL. */
export async function subscribeAlerts(t: Awaited<ReturnType<typeof testStack>>): Promise<string> {
  const { CreateQueueCommand, GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  const { SubscribeCommand } = await import('@aws-sdk/client-sns');
  counter += 1;
  const { QueueUrl = '' } = await t.clients.sqs.send(
    new CreateQueueCommand({ QueueName: `alerts-${process.pid}-${counter}` }),
  );
  const { Attributes } = await t.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await t.clients.sns.send(
    new SubscribeCommand({
      TopicArn: t.resources.alertsTopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return QueueUrl;
}

/** Receives and deletes everything on a queue until it stays empty; returns the bodies in order. */
export async function drain(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  return (await drainWithAttributes(sqs, queueUrl)).map((message) => message.body);
}

/** A received message: its body and its message attributes (string values). */
export interface ReceivedMessage {
  body: string;
  attributes: Record<string, string>;
}

/** Receives and deletes everything on a queue until it stays empty, with each message's attributes. */
export async function drainWithAttributes(sqs: SQSClient, queueUrl: string): Promise<ReceivedMessage[]> {
  const bodies: ReceivedMessage[] = [];
  let empty = 0;
  while (empty < 3) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) {
      empty += 1;
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    empty = 0;
    bodies.push(
      ...Messages.map((m) => ({
        body: m.Body ?? '',
        attributes: Object.fromEntries(
          Object.entries(m.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue ?? '']),
        ),
      })),
    );
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return bodies;
}
