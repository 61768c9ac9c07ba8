import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { NormalizedEvent, Outcome } from './contract/eventContract.ts';
import { parseJson, stringifyJson } from './core/losslessJson.ts';
import { payloadHash } from './core/payloadHash.ts';
import { EVENT_TABLE } from './resources.ts';

/**
 * The event table, and the only code that knows its layout: keys, attribute names, conditions, reads
 * and scans. Ingest, the stream publisher, re-ingest, replay, the operator CLI and the entity state all
 * go through it.
 *
 * Item kinds, told apart by their key:
 * - event `<provider>#<dedupe key>` (a conflict: `<provider>#<dedupe key>#<payload hash>`): marker `h`
 *   (`1`; items written before 2026-11-30 hold their payload hash there, which nothing reads),
 *   event `e` (JSON text, or deflated when larger than a write unit), receive time `t`, expiry `x`.
 *   Only event items carry `h`, which is what the stream publisher's event-source filter passes
 *   (`EVENT_ITEM_MARKER`).
 * - quarantine `<provider>#q#<content key>`: status `s`, reason `why`, deflated raw body `b`, headers
 *   `hd`, `t`, `x`.
 * - entity state `state#<provider>#<subject>`: order key `o`, last event id `id`, `e`, `x`.
 * - alert sent `alert#<provider>#<event id>`: `x`.
 * Attribute names are short on purpose: on-demand writes are billed per 1 KB of item, names included.
 */
const A = {
  pk: EVENT_TABLE.partitionKey,
  marker: EVENT_TABLE.eventItemMarker,
  expiry: EVENT_TABLE.ttlAttribute,
  event: 'e',
  receivedAt: 't',
  status: 's',
  rawBody: 'b',
  headers: 'hd',
  reason: 'why',
  order: 'o',
  lastEventId: 'id',
} as const;

/** The value of an event item's marker attribute (only its presence counts). */
const EVENT_MARK = '1';

/** A write's abort signal, or a function that gives one (or none) just before each write is sent. */
export type WriteSignal = AbortSignal | (() => AbortSignal | undefined);

function signalOptions(signal: WriteSignal | undefined): { abortSignal?: AbortSignal } {
  const abortSignal = typeof signal === 'function' ? signal() : signal;
  return abortSignal ? { abortSignal } : {};
}

/** Writes one put tries before it gives up on a key that keeps changing (expired, replaced, deleted...). */
const MAX_PUT_ATTEMPTS = 4;

/** Status of a quarantine record. */
export type QuarantineStatus = 'quarantined' | 'reingested';

/**
 * What the store says about an event it was asked to keep:
 * - `stored`: written now (new, or over an expired record): the stream publishes it, whatever the caller does next;
 * - `duplicate`: the same content is stored already: it is, or will be, published from there.
 */
export type StoreResult =
  | { kind: 'stored'; pk: string; event: NormalizedEvent }
  | { kind: 'duplicate'; pk: string; event: NormalizedEvent };

/** A stored item as the operator tools see it: an event or a quarantine record. */
export interface StoredItem {
  pk: string;
  status: 'stored' | QuarantineStatus;
  receivedAt: Date;
  expiresAt: Date;
  event?: NormalizedEvent;
  quarantine?: { reason: string; rawBody: Buffer; headers: Record<string, string> };
}

/** A stored item that holds a normalized event. */
export type StoredEvent = StoredItem & { event: NormalizedEvent };

export interface EventFilter {
  provider?: string;
  /** `apara.order.completed`, or the provider's own `order.completed`. */
  type?: string;
  outcome?: Outcome;
  subject?: string;
  /** Receive time from (inclusive). */
  since?: Date;
  /** Receive time until (exclusive), so adjacent ranges never overlap. */
  until?: Date;
}

/** How a scan runs: one segment of a parallel scan, and a way to stop it. */
export interface ScanOptions {
  /** This worker's segment of a parallel scan (0-based), with `totalSegments`. */
  segment?: number;
  totalSegments?: number;
  signal?: AbortSignal;
  /** Items read per page (DynamoDB also stops a page at 1 MB). */
  pageSize?: number;
  /** Where to go on from: a page's `lastEvaluatedKey`. */
  startKey?: Record<string, AttributeValue>;
}

