/** Environment variable names shared by the Lambda functions, the CDK stack and the local stack. */
export const ENV = {
  /** DynamoDB table name of the event store. */
  table: 'EVENTS_TABLE',
  /** ARN of the SNS FIFO events topic. */
  topicArn: 'EVENTS_TOPIC_ARN',
  /** ARN of the operator alert topic. */
  alertsTopicArn: 'ALERTS_TOPIC_ARN',
  /** Route name of the provider an ingest function serves. */
  provider: 'WEBHOOK_PROVIDER',
  /** Secrets Manager secret (ARN or name) holding the provider's keys (AWS). */
  secretId: 'PROVIDER_SECRET_ID',
  /** The provider's keys as JSON `{"keys": [...]}` or one plain key (local runs only). */
  keys: 'PROVIDER_KEYS',
  /** Header carrying the signature, for providers that let the receiver choose. */
  signatureHeader: 'SIGNATURE_HEADER',
  /** Accepted skew of signed timestamps, seconds. */
  toleranceSeconds: 'SIGNATURE_TOLERANCE_SECONDS',
  /** How long stored events are kept (and so the dedupe window), days. */
  retentionDays: 'RETENTION_DAYS',
  /** Length of an operator alert aggregation window, minutes (event handler). */
  alertWindowMinutes: 'ALERT_WINDOW_MINUTES',
  /**
   * `compatible`: the ingest writes event items the release before 2026-11-30 also reads (event deflated,
   * payload hash in `h`), for an update that may have to be rolled back. Unset: compact items.
   */
  eventItems: 'EVENT_ITEMS',
} as const;

/** Operator alerts are aggregated over windows of this many minutes when a deployment says nothing. */
export const DEFAULT_ALERT_WINDOW_MINUTES = 5;

/** How long events (and so dedupe records and entity states) are kept when a deployment says nothing. */
export const DEFAULT_RETENTION_DAYS = 30;
