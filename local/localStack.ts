import type { SNSClient } from '@aws-sdk/client-sns';
import { makeEventHandler, type TypedHandler } from '../functions/event-handler/eventHandler.ts';
import { makeIngestHandler } from '../functions/ingest/ingestHandler.ts';
import { makeStreamPublisher } from '../functions/stream-publisher/streamPublisher.ts';
import { AlertWindows } from '../shared/alertWindows.ts';
import { DEFAULT_ALERT_WINDOW_MINUTES } from '../shared/config.ts';
import type { ProviderModule } from '../shared/core/providerModule.ts';
import { EntityStateStore } from '../shared/entityState.ts';
import { EventStore } from '../shared/eventStore.ts';
import { cachedKeySource } from '../shared/providerKeys.ts';
import { loadProviders, PROVIDER_NAMES } from '../shared/providers/registry.ts';
import { EventPublisher } from '../shared/publisher.ts';
import type { AwsClients } from './awsClients.ts';
import { hasKeyOverride, type LocalKeys, readLocalProviderKeys } from './localKeys.ts';
import type { LocalResources } from './provision.ts';
import { type StreamPoller, type StreamPollerOptions, startStreamPoller } from './streamPoller.ts';

export interface LocalStackOptions {
  clients: AwsClients;
  resources: LocalResources;
  keys: LocalKeys;
  /**
   * The key file the keys came from: the ingest handlers then reload their verify keys from it the
   * way the Lambda reloads its secret (after a signature failure, at most once a minute), so
   * `ops keys` changes reach a running stack. Unset: `keys` stay as given.
   */
  keysFile?: string;
  retentionSeconds?: number;
  clock?: () => Date;
  /** The SNS client the ingest path publishes with (tests wrap it to inject failures). */
  ingestSns?: SNSClient;
  /** The EventStore the ingest path stores with (tests wrap it to inject failures). */
  ingestStore?: EventStore;
  /** How long one call through the ingest's clients can take at most (see `IngestDependencies`). */
  ingestCallLimits?: { storeMs: number; publishMs: number };
  /** The SNS client the stream publisher publishes with (tests wrap it to inject failures). */
  streamSns?: SNSClient;
  routes?: Record<string, TypedHandler>;
  /** Length of an operator alert window (default DEFAULT_ALERT_WINDOW_MINUTES). */
  alertWindowMs?: number;
  /** The event handler's clock (tests move alert windows with it). */
  handlerClock?: () => Date;
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
      const { keysFile } = options;
      let first = true;
      const load = async () => {
        // The first load takes the keys given (environment overrides included); reloads read the file.
        if (first || !keysFile || hasKeyOverride(name)) {
          first = false;
          return options.keys[name]?.verifyKeys ?? [];
        }
        return readLocalProviderKeys(keysFile, name).verifyKeys;
      };
      const keys = cachedKeySource(load, { ...(signatureHeader ? { signatureHeader } : {}) }, undefined, () =>
        (options.clock?.() ?? new Date()).getTime(),
      );
      const handler = makeIngestHandler({
        provider: providers[name] as ProviderModule,
        keys,
        store: ingestStore,
        publisher: ingestPublisher,
        retentionSeconds: options.retentionSeconds ?? 30 * 24 * 3600,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.ingestCallLimits ? { callLimits: options.ingestCallLimits } : {}),
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
    alertWindows: new AlertWindows(
      clients.dynamodb,
      resources.table,
      options.alertWindowMs ?? DEFAULT_ALERT_WINDOW_MINUTES * 60_000,
      options.retentionSeconds ?? 30 * 24 * 3600,
    ),
    ...(options.handlerClock ? { clock: options.handlerClock } : {}),
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
