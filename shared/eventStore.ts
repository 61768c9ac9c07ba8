import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { NormalizedEvent } from './contract/eventContract.ts';
import { parseJson, stringifyJson } from './core/losslessJson.ts';
import { EVENT_TABLE } from './resources.ts';

/** Lifecycle of a stored delivery. */
export type EventStatus = 'received' | 'published' | 'quarantined';

/**
 * What the store says about a delivery it was asked to keep:
 * - `stored`: new (or an expired record overwritten, or a stalled one taken over): this caller must publish it;
 * - `duplicate`: already published (or already quarantined): answer 200, publish nothing;
 * - `in_flight`: another invocation holds it right now: answer 503 with Retry-After.
 */
export type ClaimResult =
  | { kind: 'stored'; pk: string; event: NormalizedEvent; takenOver: boolean }
  | { kind: 'duplicate'; pk: string; event: NormalizedEvent }
  | { kind: 'in_flight'; retryAfterSeconds: number };

export interface EventStoreOptions {
  table: string;
  /**
   * How long one attempt holds a new event before another may take it over; longer than the ingest
   * function's timeout, so a running attempt is never taken over (default 15 s).
   */
  leaseMs?: number;
}

// Attribute names are short on purpose: on-demand writes are billed per 1 KB of item, names included.
const A = {
  pk: EVENT_TABLE.partitionKey,
  status: 's',
  hash: 'h',
  lease: 'l',
  expiry: EVENT_TABLE.ttlAttribute,
  event: 'e',
  receivedAt: 't',
  pending: EVENT_TABLE.pendingIndex.partitionKey,
  due: EVENT_TABLE.pendingIndex.sortKey,
  rawBody: 'b',
  headers: 'hd',
  reason: 'why',
  attempt: 'a',
} as const;

/** Default lease of an ingest attempt on a new event. */
export const DEFAULT_LEASE_MS = 15_000;

/** The value of the pending index's partition key on every waiting event. */
const PENDING_PARTITION = 'waiting';

const n = (value: number): AttributeValue => ({ N: String(value) });

/** The TTL attribute's value: epoch seconds when an item kept `retentionSeconds` from `now` expires. */
export function expiry(now: Date, retentionSeconds: number): AttributeValue {
  return { N: String(Math.floor(now.getTime() / 1000) + retentionSeconds) };
}
const s = (value: string): AttributeValue => ({ S: value });

/** Normalized events are stored deflated: JSON shrinks to about half, which halves the write units. */
export function packEvent(event: NormalizedEvent): Uint8Array {
  return deflateRawSync(stringifyJson(event));
}

export function unpackEvent(bytes: Uint8Array): NormalizedEvent {
  return parseJson(inflateRawSync(bytes).toString('utf8')) as NormalizedEvent;
}

/**
 * The event store on DynamoDB: the durability point of the intake. One conditional write per new
 * event; the status moves `received` → `published`. Expiry and lease are compared inside condition
 * expressions, because TTL deletion is lazy.
 */
export class EventStore {
  private readonly options: Required<EventStoreOptions>;

  constructor(
    private readonly client: DynamoDBClient,
    options: EventStoreOptions,
  ) {
    this.options = { leaseMs: DEFAULT_LEASE_MS, ...options };
  }

  get table(): string {
    return this.options.table;
  }

  /**
   * Keeps a new event, or says what already happened to it. A different payload under a key already
   * used is a conflict: kept under its own key and id, flagged `conflict`, never dropped.
   */
  async claim(args: {
    provider: string;
    dedupeKey: string;
    hash: string;
    event: NormalizedEvent;
    retentionSeconds: number;
    now: Date;
  }): Promise<ClaimResult> {
    const pk = `${args.provider}#${args.dedupeKey}`;
    // Marks this attempt's write: if the SDK retries a put whose first try did land, the "existing"
    // item it finds is our own, not a concurrent delivery.
    const attempt = randomBytes(6).toString('base64url');
    const first = await this.putNew(pk, args.hash, args.event, args.retentionSeconds, args.now, attempt);
    if (first.created || first.old[A.attempt]?.S === attempt)
      return { kind: 'stored', pk, event: args.event, takenOver: false };
    // DynamoDB returns the existing item with the failed write; without it nothing can be decided safely.
    if (first.old[A.hash] === undefined) return { kind: 'in_flight', retryAfterSeconds: 1 };
    if (first.old[A.hash]?.S === args.hash) return this.resolveExisting(pk, first.old, args.now);

    const conflictPk = `${pk}#${args.hash}`;
    const conflictEvent: NormalizedEvent = {
      ...args.event,
      id: `${args.event.id}~${args.hash.slice(0, 12)}`,
      conflict: true,
    };
    const second = await this.putNew(
      conflictPk,
      args.hash,
      conflictEvent,
      args.retentionSeconds,
      args.now,
      attempt,
    );
    if (second.created || second.old[A.attempt]?.S === attempt)
      return { kind: 'stored', pk: conflictPk, event: conflictEvent, takenOver: false };
    return this.resolveExisting(conflictPk, second.old, args.now);
  }