/** One page of a scan: the items it kept, what it read, and what DynamoDB billed for it. */
export interface ScanPage<T> {
  items: T[];
  scannedCount: number;
  /** Read capacity units consumed by this page. */
  consumedReadUnits: number;
  /** Where the next page of this segment starts; absent on its last page. */
  lastEvaluatedKey?: Record<string, AttributeValue>;
}

/**
 * The conflict of an event: its own key and id (from the hash of its payload's content), flagged, so it
 * is kept and never taken for a duplicate, and its retries, however serialized, collapse onto it.
 */
export function conflictOf(pk: string, event: NormalizedEvent, hash: string) {
  return {
    pk: `${pk}#${hash}`,
    event: { ...event, id: `${event.id}~${hash.slice(0, 12)}`, conflict: true as const },
  };
}

/** An event item as the store writes it (tools that load many at once, e.g. with BatchWriteItem, use this too). */
export function eventItem(
  pk: string,
  event: NormalizedEvent,
  args: { retentionSeconds: number; now: Date; compatible?: boolean },
  json?: string,
): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    [A.pk]: s(pk),
    // Compatible items hold the payload hash the earlier release compares; compact ones a mark.
    [A.marker]: s(args.compatible ? payloadHash(event.data) : EVENT_MARK),
    [A.receivedAt]: n(new Date(event.receivedat).getTime()),
    [A.expiry]: expiry(args.now, args.retentionSeconds),
  };
  item[A.event] = args.compatible ? { B: packEvent(event, json) } : storedEvent(event, json, itemBytes(item));
  return item;
}

/** The key of an event item. */
export function eventKey(provider: string, dedupeKey: string): string {
  return `${provider}#${dedupeKey}`;
}

/** The provider an item belongs to, from its key (`apara#…` → `apara`). */
export function providerOfKey(pk: string): string {
  return pk.slice(0, Math.max(0, pk.indexOf('#')));
}

const n = (value: number): AttributeValue => ({ N: String(value) });
const s = (value: string): AttributeValue => ({ S: value });

/** The TTL attribute's value: epoch seconds when an item kept `retentionSeconds` from `now` expires. */
function expiry(now: Date, retentionSeconds: number): AttributeValue {
  return n(Math.floor(now.getTime() / 1000) + retentionSeconds);
}

/** What one write unit covers: on-demand writes are billed per 1 KB of item, attribute names included. */
const WRITE_UNIT_BYTES = 1024;

/** The most bytes DynamoDB counts for a number attribute's value. */
const MAX_NUMBER_BYTES = 21;

/** Bytes DynamoDB counts for these attributes (names, plus values; numbers at their largest). */
function itemBytes(attributes: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    bytes += name.length;
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    else if (value.N !== undefined) bytes += MAX_NUMBER_BYTES;
    else if (value.B !== undefined) bytes += value.B.length;
  }
  return bytes;
}

/**
 * The event as an item attribute. An item is billed per started 1 KB: when the event's JSON fits the
 * item's first kilobyte it is stored as it is (`S`), and compressing it would save nothing. A larger
 * event is stored deflated (`B`): JSON shrinks to about half, which halves the write units.
 *
 * @param json the event as `stringifyJson` writes it, when the caller has it already (one serialization
 *   per ingest, shared with the SNS message)
 * @param otherBytes what the item's other attributes count
 */
function storedEvent(event: NormalizedEvent, json = stringifyJson(event), otherBytes = 0): AttributeValue {
  if (otherBytes + A.event.length + Buffer.byteLength(json) <= WRITE_UNIT_BYTES) return { S: json };
  return { B: packEvent(event, json) };
}

/** Whether an item holds its event deflated (see `storedEvent`); the bench reports the stored forms. */
export function holdsDeflatedEvent(item: Record<string, AttributeValue>): boolean {
  return item[A.event]?.B !== undefined;
}

