import {
  type AttributeValue,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { errorField, log } from '../shared/log.ts';
import { STREAM_EVENT_FILTER, STREAM_PUBLISHER } from '../shared/resources.ts';

export type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<DynamoDBBatchResponse>;

export interface StreamPollerOptions {
  streams: DynamoDBStreamsClient;
  streamArn: string;
  handler: StreamHandler;
  /** Lambda's event filter pattern; records it does not match are skipped, as Lambda skips them. */
  filter?: object;
  batchSize?: number;
  /** How long to wait after a round that found nothing, and after a failed batch, in ms. */
  idleMs?: number;
  retryMs?: number;
  /** The function timeout each invocation sees in `getRemainingTimeInMillis` (the stack's: 60 s). */
  functionTimeoutMs?: number;
  /**
   * Last processed sequence number per shard, kept across pollers: a poller started again resumes
   * after it, as Lambda's event source mapping resumes from its checkpoint. Empty: from the oldest record.
   */
  checkpoints?: Map<string, string>;
}

export interface StreamPoller {
  /** Stops after the batch in flight and waits for it. */
  stop(): Promise<void>;
  /** Stops at once, abandoning a batch in flight (what a killed function does to it). */
  kill(): void;
  /** Resolves once a whole round that started after the call found nothing left to publish. */
  caughtUp(): Promise<void>;
}

interface ShardState {
  id: string;
  parentId?: string;
  iterator?: string;
  /** Records read but not yet processed, oldest first. */
  pending: StreamRecord[];
  /** After a failed invocation, Lambda bisects: the next invocation gets this many records. */
  bisect?: number;
  closed: boolean;
}

/**
 * Does locally what Lambda's DynamoDB event source mapping does in AWS, on DynamoDB Local's stream:
 * finds the shards (children after their parents), reads each from its checkpoint in batches, drops
 * what the filter does not match, invokes the handler with a Lambda stream event, and on a partial
 * batch response retries from the lowest failed record; when the invocation throws, it bisects the
 * batch. Retries never give up (the stack retries for the stream's whole retention).
 */
export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const checkpoints = options.checkpoints ?? new Map<string, string>();
  const batchSize = options.batchSize ?? STREAM_PUBLISHER.batchSize;
  // Lambda polls each shard about four times a second.
  const idleMs = options.idleMs ?? 250;
  const retryMs = options.retryMs ?? 200;
  const filter = options.filter ?? STREAM_EVENT_FILTER;
  const shards = new Map<string, ShardState>();
  let running = true;
  let round = 0;
  const waiters: { after: number; resolve: () => void }[] = [];
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const discoverShards = async () => {
    let start: string | undefined;
    do {
      const { StreamDescription } = await options.streams.send(
        new DescribeStreamCommand({
          StreamArn: options.streamArn,
          ...(start ? { ExclusiveStartShardId: start } : {}),
        }),
      );
      for (const shard of StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || shards.has(shard.ShardId)) continue;
        shards.set(shard.ShardId, {
          id: shard.ShardId,
          ...(shard.ParentShardId ? { parentId: shard.ParentShardId } : {}),
          pending: [],
          closed: false,
        });
      }
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
  };

  /** A shard is read once its parent (if the stream still has it) is read to its end. */
  const ready = (shard: ShardState) => {
    const parent = shard.parentId ? shards.get(shard.parentId) : undefined;
    return !shard.closed && (!parent || parent.closed);
  };

  const iteratorOf = async (shard: ShardState): Promise<string | undefined> => {
    const after = checkpoints.get(shard.id);
    const { ShardIterator } = await options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: options.streamArn,
        ShardId: shard.id,
        ...(after
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return ShardIterator;
  };

  /** Reads the next records of a shard; false when it had none. */
  const read = async (shard: ShardState): Promise<boolean> => {
    shard.iterator ??= await iteratorOf(shard);
    if (!shard.iterator) {
      shard.closed = true;
      return false;
    }
    try {
      const { Records = [], NextShardIterator } = await options.streams.send(
        new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: batchSize }),
      );
      shard.pending.push(...Records);
      if (NextShardIterator) shard.iterator = NextShardIterator;
      else {
        delete shard.iterator;
        if (Records.length === 0) shard.closed = true;
      }
      return Records.length > 0;
    } catch (error) {
      if (error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) {
        delete shard.iterator;
        shard.pending = [];
        return false;
      }
      throw error;
    }
  };

  /** Processes a shard's pending records once; false when the batch failed and waits for a retry. */
  const process = async (shard: ShardState): Promise<boolean> => {
    const batch = shard.pending.slice(0, shard.bisect ?? batchSize);
    const passed = batch.filter((record) => matches(filter, toLambdaRecord(record, options.streamArn)));
    let processed = batch.length;
    if (passed.length > 0) {
      const started = Date.now();
      const timeoutMs = options.functionTimeoutMs ?? 60_000;
      const context = { getRemainingTimeInMillis: () => timeoutMs - (Date.now() - started) };
      try {
        const response = await options.handler(
          { Records: passed.map((record) => toLambdaRecord(record, options.streamArn)) },
          context,
        );
        if (!running) return false;
        const failed = lowest((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
        // An identifier that names no record of the batch fails the whole batch, as in Lambda.
        if (failed !== undefined)
          processed = Math.max(
            0,
            batch.findIndex((r) => r.dynamodb?.SequenceNumber === failed),
          );
        delete shard.bisect;
      } catch (error) {
        if (!running) return false;
        log.warn('stream publisher failed the whole batch; retrying it split in two', {
          count: batch.length,
          error: errorField(error),
        });
        shard.bisect = Math.max(1, Math.ceil(batch.length / 2));
        return false;
      }
    }
    const last = batch[processed - 1]?.dynamodb?.SequenceNumber;
    if (last) checkpoints.set(shard.id, last);
    shard.pending = shard.pending.slice(Math.max(0, processed));
    return processed === batch.length;
  };

  const loop = (async () => {
    let lastDiscovery = 0;
    while (running) {
      round += 1;
      let busy = false;
      try {
        if (Date.now() - lastDiscovery > 1_000) {
          await discoverShards();
          lastDiscovery = Date.now();
        }
        for (const shard of shards.values()) {
          if (!running || !ready(shard)) continue;
          if (shard.pending.length === 0) busy = (await read(shard)) || busy;
          if (shard.pending.length > 0 && running) {
            if (!(await process(shard))) {
              await sleep(retryMs);
              continue;
            }
            busy = true;
          }
        }
      } catch (error) {
        if (running) log.warn('stream poll failed', { error: errorField(error) });
        await sleep(retryMs);
        continue;
      }
      if (!busy && [...shards.values()].every((shard) => shard.pending.length === 0)) {
        for (const waiter of waiters.filter((w) => w.after < round)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      if (!busy && running) await sleep(idleMs);
    }
  })();

  return {
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
    kill() {
      running = false;
      wake?.();
    },
    caughtUp() {
      return new Promise((resolve) => waiters.push({ after: round, resolve }));
    },
  };
}

/** The lowest of some stream sequence numbers (decimal strings of any length). */
function lowest(sequenceNumbers: string[]): string | undefined {
  return sequenceNumbers.reduce<string | undefined>(
    (min, value) => (min === undefined || BigInt(value) < BigInt(min) ? value : min),
    undefined,
  );
}

/** A stream record as Lambda hands it to a function: JSON, binary values as base64 text. */
function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const data = record.dynamodb;
  const image = (attributes?: Record<string, AttributeValue>) =>
    attributes &&
    (Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, toJsonValue(v)])) as never);
  return {
    eventID: record.eventID ?? '',
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? 'us-east-1',
    eventSourceARN: streamArn,
    dynamodb: {
      ...(data?.ApproximateCreationDateTime
        ? { ApproximateCreationDateTime: data.ApproximateCreationDateTime.getTime() / 1000 }
        : {}),
      Keys: image(data?.Keys),
      ...(data?.NewImage ? { NewImage: image(data.NewImage) } : {}),
      ...(data?.OldImage ? { OldImage: image(data.OldImage) } : {}),
      ...(data?.SequenceNumber ? { SequenceNumber: data.SequenceNumber } : {}),
      ...(data?.SizeBytes !== undefined ? { SizeBytes: data.SizeBytes } : {}),
      ...(data?.StreamViewType ? { StreamViewType: data.StreamViewType } : {}),
    },
  };
}

function toJsonValue(value: AttributeValue): unknown {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.M !== undefined)
    return { M: Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, toJsonValue(v)])) };
  if (value.L !== undefined) return { L: value.L.map(toJsonValue) };
  return value;
}

/**
 * Lambda's event filtering, for the pattern shapes this project uses: nested objects, lists of allowed
 * values, and `{ exists: true | false }`.
 */
export function matches(pattern: object, value: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = (value as Record<string, unknown> | undefined)?.[key];
    if (!Array.isArray(expected)) return matches(expected as object, actual);
    return expected.some((allowed) =>
      typeof allowed === 'object' && allowed !== null && 'exists' in allowed
        ? (actual !== undefined) === allowed.exists
        : actual === allowed,
    );
  });
}