  /** Marks a stored event published; it also leaves the sweeper's index if it was there. */
  async markPublished(pk: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.options.table,
        Key: { [A.pk]: s(pk) },
        UpdateExpression: 'SET #s = :published REMOVE #l, #pend, #due',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: {
          '#pk': A.pk,
          '#s': A.status,
          '#l': A.lease,
          '#pend': A.pending,
          '#due': A.due,
        },
        ExpressionAttributeValues: { ':published': s('published') },
      }),
    );
  }

  /**
   * Hands a stored event whose publish failed to the sweeper: puts it in the sparse `pending` index
   * and releases the lease. Only failed publishes pay for this index write. The index has one
   * partition: it only ever holds the few events waiting for the sweeper.
   */
  async markPending(pk: string, now: Date): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.options.table,
        Key: { [A.pk]: s(pk) },
        UpdateExpression: 'SET #pend = :waiting, #due = :now, #l = :now',
        ConditionExpression: '#s = :received',
        ExpressionAttributeNames: { '#s': A.status, '#l': A.lease, '#pend': A.pending, '#due': A.due },
        ExpressionAttributeValues: {
          ':waiting': s(PENDING_PARTITION),
          ':now': n(now.getTime()),
          ':received': s('received'),
        },
      }),
    );
  }

  /** Keys of events waiting for the sweeper, oldest first, with the time each has waited since. */
  async pendingEvents(now: Date, limit = 100): Promise<{ pk: string; due: number }[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.options.table,
        IndexName: EVENT_TABLE.pendingIndex.name,
        KeyConditionExpression: '#pend = :waiting AND #due <= :now',
        ExpressionAttributeNames: { '#pend': A.pending, '#due': A.due },
        ExpressionAttributeValues: { ':waiting': s(PENDING_PARTITION), ':now': n(now.getTime()) },
        Limit: limit,
      }),
    );
    return Items.map((item) => ({ pk: item[A.pk]?.S ?? '', due: Number(item[A.due]?.N ?? 0) }));
  }

  /**
   * Takes a received event whose lease has run out (a crashed or failed attempt): returns it to be
   * published by the caller, or undefined when it is published already or someone else holds it.
   */
  async takeOver(pk: string, now: Date): Promise<NormalizedEvent | undefined> {
    const attempt = await this.tryTakeOver(pk, now);
    return 'taken' in attempt ? attempt.taken : undefined;
  }

  /**
   * The take-over itself. When it loses (published, or held by someone else), the item as it is now
   * comes back with the failed write, so the caller can tell the two apart without a read.
   */
  private async tryTakeOver(
    pk: string,
    now: Date,
  ): Promise<{ taken: NormalizedEvent } | { current: Record<string, AttributeValue> | undefined }> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: { [A.pk]: s(pk) },
          UpdateExpression: 'SET #l = :lease',
          ConditionExpression: '#s = :received AND (attribute_not_exists(#l) OR #l < :now)',
          ExpressionAttributeNames: { '#s': A.status, '#l': A.lease },
          ExpressionAttributeValues: {
            ':lease': n(now.getTime() + this.options.leaseMs),
            ':now': n(now.getTime()),
            ':received': s('received'),
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const bytes = Attributes?.[A.event]?.B;
      return bytes ? { taken: unpackEvent(bytes) } : { current: Attributes };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { current: error.Item };
      throw error;
    }
  }

  /** Reads one stored item: its status and event, or its quarantine record. */
  async get(pk: string): Promise<StoredItem | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.options.table, Key: { [A.pk]: s(pk) }, ConsistentRead: true }),
    );
    return Item ? toStoredItem(Item) : undefined;
  }

  /**
   * Keeps an authentic delivery that is not a readable event, with its raw bytes, the verified
   * headers and the reason. Retries of the same bytes collapse onto one record.
   */
  async quarantine(args: {
    provider: string;
    contentKey: string;
    rawBody: Buffer;
    headers: Record<string, string>;
    reason: string;
    retentionSeconds: number;
    now: Date;
  }): Promise<{ pk: string; duplicate: boolean }> {
    const pk = `${args.provider}#q#${args.contentKey}`;
    const put = await this.putIfAbsent(
      {
        [A.pk]: s(pk),
        [A.status]: s('quarantined'),
        [A.reason]: s(args.reason),
        [A.rawBody]: { B: deflateRawSync(args.rawBody) },
        [A.headers]: s(JSON.stringify(args.headers)),
        [A.receivedAt]: n(args.now.getTime()),
        [A.expiry]: expiry(args.now, args.retentionSeconds),
      },
      args.now,
      false,
    );
    return { pk, duplicate: !put.created };
  }

  /** Records that a quarantined delivery was re-ingested (it became an event, or is still invalid). */
  async resolveQuarantine(pk: string, outcome: { reason?: string; eventPk?: string }): Promise<void> {
    const resolved = outcome.eventPk !== undefined;
    const values: Record<string, AttributeValue> = {
      ':why': s(resolved ? `re-ingested as ${outcome.eventPk}` : (outcome.reason ?? '')),
    };
    if (resolved) values[':reingested'] = s('reingested');
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.options.table,
        Key: { [A.pk]: s(pk) },
        UpdateExpression: resolved ? 'SET #s = :reingested, #why = :why' : 'SET #why = :why',
        ExpressionAttributeNames: resolved ? { '#s': A.status, '#why': A.reason } : { '#why': A.reason },
        ExpressionAttributeValues: values,
      }),
    );
  }

  private putNew(
    pk: string,
    hash: string,
    event: NormalizedEvent,
    retentionSeconds: number,
    now: Date,
    attempt: string,
  ) {
    return this.putIfAbsent(
      {
        [A.pk]: s(pk),
        [A.status]: s('received'),
        [A.hash]: s(hash),
        [A.lease]: n(now.getTime() + this.options.leaseMs),
        [A.receivedAt]: n(now.getTime()),
        [A.expiry]: expiry(now, retentionSeconds),
        [A.attempt]: s(attempt),
        [A.event]: { B: packEvent(event) },
      },
      now,
    );
  }

  /**
   * Writes the item unless one with its key exists and has not expired. An item past its expiry is
   * gone for us even if TTL has not deleted it yet. On a collision, the existing item comes back with
   * the failed write itself (no extra read).
   */
  private async putIfAbsent(
    item: Record<string, AttributeValue>,
    now: Date,
    returnExisting = true,
  ): Promise<{ created: true } | { created: false; old: Record<string, AttributeValue> }> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.options.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk) OR #x < :nowSec',
          ExpressionAttributeNames: { '#pk': A.pk, '#x': A.expiry },
          ExpressionAttributeValues: { ':nowSec': expiry(now, 0) },
          ...(returnExisting ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
        }),
      );
      return { created: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { created: false, old: error.Item ?? {} };
      throw error;
    }
  }

  private async resolveExisting(
    pk: string,
    old: Record<string, AttributeValue>,
    now: Date,
  ): Promise<ClaimResult> {
    const status = old[A.status]?.S as EventStatus | undefined;
    const stored = old[A.event]?.B;
    if (status === 'published' && stored) return { kind: 'duplicate', pk, event: unpackEvent(stored) };
    const lease = Number(old[A.lease]?.N ?? 0);
    if (lease > now.getTime())
      return { kind: 'in_flight', retryAfterSeconds: Math.ceil((lease - now.getTime()) / 1000) };
    const attempt = await this.tryTakeOver(pk, now);
    if ('taken' in attempt) return { kind: 'stored', pk, event: attempt.taken, takenOver: true };
    // Someone else took it over between our two requests, or it was just published.
    const current = attempt.current;
    const published = current?.[A.status]?.S === 'published' ? current[A.event]?.B : undefined;
    if (published) return { kind: 'duplicate', pk, event: unpackEvent(published) };
    return { kind: 'in_flight', retryAfterSeconds: Math.max(1, Math.ceil(this.options.leaseMs / 1000)) };
  }
}