/** Normalized events larger than a write unit are stored deflated (see `storedEvent`). */
export function packEvent(event: NormalizedEvent, json = stringifyJson(event)): Uint8Array {
  return deflateRawSync(json, deflateOptions(Buffer.byteLength(json)));
}

/**
 * A deflate window no larger than the input needs. zlib's default (32 KB window, 256 KB of state) is
 * allocated and freed on every call, which costs more than compressing a 1 KB event; a window that
 * covers the whole input finds the matches the default would (the same bytes on every size tried, 50 B to
 * 70 KB), and large events keep the default. `inflateRawSync`'s default window reads every size.
 */
function deflateOptions(bytes: number): { windowBits: number; memLevel: number } {
  const windowBits = Math.min(15, Math.max(9, Math.ceil(Math.log2(bytes + 1))));
  return { windowBits, memLevel: Math.min(8, Math.max(1, windowBits - 7)) };
}

/**
 * The event an item attribute holds, in either stored form (see `storedEvent`); binary may come as
 * bytes (the SDK) or base64 text (Lambda's stream event JSON). Undefined when it holds none.
 */
function eventOfAttribute(
  value: { S?: string; B?: Uint8Array | string } | undefined,
): NormalizedEvent | undefined {
  if (value?.S !== undefined) return parseJson(value.S) as NormalizedEvent;
  const bytes = value?.B;
  if (bytes === undefined) return undefined;
  const packed = typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : bytes;
  return parseJson(inflateRawSync(packed).toString('utf8')) as NormalizedEvent;
}

/**
 * A DynamoDB stream image in either form: the SDK's (binary as bytes) or Lambda's event JSON (binary
 * as base64 text).
 */
export type StreamImage = Record<string, { S?: string; N?: string; B?: Uint8Array | string } | object>;

/**
 * The event held by a new image on the table's stream, or undefined when the image is not an event
 * item (quarantine records and entity states share the table; the event-source filter drops them
 * first, this says so again).
 */
export function eventOfStreamImage(image: StreamImage | undefined): StoredEvent | undefined {
  const attr = (name: string) => image?.[name] as { S?: string; N?: string; B?: Uint8Array | string };
  if (!image || attr(A.marker)?.S === undefined) return undefined;
  const event = eventOfAttribute(attr(A.event));
  if (event === undefined) return undefined;
  return {
    pk: attr(A.pk)?.S ?? '',
    status: 'stored',
    receivedAt: new Date(Number(attr(A.receivedAt)?.N ?? 0)),
    expiresAt: new Date(Number(attr(A.expiry)?.N ?? 0) * 1000),
    event,
  };
}

/**
 * The event store on DynamoDB: the durability point of the intake. One conditional PutItem per new
 * event and nothing else on the way in; the table's stream publishes what is written. Expiry is compared
 * inside the condition, because TTL deletion is lazy.
 */
export class EventStore {
  /**
   * @param options.compatibleItems write event items the release before 2026-11-30 also reads (see
   *   `ENV.eventItems`): its stream publisher reads only deflated events, and its ingest compares the
   *   payload hash in `h`. Costs a canonical form, a hash and a deflate per accepted event.
   */
  constructor(
    private readonly client: DynamoDBClient,
    readonly table: string,
    private readonly options: { compatibleItems?: boolean } = {},
  ) {}

