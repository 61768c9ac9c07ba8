import type { SNSClient } from '@aws-sdk/client-sns';
import { makeEventHandler, type TypedHandler } from '../functions/event-handler/eventHandler.ts';
import { makeIngestHandler } from '../functions/ingest/ingestHandler.ts';
import { makeStreamPublisher } from '../functions/stream-publisher/streamPublisher.ts';
import type { ProviderModule } from '../shared/core/providerModule.ts';
import { EntityStateStore } from '../shared/entityState.ts';
import { EventStore } from '../shared/eventStore.ts';
import { cachedKeySource } from '../shared/providerKeys.ts';
import { loadProviders, PROVIDER_NAMES } from '../shared/providers/registry.ts';
import { EventPublisher } from '../shared/publisher.ts';
import type { AwsClients } from './awsClients.ts';
import type { LocalKeys } from './localKeys.ts';
import type { LocalResources } from './provision.ts';
import { type StreamPoller, type StreamPollerOptions, startStreamPoller } from './streamPoller.ts';

export interface LocalStackOptions {
  clients: AwsClients;
  resources: LocalResources;
  keys: LocalKeys;
  retentionSeconds?: number;
  clock?: () => Date;
  /** The SNS client the ingest path publishes with (tests wrap it to inject failures). */
  ingestSns?: SNSClient;
  /** The EventStore the ingest path stores with (tests wrap it to inject failures). */
  ingestStore?: EventStore;
  /** The SNS client the stream publisher publishes with (tests wrap it to inject failures). */
  streamSns?: SNSClient;
  routes?: Record<string, TypedHandler>;
  /** Per provider settings such as a custom signature header. */
  signatureHeaders?: Record<string, string>;
}

/**
 * The same handlers that run in Lambda, wired to the local servers: one ingest handler per provider,
 * the stream publisher (started on the table's stream with `startStreamPublisher`) and the default
 * event handler.
 */
export async function buildLocalStack(options: LocalStackOptions) {
  const providers = await loadProviders();
  const { clients, resources } = options;
  const store = new EventStore(clients.dynamodb, resources.table);
  const publisher = new EventPublisher(clients.sns, resources.topicArn);
  const ingestStore = options.ingestStore ?? store;
  const ingestPublisher = options.ingestSns
    ? new EventPublisher(options.ingestSns, resources.topicArn)
    : publisher;

  const ingest = Object.fromEntries(
    PROVIDER_NAMES.map((name) => {
      const signatureHeader = options.signatureHeaders?.[name];
      const keys = cachedKeySource(async () => options.keys[name]?.verifyKeys ?? [], {
        ...(signatureHeader ? { signatureHeader } : {}),
      });
      const handler = makeIngestHandler({
        provider: providers[name] as ProviderModule,
        keys,
        store: ingestStore,
        publisher: ingestPublisher,
        retentionSeconds: options.retentionSeconds ?? 30 * 24 * 3600,
        ...(options.clock ? { clock: options.clock } : {}),
      });
      return [name, handler];
    }),
  );

  const streamPublisher = makeStreamPublisher({
    publisher: options.streamSns ? new EventPublisher(options.streamSns, resources.topicArn) : publisher,
  });
  const states = new EntityStateStore(store);
  const eventHandler = makeEventHandler({
    states,
    store,
    sns: clients.sns,
    alertsTopicArn: resources.alertsTopicArn,
    ...(options.routes ? { routes: options.routes } : {}),
  });

  return {
    store,
    states,
    publisher,
    ingest,
    streamPublisher,
    eventHandler,
    /** Runs the stream publisher on the table's stream, as Lambda's event source mapping does. */
    startStreamPublisher: (overrides: Partial<StreamPollerOptions> = {}): StreamPoller =>
      startStreamPoller({
        streams: clients.streams,
        streamArn: resources.streamArn,
        handler: streamPublisher,
        ...overrides,
      }),
  };
}

export type LocalStack = Awaited<ReturnType<typeof buildLocalStack>>;