/** A stored item as the operator tools and the sweeper see it. */
export interface StoredItem {
  pk: string;
  status: EventStatus | 'reingested';
  receivedAt: Date;
  expiresAt: Date;
  leaseUntil?: Date;
  pending: boolean;
  event?: NormalizedEvent;
  quarantine?: { reason: string; rawBody: Buffer; headers: Record<string, string> };
}

export function toStoredItem(item: Record<string, AttributeValue>): StoredItem {
  const rawBody = item[A.rawBody]?.B;
  const eventBytes = item[A.event]?.B;
  return {
    pk: item[A.pk]?.S ?? '',
    status: (item[A.status]?.S ?? 'received') as StoredItem['status'],
    receivedAt: new Date(Number(item[A.receivedAt]?.N ?? 0)),
    expiresAt: new Date(Number(item[A.expiry]?.N ?? 0) * 1000),
    ...(item[A.lease]?.N ? { leaseUntil: new Date(Number(item[A.lease]?.N)) } : {}),
    pending: item[A.pending] !== undefined,
    ...(eventBytes ? { event: unpackEvent(eventBytes) } : {}),
    ...(rawBody
      ? {
          quarantine: {
            reason: item[A.reason]?.S ?? '',
            rawBody: inflateRawSync(rawBody),
            headers: JSON.parse(item[A.headers]?.S ?? '{}') as Record<string, string>,
          },
        }
      : {}),
  };
}
