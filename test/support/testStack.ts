import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as v from 'valibot';
import type { AnswerBody } from '../../functions/ingest/answers.ts';
import { apiGatewayEvent } from '../../local/apiGatewayEvent.ts';
import { type AwsClients, localClients } from '../../local/awsClients.ts';
import { generateKeys, type LocalKeys } from '../../local/localKeys.ts';
import { buildLocalStack, type LocalStackOptions } from '../../local/localStack.ts';
import { type LocalResources, type ProvisionOptions, provisionLocal } from '../../local/provision.ts';
import { localContext, pollOnce } from '../../local/queuePoller.ts';
import { freePort, type LocalServers, startLocalServers } from '../../local/servers.ts';
import { type NormalizedEvent, NormalizedEventSchema } from '../../shared/contract/eventContract.ts';
import { parseJson } from '../../shared/core/losslessJson.ts';
import { EventStore, type EventStoreOptions } from '../../shared/eventStore.ts';
import { logSink } from '../../shared/log.ts';
import { PROVIDER_NAMES, signerOf } from '../../shared/providers/signers.ts';
import { EVENT_TABLE } from '../../shared/resources.ts';
import { personalValues } from './samples.ts';

/**
 * DynamoDB Local and fauxqs for the whole test file: started before its first test, stopped after its
 * last. Call at the top of a test file; the returned function gives the running servers.
 */
export function useLocalServers(): () => LocalServers {
  let servers: LocalServers | undefined;
  beforeAll(async () => {
    servers = await startLocalServers();
  });
  afterAll(async () => {
    await servers?.stop();
  });
  return () => {
    if (!servers) throw new Error('local servers are not started (call useLocalServers at file level)');
    return servers;
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
  const all = capturedLogs.join('\n');
  expect(personalValues(PROVIDER_NAMES).filter((value) => all.includes(value))).toEqual([]);
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
export async function unreachableStore(leaseMs = 10_000): Promise<EventStore> {
  const deadPort = await freePort();
  return new EventStore(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${deadPort}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    }),
    { table: 'any', leaseMs },
  );
}

/**
 * An event store on the local DynamoDB whose client throws for the commands `fails` picks (every
 * other command goes through). `failures()` counts the injected errors.
 */
export function faultyStore(
  servers: LocalServers,
  options: EventStoreOptions,
  fails: (command: unknown) => boolean,
): { store: EventStore; failures: () => number } {
  const dynamodb = localClients(servers.endpoints).dynamodb;
  const send = dynamodb.send.bind(dynamodb) as (command: unknown) => Promise<unknown>;
  let failures = 0;
  dynamodb.send = (async (command: unknown) => {
    if (fails(command)) {
      failures += 1;
      throw new Error('injected: DynamoDB request failed');
    }
    return send(command);
  }) as typeof dynamodb.send;
  return { store: new EventStore(dynamodb, options), failures: () => failures };
}

/** The UpdateItem that puts an event in the sweeper's pending index (a SET of its partition key). */
export function setsPendingMark(command: unknown): boolean {
  if (!(command instanceof UpdateItemCommand)) return false;
  const { UpdateExpression = '', ExpressionAttributeNames = {} } = command.input;
  const setClause = UpdateExpression.split(/\b(?:REMOVE|ADD|DELETE)\b/)[0] ?? '';
  return Object.entries(ExpressionAttributeNames).some(
    ([alias, name]) => name === EVENT_TABLE.pendingIndex.partitionKey && setClause.includes(alias),
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
  const { provision: _p, clients: _c, share: _s, ...stackOptions } = options;
  const stack = await buildLocalStack({ clients, resources, keys, ...stackOptions });
  const auditUrl = resources.subscriberQueues.audit?.url ?? '';

  /** Signs like the provider and invokes its ingest handler with an API Gateway event. */
  async function deliver(
    provider: string,
    body: Buffer,
    opts: { signedAt?: Date; method?: string; base64?: boolean; headers?: Record<string, string> } = {},
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
    opts: { method?: string; base64?: boolean } = {},
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const handler = stack.ingest[provider];
    if (!handler) throw new Error(`no ingest handler for ${provider}`);
    return handler(apiGatewayEvent(provider, body, headers, opts), localContext(`ingest-${provider}`));
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
    auditMessages: () => drain(clients.sqs, auditUrl),
  };
}

/** Receives and deletes everything on a queue until it stays empty; returns the bodies in order. */
export async function drain(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  let empty = 0;
  while (empty < 3) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    if (Messages.length === 0) {
      empty += 1;
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    empty = 0;
    bodies.push(...Messages.map((m) => m.Body ?? ''));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return bodies;
}