  /**
   * Keeps a new event, or says it is kept already. A different payload under a key already used is a
   * conflict: kept under its own key and id, flagged `conflict`, never dropped. The item's receive
   * time is the event's own `receivedat` (a re-ingested event keeps its original one); its expiry
   * counts from `now`.
   *
   * "The same" is the payload's content, compared only when the key is taken (the failed write brings
   * the stored event back): `payloadHash` of both, where key order and spacing do not count and every
   * digit does, so a provider that re-serializes a retry gets a duplicate, never a conflict. Nothing is
   * hashed on the way in: a duplicate costs a few µs more, every accepted event a few less.
   */
  async put(args: {
    pk: string;
    event: NormalizedEvent;
    retentionSeconds: number;
    now: Date;
    /**
     * Gives up the write: a signal, or a function asked before each of the writes one put may make (a
     * conflict or an expired record takes more than one), so a caller can bound the later ones alone.
     */
    abortSignal?: WriteSignal;
    /** `stringifyJson(event)`, when the caller has it already (the conflict's own is made here). */
    json?: string;
  }): Promise<StoreResult> {
    const first = await this.putEvent(args.pk, args.event, args, args.json);
    if (first.created) return { kind: 'stored', pk: args.pk, event: args.event };
    if (first.old[A.marker] === undefined) throw new Error(`item ${args.pk} exists but is not an event item`);
    const stored = eventOf(first.old);
    // The same content again (a provider retry, or an SDK retry of our own write that had landed).
    const contentHash = payloadHash(args.event.data);
    if (payloadHash(stored.data) === contentHash) return { kind: 'duplicate', pk: args.pk, event: stored };

    const conflict = conflictOf(args.pk, args.event, contentHash);
    const second = await this.putEvent(conflict.pk, conflict.event, args);
    if (second.created) return { kind: 'stored', ...conflict };
    return { kind: 'duplicate', pk: conflict.pk, event: eventOf(second.old) };
  }

