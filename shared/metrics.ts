import { logSink } from './log.ts';

/**
 * CloudWatch metrics in embedded metric format (EMF): one JSON log line per invocation that CloudWatch
 * turns into metrics, with no API call and no extra latency. The names are shared with the alarms and
 * the dashboard in infra/, so they cannot drift.
 */
export const METRICS_NAMESPACE = 'WebhookIntake';

export const METRIC = {
  accepted: 'Accepted',
  duplicate: 'Duplicate',
  conflict: 'Conflict',
  quarantined: 'Quarantined',
  rejected: 'Rejected',
  storeUnavailable: 'StoreUnavailable',
  publishFailed: 'PublishFailed',
  ingestLatency: 'IngestLatency',
  streamPublished: 'StreamPublished',
  unpublishable: 'Unpublishable',
  handled: 'Handled',
  staleIgnored: 'StaleIgnored',
  alertsSent: 'AlertsSent',
} as const;

/** The `service` dimension of the metrics that are not per provider. */
export const SERVICE = { streamPublisher: 'stream-publisher', eventHandler: 'event-handler' } as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
type Unit = 'Count' | 'Milliseconds' | 'Seconds';

/** Collects metrics for one invocation and writes them as one EMF line with the given dimensions. */
export class MetricSet {
  private readonly values = new Map<MetricName, { unit: Unit; value: number }>();

  constructor(private readonly dimensions: Record<string, string>) {}

  add(name: MetricName, value = 1, unit: Unit = 'Count'): void {
    const current = this.values.get(name);
    this.values.set(name, { unit, value: (current?.value ?? 0) + value });
  }

  /** Writes the EMF line (nothing when no metric was added) and clears the set. */
  flush(write: (line: string) => void = logSink.write): void {
    if (this.values.size === 0) return;
    const metrics = [...this.values].map(([name, { unit }]) => ({ Name: name, Unit: unit }));
    const body: Record<string, unknown> = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          { Namespace: METRICS_NAMESPACE, Dimensions: [Object.keys(this.dimensions)], Metrics: metrics },
        ],
      },
      ...this.dimensions,
    };
    for (const [name, { value }] of this.values) body[name] = value;
    this.values.clear();
    write(JSON.stringify(body));
  }
}
