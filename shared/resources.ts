/**
 * The shape of every AWS resource the system needs, defined once. The CDK stack (infra/) and the
 * local stack (local/) both build from these definitions, so the two cannot drift apart.
 */

/** The event store: one DynamoDB table, on-demand. */
export const EVENT_TABLE = {
  /** Partition key (string). Event items: `<provider>#<dedupe key>`; other item kinds use their own prefix. */
  partitionKey: 'pk',
  /** TTL attribute: epoch seconds after which DynamoDB may delete the item (lazily, up to 48 h later). */
  ttlAttribute: 'x',
  /** Carried by event items only: the stream publisher's event source passes these. */
  eventItemMarker: 'h',
  /** The stream: every write, as the item looks after it (the publisher needs the new event, nothing else). */
  streamViewType: 'NEW_IMAGE',
} as const;

/**
 * The stream publisher's event-source filter (Lambda's filter-pattern syntax): new event items only,
 * inserted or written over an expired record. Quarantine records, entity states and alert marks share
 * the table and never reach the publisher; neither do TTL deletions.
 */
export const STREAM_EVENT_FILTER = {
  eventName: ['INSERT', 'MODIFY'],
  dynamodb: { NewImage: { [EVENT_TABLE.eventItemMarker]: { S: [{ exists: true }] } } },
} as const;

/** How the stream publisher reads the stream, in AWS and locally. */
export const STREAM_PUBLISHER = {
  batchSize: 100,
  maxBatchingWindowSeconds: 0,
  /** Concurrent batches per shard; records of one key stay in order. */
  parallelizationFactor: 2,
} as const;

/** The SNS FIFO topic every normalized event is published to. */
export const EVENTS_TOPIC = {
  localName: 'webhook-events.fifo',
  // High-throughput FIFO: ordering and deduplication per message group (one group per entity).
  attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'false', FifoThroughputScope: 'MessageGroup' },
} as const;

/** Message attributes set on each published event; subscription filter policies match on these. */
export const MESSAGE_ATTRIBUTES = ['provider', 'type', 'outcome'] as const;

/** Attributes of every FIFO queue that receives events: high throughput, quotas per message group. */
export const FIFO_QUEUE_ATTRIBUTES = {
  FifoQueue: 'true',
  DeduplicationScope: 'messageGroup',
  FifoThroughputLimit: 'perMessageGroupId',
} as const;

/** Receives before a message is moved to its dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;

/** The default consumer's queue (SQS FIFO), fed by the events topic with raw message delivery. */
export const HANDLER_QUEUE = {
  localName: 'webhook-handler.fifo',
  localDlqName: 'webhook-handler-dlq.fifo',
  visibilityTimeoutSeconds: 60,
  /** Message retention of the DLQ (14 days, the SQS maximum). */
  dlqRetentionSeconds: 14 * 24 * 3600,
} as const;

/** The operator alert topic (standard SNS): action_required and failed outcomes, alarms. */
export const ALERTS_TOPIC = { localName: 'webhook-alerts' } as const;

/** A queue for another service, declared in configuration. */
export interface SubscriberQueue {
  /** Logical name, letters, digits and dashes; the queue is `<name>.fifo`. */
  name: string;
  /** SNS filter policy on the message attributes, e.g. `{ "provider": ["apara"], "outcome": ["succeeded"] }`. */
  filterPolicy?: Partial<Record<(typeof MESSAGE_ATTRIBUTES)[number], string[]>>;
  /** Another AWS account that owns the consumer and may subscribe its own queue. */
  consumerAccountId?: string;
}
