import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as v from 'valibot';
import type { AlertWindows } from '../../shared/alertWindows.ts';
import { type NormalizedEvent, NormalizedEventSchema } from '../../shared/contract/eventContract.ts';
import { describeIssues } from '../../shared/core/intake.ts';
import { parseJson } from '../../shared/core/losslessJson.ts';
import type { EntityStateStore } from '../../shared/entityState.ts';
import type { EventStore } from '../../shared/eventStore.ts';
import { log } from '../../shared/log.ts';
import { METRIC, MetricSet, SERVICE } from '../../shared/metrics.ts';
import { makeOperatorAlerts } from './operatorAlerts.ts';

/** A typed handler for one event type. Throwing fails the message: it is retried, then dead-lettered. */
export type TypedHandler = (event: NormalizedEvent, tools: HandlerTools) => Promise<void>;

export interface HandlerTools {
  states: EntityStateStore;
  /**
   * Counts the event into its operator alert window (per provider, type and outcome), which alerts
   * at once for the window's first event and once more when the window ends; false when the event was
   * counted before (a redelivery).
   */
  alert(event: NormalizedEvent): Promise<boolean>;
  metrics: MetricSet;
}

export interface EventHandlerDependencies {
  states: EntityStateStore;
  /** Resolves events published by reference (`dataref`) from the event store. */
  store: EventStore;
  sns: SNSClient;
  alertsTopicArn: string;
  /** The alert aggregation windows (shared/alertWindows.ts). */
  alertWindows: AlertWindows;
  clock?: () => Date;
  /** Handlers by exact event type, run after the defaults; `*` runs for every type. */
  routes?: Record<string, TypedHandler>;
}

const ATTENTION = new Set<NormalizedEvent['outcome']>(['action_required', 'failed']);

/** Default for every event: keep the entity's latest state; ignore what is older than what we hold. */
const keepLatestState: TypedHandler = async (event, { states, metrics }) => {
  const applied = await states.apply(event);
  if (!applied) metrics.add(METRIC.staleIgnored);
};

/** Default for action_required and failed outcomes: counted into an aggregated operator alert (no personal data). */
const alertOnAttention: TypedHandler = async (event, tools) => {
  if (ATTENTION.has(event.outcome)) await tools.alert(event);
};

/**
 * The default consumer of the handler queue (SQS FIFO). Messages are processed in order per message
 * group; when one fails, the rest of its group is returned too (order kept) while other groups go on,
 * and only the failed ones are reported back (partial batch response).
 */
export function makeEventHandler(deps: EventHandlerDependencies) {
  const processor = new SqsFifoPartialProcessorAsync();
  const clock = deps.clock ?? (() => new Date());
  const alerts = makeOperatorAlerts({
    windows: deps.alertWindows,
    sns: deps.sns,
    topicArn: deps.alertsTopicArn,
  });

  const handleRecord = async (record: SQSRecord, metrics: MetricSet) => {
    const event = await readEvent(record, deps.store);
    const alert = (e: NormalizedEvent) => alerts.onAttention(e, clock(), metrics);
    const tools: HandlerTools = { states: deps.states, alert, metrics };
    await keepLatestState(event, tools);
    await alertOnAttention(event, tools);
    await deps.routes?.[event.type]?.(event, tools);
    await deps.routes?.['*']?.(event, tools);
    metrics.add(METRIC.handled);
    log.info('event handled', {
      provider: event.provider,
      eventId: event.id,
      type: event.type,
      outcome: event.outcome,
    });
  };

  /** Sends the closing alerts of ended windows: run every minute (EventBridge schedule). */
  async function flushAlerts(): Promise<{ sent: number; failed: number }> {
    const metrics = new MetricSet({ service: SERVICE.eventHandler });
    try {
      return await alerts.flush(clock(), metrics);
    } finally {
      metrics.flush();
    }
  }

  async function handleEvents(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    const metrics = new MetricSet({ service: SERVICE.eventHandler });
    try {
      return await processPartialResponse(
        event,
        (record: SQSRecord) =>
          withinDeadline(
            () => handleRecord(record, metrics),
            context.getRemainingTimeInMillis() - DEADLINE_RESERVE_MS,
          ),
        processor,
        {
          context,
          skipGroupOnError: true,
          throwOnFullBatchFailure: false,
        },
      );
    } finally {
      metrics.flush();
    }
  }
  return Object.assign(handleEvents, { flushAlerts });
}

/** Time kept back from the function's timeout so the batch response always gets out. */
const DEADLINE_RESERVE_MS = 1_000;

/**
 * Fails a record whose work has not finished when the invocation's budget runs out: it is reported
 * failed (and comes back), instead of the whole batch dying at the function's timeout. Its calls are
 * bounded by the clients' own timeouts too; what they still do is idempotent (state and alerts).
 */
async function withinDeadline<T>(work: () => Promise<T>, budgetMs: number): Promise<T> {
  if (budgetMs <= 0) throw new Error('out of time before the record started');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`record not handled within ${budgetMs} ms`)), budgetMs);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The normalized event in a message, validated; an event sent by reference is read from the store. */
async function readEvent(record: SQSRecord, store: EventStore): Promise<NormalizedEvent> {
  const parsed = v.safeParse(NormalizedEventSchema, parseJson(record.body));
  if (!parsed.success) throw new Error(`message is not a normalized event: ${describeIssues(parsed.issues)}`);
  const event = parsed.output;
  if (event.dataref === undefined) return event;
  const stored = await store.get(event.dataref);
  if (stored?.event?.id !== event.id)
    throw new Error(`event ${event.id} refers to a stored item that is missing`);
  // The message's own flags (a replay) travel with it; the stored copy has the payload.
  return { ...stored.event, ...(event.replayed ? { replayed: true } : {}) };
}