  /** Reads one stored event or quarantine record. */
  async get(pk: string, abortSignal?: AbortSignal): Promise<StoredItem | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { [A.pk]: s(pk) }, ConsistentRead: true }),
      abortSignal ? { abortSignal } : {},
    );
    // Entity states and alert marks share the table; only events and quarantine records are stored items.
    return Item && (Item[A.marker] !== undefined || Item[A.rawBody] !== undefined)
      ? toStoredItem(Item)
      : undefined;
  }

  /**
   * Keeps an authentic delivery that is not a publishable event, with its raw bytes, the verified
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
        TableName: this.table,
        Key: { [A.pk]: s(pk) },
        UpdateExpression: resolved ? 'SET #s = :reingested, #why = :why' : 'SET #why = :why',
        ExpressionAttributeNames: resolved ? { '#s': A.status, '#why': A.reason } : { '#why': A.reason },
        ExpressionAttributeValues: values,
      }),
    );
  }

  /**
   * Stored events matching the filter, page by page, as DynamoDB reads them (not sorted). Provider and
   * receive time are filtered by DynamoDB; type, outcome and subject live in the deflated event and are
   * filtered here. A scan reads (and bills) every item of its segment, whatever the filter keeps.
   */
  async *eventPages(
    filter: EventFilter = {},
    options: ScanOptions = {},
  ): AsyncGenerator<ScanPage<StoredEvent>> {
    const condition = receivedBetween(filter);
    condition.conditions.push('attribute_exists(#h)');
    condition.names['#h'] = A.marker;
    for await (const page of this.scan(condition, options)) {
      const items = page.items
        .filter((item): item is StoredEvent => item.event !== undefined)
        .filter(({ event }) => !filter.type || hasType(event, filter.type))
        .filter(({ event }) => !filter.outcome || event.outcome === filter.outcome)
        .filter(({ event }) => !filter.subject || event.subject === filter.subject);
      yield { ...page, items };
    }
  }

  /** Stored events matching the filter, oldest received first. */
  async scanEvents(filter: EventFilter = {}, options: ScanOptions = {}): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for await (const page of this.eventPages(filter, options)) events.push(...page.items);
    return events.sort(byReceiveTime);
  }

  /** Quarantine records, page by page; resolved (re-ingested) ones only with `includeResolved`. */
  async *quarantinePages(
    filter: Pick<EventFilter, 'provider' | 'since' | 'until'> & { includeResolved?: boolean } = {},
    options: ScanOptions = {},
  ): AsyncGenerator<ScanPage<StoredItem>> {
    const condition = receivedBetween(filter);
    condition.conditions.push('attribute_exists(#b)');
    condition.names['#b'] = A.rawBody;
    if (!filter.includeResolved) {
      condition.conditions.push('#s = :quarantined');
      condition.names['#s'] = A.status;
      condition.values[':quarantined'] = s('quarantined');
    }
    yield* this.scan(condition, options);
  }

  /** Quarantine records, oldest first. */
  async scanQuarantine(
    filter: Pick<EventFilter, 'provider' | 'since' | 'until'> & { includeResolved?: boolean } = {},
    options: ScanOptions = {},
  ): Promise<StoredItem[]> {
    const records: StoredItem[] = [];
    for await (const page of this.quarantinePages(filter, options)) records.push(...page.items);
    return records.sort(byReceiveTime);
  }

  /**
   * Keeps an entity's state if `orderKey` is newer than the one held; false when it was older or the same.
   * States live as long as events.
   */
  async putEntityState(args: {
    provider: string;
    subject: string;
    orderKey: string;
    event: NormalizedEvent;
    retentionSeconds: number;
    now: Date;
  }): Promise<boolean> {
    const key = { [A.pk]: s(stateKey(args.provider, args.subject)) };
    const values = {
      ':o': s(args.orderKey),
      ':id': s(args.event.id),
      ':x': expiry(args.now, args.retentionSeconds),
    };
    const others = itemBytes({
      ...key,
      [A.order]: values[':o'],
      [A.lastEventId]: values[':id'],
      [A.expiry]: values[':x'],
    });
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'SET #o = :o, #id = :id, #e = :e, #x = :x',
          ConditionExpression: 'attribute_not_exists(#o) OR #o < :o',
          ExpressionAttributeNames: { '#o': A.order, '#id': A.lastEventId, '#e': A.event, '#x': A.expiry },
          ExpressionAttributeValues: { ...values, ':e': storedEvent(args.event, undefined, others) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The entity's latest state: the id and the event that set it. */
  async getEntityState(
    provider: string,
    subject: string,
  ): Promise<{ lastEventId: string; event: NormalizedEvent } | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { [A.pk]: s(stateKey(provider, subject)) },
        ConsistentRead: true,
      }),
    );
    const event = eventOfAttribute(Item?.[A.event]);
    if (!Item || !event) return undefined;
    return { lastEventId: Item[A.lastEventId]?.S ?? '', event };
  }

  private putEvent(
    pk: string,
    event: NormalizedEvent,
    args: { retentionSeconds: number; now: Date; abortSignal?: WriteSignal },
    json?: string,
  ) {
    const item = eventItem(pk, event, { ...args, compatible: this.options.compatibleItems === true }, json);
    return this.putIfAbsent(item, args.now, args.abortSignal);
  }

  /**
   * Writes the item unless one with its key exists and has not expired. An item past its expiry is
   * gone for us even if TTL has not deleted it yet (TTL deletes within days, not at once). On a
   * collision, the existing item comes back with the failed write itself (no extra read).
   *
   * The write everyone makes is the plainest one, "no item under this key"; an expired item is
   * replaced by a second write that holds only while that item is still the one there, so of two
   * writers racing for an expired key exactly one wins, and the other sees the winner's item.
   */
  private async putIfAbsent(
    item: Record<string, AttributeValue>,
    now: Date,
    writeSignal?: WriteSignal,
  ): Promise<{ created: true } | { created: false; old: Record<string, AttributeValue> }> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    let replacing: AttributeValue | undefined;
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt += 1) {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: item,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...(replacing
              ? {
                  ConditionExpression: '#x = :expired',
                  ExpressionAttributeNames: { '#x': A.expiry },
                  ExpressionAttributeValues: { ':expired': replacing },
                }
              : {
                  ConditionExpression: 'attribute_not_exists(#pk)',
                  ExpressionAttributeNames: { '#pk': A.pk },
                }),
          }),
          signalOptions(writeSignal),
        );
        return { created: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const old = error.Item;
        // The expired item we meant to replace was deleted meanwhile: the key is free again.
        if (old === undefined) {
          replacing = undefined;
          continue;
        }
        const oldExpiry = old[A.expiry]?.N;
        if (oldExpiry === undefined || Number(oldExpiry) >= nowSeconds) return { created: false, old };
        replacing = { N: oldExpiry };
      }
    }
    throw new Error(`the item under ${item[A.pk]?.S ?? '?'} kept changing during ${MAX_PUT_ATTEMPTS} writes`);
  }

  /** The table's name and what DescribeTable says of its size (refreshed by AWS about every six hours). */
  async tableSize(): Promise<{ table: string; itemCount: number; sizeBytes: number }> {
    const { Table } = await this.client.send(new DescribeTableCommand({ TableName: this.table }));
    return { table: this.table, itemCount: Table?.ItemCount ?? 0, sizeBytes: Table?.TableSizeBytes ?? 0 };
  }

  /** Reads the table (or one segment of it) page by page, keeping what the condition lets through. */
  private async *scan(condition: ScanCondition, options: ScanOptions): AsyncGenerator<ScanPage<StoredItem>> {
    let startKey = options.startKey;
    do {
      options.signal?.throwIfAborted();
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: condition.conditions.join(' AND '),
          ExpressionAttributeNames: condition.names,
          ...(Object.keys(condition.values).length > 0
            ? { ExpressionAttributeValues: condition.values }
            : {}),
          Limit: options.pageSize ?? 500,
          ReturnConsumedCapacity: 'TOTAL',
          ...(options.totalSegments !== undefined
            ? { Segment: options.segment ?? 0, TotalSegments: options.totalSegments }
            : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      startKey = page.LastEvaluatedKey;
      yield {
        items: (page.Items ?? []).map(toStoredItem),
        scannedCount: page.ScannedCount ?? 0,
        consumedReadUnits: page.ConsumedCapacity?.CapacityUnits ?? 0,
        ...(startKey ? { lastEvaluatedKey: startKey } : {}),
      };
    } while (startKey);
  }
}

