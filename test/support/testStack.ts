import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as v from 'valibot';
import { apiGatewayEvent } from '../../local/apiGatewayEvent.ts';
import { type AwsClients, localClients } from '../../local/awsClients.ts';
import { generateKeys, type LocalKeys } from '../../local/localKeys.ts';
import { buildLocalStack, type LocalStackOptions } from '../../local/localStack.ts';
import { type LocalResources, type ProvisionOptions, provisionLocal } from '../../local/provision.ts';
import { localContext, pollOnce } from '../../local/queuePoller.ts';
import { type LocalServers, startLocalServers } from '../../local/servers.ts';
import { type NormalizedEvent, NormalizedEventSchema } from '../../shared/contract/eventContract.ts';
import { parseJson } from '../../shared/core/losslessJson.ts';
import { logSink } from '../../shared/log.ts';
import { PROVIDER_NAMES, providerEntry } from '../../shared/providers/registry.ts';
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
      ...providerEntry(provider).sign(body, signingKey, opts.signedAt ?? new Date()),
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
