import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { eventOfStreamImage, type StreamImage } from '../../shared/eventStore.ts';
import { errorField, log } from '../../shared/log.ts';
import { METRIC, MetricSet, SERVICE } from '../../shared/metrics.ts';
import type { EventPublisher } from '../../shared/publisher.ts';
import { deadline } from '../deadline.ts';

export interface StreamPublisherDependencies {
  publisher: EventPublisher;
  /**
   * Time kept back from the function's timeout: a publish is started only while this much is left,
   * and is cut off at it, so the batch response always gets out.
   */
  reserveMs?: number;
}

/** Default reserve: one publish's worst case is bounded by the client's timeouts well below this. */
export const STREAM_PUBLISHER_RESERVE_MS = 1_000;

/**
 * The stream publisher: Lambda's event source mapping on the event table's stream calls it with
 * batches of new event items (the filter drops every other item kind). Each event is published with
 * the same message as the inline publish at ingest, so SNS FIFO drops the second copy within its
 * 5-minute window: in normal operation, the stream's publish is a no-op that proves the event went out.
 *
 * Records are published in stream order. The first that fails is reported (partial batch response):
 * Lambda retries from it, for as long as the mapping allows, so a failing SNS stalls the shard instead
 * of skipping an event.
 */
export function makeStreamPublisher(deps: StreamPublisherDependencies) {
  const reserveMs = deps.reserveMs ?? STREAM_PUBLISHER_RESERVE_MS;

  return async function publishStoredEvents(
    batch: DynamoDBStreamEvent,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<DynamoDBBatchResponse> {
    const metrics = new MetricSet({ service: SERVICE.streamPublisher });
    try {
      for (const record of batch.Records) {
        const budgetMs = context.getRemainingTimeInMillis() - reserveMs;
        const failure = budgetMs > 0 ? await publishRecord(record, budgetMs, metrics) : 'out of time';
        if (failure !== undefined) {
          metrics.add(METRIC.publishFailed);
          return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
        }
      }
      return { batchItemFailures: [] };
    } finally {
      metrics.flush();
    }
  };

  /** Publishes one record's event; undefined when done (or nothing to publish), else why not. */
  async function publishRecord(
    record: DynamoDBRecord,
    budgetMs: number,
    metrics: MetricSet,
  ): Promise<string | undefined> {
    let stored: ReturnType<typeof eventOfStreamImage>;
    try {
      stored = eventOfStreamImage(record.dynamodb?.NewImage as StreamImage | undefined);
    } catch (error) {
      // A stored event that cannot be read: retried like any failure, so the iterator-age alarm says so.
      log.error('stream record holds an unreadable event', { error: errorField(error) });
      return 'unreadable';
    }
    if (!stored) {
      log.warn('stream record is not an event item; skipped (check the event-source filter)', {
        result: record.eventName ?? 'unknown',
      });
      return undefined;
    }
    const { pk, event } = stored;
    const publishDeadline = deadline(budgetMs);
    try {
      await deps.publisher.publish(event, pk, { abortSignal: publishDeadline.signal });
      metrics.add(METRIC.streamPublished);
      return undefined;
    } catch (error) {
      log.error('stream publisher could not publish; the batch is retried from this record', {
        provider: event.provider,
        eventId: event.id,
        type: event.type,
        error: errorField(error),
      });
      return 'publish failed';
    } finally {
      publishDeadline.clear();
    }
  }
}

export type StreamPublisher = ReturnType<typeof makeStreamPublisher>;