interface ScanCondition {
  conditions: string[];
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
}

function receivedBetween(filter: Pick<EventFilter, 'provider' | 'since' | 'until'>): ScanCondition {
  const condition: ScanCondition = {
    conditions: ['attribute_exists(#t)'],
    names: { '#t': A.receivedAt },
    values: {},
  };
  if (filter.provider) {
    condition.conditions.push('begins_with(#pk, :prefix)');
    condition.names['#pk'] = A.pk;
    condition.values[':prefix'] = s(`${filter.provider}#`);
  }
  if (filter.since) {
    condition.conditions.push('#t >= :since');
    condition.values[':since'] = n(filter.since.getTime());
  }
  if (filter.until) {
    condition.conditions.push('#t < :until');
    condition.values[':until'] = n(filter.until.getTime());
  }
  return condition;
}

/** Whether an event has the given type: the full contract type, or the provider's own event type. */
function hasType(event: NormalizedEvent, type: string): boolean {
  return event.type === type || event.type === `${event.provider}.${type}`;
}

function byReceiveTime(a: StoredItem, b: StoredItem): number {
  return a.receivedAt.getTime() - b.receivedAt.getTime();
}

function eventOf(item: Record<string, AttributeValue>): NormalizedEvent {
  const event = eventOfAttribute(item[A.event]);
  if (!event) throw new Error(`item ${item[A.pk]?.S ?? '?'} holds no event`);
  return event;
}

function toStoredItem(item: Record<string, AttributeValue>): StoredItem {
  const rawBody = item[A.rawBody]?.B;
  const event = eventOfAttribute(item[A.event]);
  return {
    pk: item[A.pk]?.S ?? '',
    status: rawBody ? ((item[A.status]?.S ?? 'quarantined') as QuarantineStatus) : 'stored',
    receivedAt: new Date(Number(item[A.receivedAt]?.N ?? 0)),
    expiresAt: new Date(Number(item[A.expiry]?.N ?? 0) * 1000),
    ...(event ? { event } : {}),
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

function stateKey(provider: string, subject: string): string {
  return `state#${provider}#${subject}`;
}
