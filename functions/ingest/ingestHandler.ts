import { createHash } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { intake } from '../../shared/core/intake.ts';
import type { ProviderModule } from '../../shared/core/providerModule.ts';
import type { EventStore } from '../../shared/eventStore.ts';
import { errorField, log } from '../../shared/log.ts';
import { METRIC, MetricSet, reasonDimension } from '../../shared/metrics.ts';
import { type KeepResult, keepEvent } from '../../shared/outbox.ts';
import type { KeySource } from '../../shared/providerKeys.ts';
import type { EventPublisher } from '../../shared/publisher.ts';
import { type Deadline, deadline } from '../deadline.ts';
import { answer } from './answers.ts';
import { type CheckedContext, type CheckedRequest, requestChecks } from './requestChecks.ts';
import { serviceUnavailable } from './serviceUnavailable.ts';

export interface IngestDependencies {
  provider: ProviderModule;
  keys: KeySource;
  store: EventStore;
  publisher: EventPublisher;
  /** How long stored events (and so dedupe records) are kept; never shorter than the provider's retry span. */
  retentionSeconds: number;
  clock?: () => Date;
  /**
   * The longest one call through `store`'s and `publisher`'s clients can take, for clients that enforce
   * their own timeouts (the Lambda's: `functions/awsConfig.ts`). A call then carries an abort signal
   * only when the invocation has less time left than that. Without it, every call carries one.
   */
  callLimits?: { storeMs: number; publishMs: number };
}

/**
 * Rejections are counted per provider (with the other metrics) and also per provider and reason: one
 * more EMF line, only on the rejection path. The reason set is closed (shared/metrics.ts): each value
 * is a custom metric billed monthly.
 */
function countRejection(provider: string, reason: string): void {
  const byReason = new MetricSet({ provider, reason: reasonDimension(reason) });
  byReason.add(METRIC.rejected);
  byReason.flush();
}

/** Headers the network adds (client addresses, tracing): not the provider's, not kept. */
const NETWORK_HEADER = /^x-(forwarded-|amzn-|real-ip)/;

/** The provider's own headers: `x-…`, and Standard Webhooks' `webhook-id`, `-timestamp`, `-signature`. */
const PROVIDER_HEADER = /^(x-|webhook-)/;

/**
 * Headers kept with a quarantined delivery: the provider's own (signature, timestamp, event id) and the
 * content type, so a re-ingest sees what was verified, and two deliveries with one body but different
 * signed ids stay two records.
 */
function keptHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(
      ([name]) => (PROVIDER_HEADER.test(name) && !NETWORK_HEADER.test(name)) || name === 'content-type',
    ),
  );
}

/**
 * One quarantine record per delivery: the bytes and the provider's headers. Two genuine deliveries
 * with the same body but different signed timestamps (Gnosis Pay's balance A → B → A, both
 * unreadable) stay two records; a resent request collapses onto one.
 */
function quarantineKey(rawBody: Buffer, headers: Record<string, string>): string {
  const hash = createHash('sha256').update(rawBody);
  for (const name of Object.keys(headers).sort()) hash.update(`\n${name}:${headers[name]}`);
  return hash.digest('base64url');
}

/** Failures a fresh copy of the keys may cure (a rotation just added the signing key). */
const REFRESHABLE: ReadonlySet<string> = new Set([
  'bad_signature',
  'no_keys_configured',
  'no_key_for_version',
]);

/**
 * The ingest's deadlines. The write gets what is left of the invocation minus the time to answer; the
 * inline publish at most `publishMs` (the stream publishes the event anyway, so a slow SNS must not
 * hold the provider's answer), and never past the same reserve. A client whose own enforced timeouts
 * end its calls sooner needs no abort signal (see `callLimits`): in Lambda that is every invocation
 * that starts with its full 10 s, and the signal's listeners cost every call a little.
 */
export const INGEST_BUDGET = { answerReserveMs: 500, publishMs: 1_500 } as const;

/**
 * The ingest Lambda for one provider: authenticate, validate, store durably, publish, answer.
 * A 200 is sent only once the event (or its quarantine record) is in DynamoDB.
 */
