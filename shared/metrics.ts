import type { AuthFailure } from './core/providerModule.ts';
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

/**
 * The values the `reason` dimension of `Rejected{provider, reason}` may take. Each distinct value is
 * one more custom metric per provider (billed monthly), so the set is closed: the authentication
 * failures (401) and the header/body check (400); anything else is counted as `other` (the log line
 * keeps the full reason).
 */
export const REJECTION_REASONS = [
  'no_keys_configured',
  'missing_signature',
  'malformed_signature',
  'unknown_signature_version',
  'bad_signature',
  'no_key_for_version',
  'missing_id',
  'malformed_id',
  'missing_timestamp',
  'malformed_timestamp',
  'stale_timestamp',
  'future_timestamp',
  'EVENT_ID_MISMATCH',
  'other',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];
/** Fails to type-check when an authentication failure is added without its own dimension value. */
export type EveryAuthFailureCounted = AssertTrue<AuthFailure extends RejectionReason ? true : false>;
type AssertTrue<T extends true> = T;

/**
 * Rejections a working provider with the right keys never causes: the key is wrong (a rotation
 * mistake), missing (the secret is still empty), or of another kind than the sender signs with (a
 * Standard Webhooks `whsec_` secret configured for a sender that signs `v1a` only). Junk traffic sends
 * no or malformed signatures, so these stay quiet under a scan; the key-rejection alarm watches them.
 */
export const KEY_REJECTION_REASONS = [
  'bad_signature',
  'no_keys_configured',
  'no_key_for_version',
] as const satisfies readonly RejectionReason[];

/**
 * The `reason` dimension of a rejection: one of REJECTION_REASONS, unknown reasons folded into
 * `other`. A scan of ten strings on the rejection path only; no module-level state (cold start).
 */
export function reasonDimension(reason: string): RejectionReason {
  return (REJECTION_REASONS as readonly string[]).includes(reason) ? (reason as RejectionReason) : 'other';
}
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
