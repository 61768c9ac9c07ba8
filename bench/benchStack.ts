import './benchEnv.ts';
import { type AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CLIENT_CALL_MAX_MS, INLINE_PUBLISH_MAX_MS } from '../functions/awsConfig.ts';
import { apiGatewayEvent } from '../local/apiGatewayEvent.ts';
import { type AwsClients, type LocalEndpoints, localClients } from '../local/awsClients.ts';
import type { LocalKeys } from '../local/localKeys.ts';
import { buildLocalStack, type LocalStackOptions } from '../local/localStack.ts';
import { type LocalResources, provisionLocal } from '../local/provision.ts';
import { localContext } from '../local/queuePoller.ts';
import { EventStore } from '../shared/eventStore.ts';
import { logSink } from '../shared/log.ts';
import { EVENT_TABLE } from '../shared/resources.ts';
import { benchKeys, signedHeaders } from './samples.ts';

/** What the handlers logged while the bench ran: counted, not printed (the table stays readable). */
export const logTally = { lines: 0, bytes: 0 };
logSink.write = (line: string) => {
  logTally.lines += 1;
  logTally.bytes += Buffer.byteLength(line) + 1;
};

let counter = 0;

/**
 * Fresh resources on the local servers (own table, topic and queues, with an `audit` queue that sees
 * every published message) and the real handlers wired to them, as the Lambda entries wire them.
 */
export async function benchStack(
  endpoints: LocalEndpoints,
  options: Partial<Omit<LocalStackOptions, 'resources' | 'keys'>> & {
    clients?: AwsClients;
    /** The ingest's clients as the Lambda builds them (`lambdaIngestClients`), with their call limits. */
    lambdaIngest?: Pick<AwsClients, 'dynamodb' | 'sns'>;
  } = {},
) {
  const clients = options.clients ?? localClients(endpoints);
  counter += 1;
  const resources: LocalResources = await provisionLocal(clients, {
    suffix: `-bench${process.pid}-${counter}`,
    subscribers: [{ name: 'audit' }],
  });
  const keys: LocalKeys = benchKeys();
  const { lambdaIngest, ...stackOptions } = options;
  const stack = await buildLocalStack({
    ...stackOptions,
    clients,
    resources,
    keys,
    ...(lambdaIngest
      ? {
          ingestStore: new EventStore(lambdaIngest.dynamodb, resources.table),
          ingestSns: lambdaIngest.sns,
          ingestCallLimits: { storeMs: CLIENT_CALL_MAX_MS, publishMs: INLINE_PUBLISH_MAX_MS },
        }
      : {}),
  });

  /** Signs like the provider and invokes its ingest handler with an API Gateway (v2) event. */
  /** A signed API Gateway event for the provider's ingest, and its handler, ready to invoke. */
  function request(provider: string, body: Buffer, now = new Date()) {
    const handler = stack.ingest[provider];
    if (!handler) throw new Error(`no ingest handler for ${provider}`);
    const event = apiGatewayEvent(provider, body, signedHeaders(provider, body, keys, now));
    const context = localContext(`ingest-${provider}`);
    return (): Promise<APIGatewayProxyStructuredResultV2> => handler(event, context);
  }

  function deliver(
    provider: string,
    body: Buffer,
    now = new Date(),
  ): Promise<APIGatewayProxyStructuredResultV2> {
    return request(provider, body, now)();
  }
  return { clients, resources, keys, stack, request, deliver };
}

export type BenchStack = Awaited<ReturnType<typeof benchStack>>;

export const answerOf = (response: APIGatewayProxyStructuredResultV2) =>
  JSON.parse(response.body ?? '{}') as { status?: string; id?: string };

/** A stored item as DynamoDB holds it, for measuring its size or copying it (`toStoredItem` reads it). */
export async function rawItem(t: BenchStack, pk: string): Promise<Record<string, AttributeValue>> {
  const { Item } = await t.clients.dynamodb.send(
    new GetItemCommand({
      TableName: t.resources.table,
      Key: { [EVENT_TABLE.partitionKey]: { S: pk } },
      ConsistentRead: true,
    }),
  );
  if (!Item) throw new Error(`stored item ${pk} not found`);
  return Item;
}