export type IngestHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export function makeIngestHandler(deps: IngestDependencies): IngestHandler {
  const { provider, keys, store, publisher } = deps;
  const clock = deps.clock ?? (() => new Date());
  const retentionSeconds = Math.max(deps.retentionSeconds, provider.retrySpanSeconds);

  const quarantine = async (checked: CheckedRequest, reason: string, now: Date, metrics: MetricSet) => {
    const headers = keptHeaders(checked.headers);
    const kept = await store.quarantine({
      provider: provider.name,
      contentKey: quarantineKey(checked.rawBody, headers),
      rawBody: checked.rawBody,
      headers,
      reason,
      retentionSeconds,
      now,
    });
    if (!kept.duplicate) metrics.add(METRIC.quarantined);
    log.warn('delivery quarantined', { provider: provider.name, pk: kept.pk, reason });
    return answer(200, { status: 'quarantined', reason });
  };

  const handle = async (
    checked: CheckedRequest,
    metrics: MetricSet,
    started: number,
    remainingMs: () => number,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const receivedAt = clock();
    let result = intake(provider, checked.rawBody, checked.headers, await keys.settings(), receivedAt);
    if (result.kind === 'unauthentic' && REFRESHABLE.has(result.reason) && (await keys.refresh())) {
      result = intake(provider, checked.rawBody, checked.headers, await keys.settings(), receivedAt);
    }

    switch (result.kind) {
      case 'unauthentic':
        metrics.add(METRIC.rejected);
        countRejection(provider.name, result.reason);
        log.warn('delivery rejected', { provider: provider.name, status: 401, reason: result.reason });
        return answer(401, { status: 'unauthorized', reason: result.reason });
      case 'rejected':
        metrics.add(METRIC.rejected);
        countRejection(provider.name, result.reason.split(':')[0] ?? 'rejected');
        log.warn('delivery rejected', { provider: provider.name, status: 400, reason: result.reason });
        return answer(400, { status: 'rejected', reason: result.reason });
      case 'quarantine':
        return quarantine(checked, result.reason, receivedAt, metrics);
      case 'event':
        break;
    }

    const { event } = result;
    const budget = () => Math.max(1, remainingMs() - INGEST_BUDGET.answerReserveMs);
    // A call gets a signal unless its client ends it within `ms` by itself; every timer is cleared after.
    const deadlines: Deadline[] = [];
    const signalWithin = (ms: number, limitMs: number | undefined) => {
      if (limitMs !== undefined && limitMs <= ms) return undefined;
      const bound = deadline(ms);
      deadlines.push(bound);
      return bound.signal;
    };
    // Only the first write may go without: a second (a conflict, an expired record replaced) adds to it.
    let writes = 0;
    let kept: KeepResult;
    try {
      kept = await keepEvent(
        { store, publisher },
        {
          provider: provider.name,
          dedupeKey: result.dedupeKey,
          event,
          retentionSeconds,
          now: receivedAt,
          storeSignal: () => {
            writes += 1;
            return signalWithin(budget(), writes === 1 ? deps.callLimits?.storeMs : undefined);
          },
          publishSignal: () =>
            signalWithin(Math.min(INGEST_BUDGET.publishMs, budget()), deps.callLimits?.publishMs),
        },
      );
    } finally {
      for (const bound of deadlines) bound.clear();
    }
    const fields = { provider: provider.name, eventId: event.id, type: event.type, outcome: event.outcome };
    switch (kept.kind) {
      case 'unpublishable':
        metrics.add(METRIC.unpublishable);
        return quarantine(checked, kept.reason, receivedAt, metrics);
      case 'duplicate':
        metrics.add(METRIC.duplicate);
        log.info('duplicate delivery', { ...fields, eventId: kept.event.id });
        return answer(200, { status: 'duplicate', id: kept.event.id });
      case 'stored':
        if (!kept.published) {
          metrics.add(METRIC.publishFailed);
          log.warn('inline publish failed; the stream publisher publishes the event', {
            ...fields,
            error: errorField(kept.error),
          });
        }
        if (kept.event.conflict) metrics.add(METRIC.conflict);
        metrics.add(METRIC.accepted);
        log.info(kept.event.conflict ? 'conflicting event accepted' : 'event accepted', {
          ...fields,
          eventId: kept.event.id,
          result: kept.published ? 'published' : 'stored',
          durationMs: Math.round(performance.now() - started),
        });
        return answer(200, { status: 'accepted', id: kept.event.id });
    }
  };

  const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, CheckedContext>()
    .use(requestChecks())
    .use(serviceUnavailable(provider.name))
    .handler(async function ingestDelivery(_event, context) {
      const started = performance.now();
      const metrics = new MetricSet({ provider: provider.name });
      try {
        return await handle(context.checked, metrics, started, () => context.getRemainingTimeInMillis());
      } catch (error) {
        metrics.add(METRIC.storeUnavailable);
        throw error;
      } finally {
        metrics.add(METRIC.ingestLatency, Math.round(performance.now() - started), 'Milliseconds');
        metrics.flush();
      }
    });
  // requestChecks adds `checked` to the context before the handler runs.
  return handler as unknown as IngestHandler;
}
