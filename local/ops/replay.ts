import type { EventStore, StoredEvent } from '../../shared/eventStore.ts';
import { errorField } from '../../shared/log.ts';
import type { EventPublisher } from '../../shared/publisher.ts';
import { scanEvents } from './storedEvents.ts';

export interface ReplayDependencies {
  store: EventStore;
  publisher: EventPublisher;
}

export interface ReplayRequest {
  provider: string;
  /** Receive time from (inclusive). */
  since: Date;
  /** Receive time until (exclusive). */
  until: Date;
  /** List what would be sent; publish nothing. */
  dryRun?: boolean;
  /**
   * Part of each message's deduplication id. SNS FIFO drops a second message with the same id for
   * five minutes: without a fresh salt, replaying a recent event would silently do nothing.
   */
  salt?: string;
}

export interface ReplayReport {
  /** The stored events in the range, oldest received first: what was (or, in a dry run, would be) sent. */
  events: StoredEvent[];
  published: number;
  failed: { pk: string; error: string }[];
}

/**
 * Publishes again, to the events topic, every stored event of one provider received in the time
 * range, each flagged `replayed: true`. Oldest first, so every entity's events keep their order.
 *
 * @example
 * await replay(deps, { provider: 'apara', since: new Date('2024-11-27T05:00Z'), until: new Date() });
 */
export async function replay(
  deps: ReplayDependencies,
  request: ReplayRequest,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<ReplayReport> {
  if (!(request.since < request.until))
    throw new Error('the time range is empty: --since must be before --until');
  const events = await scanEvents(deps.store, {
    provider: request.provider,
    since: request.since,
    until: request.until,
  });
  const report: ReplayReport = { events, published: 0, failed: [] };
  if (request.dryRun) return report;

  const salt = request.salt ?? `replay ${new Date().toISOString()} ${Math.random().toString(36).slice(2)}`;
  onProgress(0, events.length);
  for (const [index, { pk, event }] of events.entries()) {
    try {
      await deps.publisher.publish({ ...event, replayed: true }, pk, { dedupeSalt: salt });
      report.published += 1;
    } catch (error) {
      report.failed.push({ pk, error: errorField(error) });
    }
    onProgress(index + 1, events.length);
  }
  return report;
}
