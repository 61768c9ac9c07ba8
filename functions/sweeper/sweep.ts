import type { EventStore } from '../../shared/eventStore.ts';
import { errorField, log } from '../../shared/log.ts';
import { METRIC, MetricSet, SERVICE } from '../../shared/metrics.ts';
import type { EventPublisher } from '../../shared/publisher.ts';

export interface SweepDependencies {
  store: EventStore;
  publisher: EventPublisher;
  clock?: () => Date;
}

export interface SweepReport {
  published: number;
  failed: number;
  /** Age of the oldest event still waiting, in seconds (0 when none waits). */
  oldestWaitingSeconds: number;
}

/**
 * Publishes stored events whose publish failed at intake (they sit in the sparse `pending` index),
 * each exactly once: an event is taken over with a conditional lease before it is published, so two
 * sweeps, or a sweep and a provider retry, never both publish it.
 */
export async function sweep(deps: SweepDependencies): Promise<SweepReport> {
  const clock = deps.clock ?? (() => new Date());
  const metrics = new MetricSet({ service: SERVICE.sweeper });
  const report: SweepReport = { published: 0, failed: 0, oldestWaitingSeconds: 0 };
  const now = clock();
  const waiting = await deps.store.pendingEvents(now);
  // The index is sorted by the time each event started waiting: the first is the oldest.
  if (waiting[0]) report.oldestWaitingSeconds = Math.floor((now.getTime() - waiting[0].due) / 1000);
  for (const { pk } of waiting) {
    const provider = pk.slice(0, pk.indexOf('#'));
    const event = await deps.store.takeOver(pk, clock());
    if (!event) continue;
    try {
      await deps.publisher.publish(event, pk);
      await deps.store.markPublished(pk);
      report.published += 1;
      log.info('sweeper published a stored event', { provider, eventId: event.id, type: event.type });
    } catch (error) {
      report.failed += 1;
      // The lease runs out and the next sweep tries again; the event stays in the index.
      log.error('sweeper could not publish', { provider, eventId: event.id, error: errorField(error) });
    }
  }
  metrics.add(METRIC.swept, report.published);
  metrics.add(METRIC.publishFailed, report.failed);
  metrics.add(METRIC.oldestUnpublishedAge, report.oldestWaitingSeconds, 'Seconds');
  metrics.flush();
  return report;
}
