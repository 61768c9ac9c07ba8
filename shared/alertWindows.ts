import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { NormalizedEvent } from './contract/eventContract.ts';
import { EVENT_TABLE } from './resources.ts';

/**
 * Operator-alert aggregation items in the event table, apart from the event items (their own key
 * prefixes, their own functions, no shared code with shared/eventStore.ts):
 *
 * - `alert#<provider>#<event id>`: an event was counted into an alert window (once per event, ever:
 *   the same key the per-event alerts used, so events alerted before keep counting as alerted);
 * - `alertwin#<provider>#<type>#<outcome>#<window start ms>`: one window's count `n`, how many of
 *   those an alert already reported `r`, a send lease `c`/`ct`, closed-at `f`, up to five example
 *   event ids `e0`…`e4` (ids only, never a payload value);
 * - `alertwin#open`: the set of windows that may still owe an alert, read by the flush.
 */
export const ALERT_KEY_PREFIX = { counted: 'alert#', window: 'alertwin#', open: 'alertwin#open' } as const;

/** Example event ids kept per window. */
export const EXAMPLE_IDS = 5;

/** How long one sender may hold a window's report before another may take it over. */
const SEND_LEASE_MS = 30_000;

/** A window that owes (part of) an alert, as claimed for sending. */
export interface WindowReport {
  key: string;
  provider: string;
  type: string;
  outcome: string;
  windowStart: Date;
  windowEnd: Date;
  /** Events counted in the window so far. */
  total: number;
  /** Events this report covers: counted but not yet reported. */
  count: number;
  exampleIds: string[];
  closed: boolean;
  /** Proves the claim when releasing it. */
  token: string;
}

export type CountResult = { counted: false } | { counted: true; key: string; windowEnd: Date };

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const PK = EVENT_TABLE.partitionKey;

/** `alertwin#apara#apara.order.fund_failed#failed#1732683600000` → its window start (ms). */
function windowStartOf(key: string): number {
  return Number(key.slice(key.lastIndexOf('#') + 1));
}

/** A stable slot for an event's id, so a retried count overwrites its own example, never another's. */
function exampleSlot(eventId: string): string {
  let hash = 0;
  for (const char of eventId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `e${hash % EXAMPLE_IDS}`;
}

/**
 * The alert windows of the operator alerts (see the item list above). Windows are fixed slices of
 * `windowMs` by handling time; a window closed by the flush takes no more counts: an event handled
 * after that goes into the next window.
 */
export class AlertWindows {
  /** Windows this container has put in the open set already (saves the write on the next events). */
  private readonly registered = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly windowMs: number,
    private readonly retentionSeconds: number,
  ) {}

  /**
   * Counts an event into the current window, exactly once per event id: the count and the event's
   * mark are one transaction, so a retried message, a redelivery or a crash never counts it twice or
   * not at all. `counted: false` when it had been counted before.
   */
  async count(event: NormalizedEvent, now: Date): Promise<CountResult> {
    let start = Math.floor(now.getTime() / this.windowMs) * this.windowMs;
    // A closed window takes no counts; the next one does. During an incident many handlers count into
    // one window item at once, and DynamoDB cancels transactions that meet on an item: those are
    // tried again after a short random pause rather than failing the message (which would move it
    // towards its DLQ).
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const key = `${ALERT_KEY_PREFIX.window}${event.provider}#${event.type}#${event.outcome}#${start}`;
      const result = await this.tryCount(event, key, start, now);
      if (result === 'window_closed') start += this.windowMs;
      else if (result === 'conflict')
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * (attempt + 1)));
      else return result;
    }
    throw new Error(`could not count event ${event.id} into an open alert window`);
  }

  private async tryCount(
    event: NormalizedEvent,
    key: string,
    start: number,
    now: Date,
  ): Promise<CountResult | 'window_closed' | 'conflict'> {
    const expiry = n(Math.floor(now.getTime() / 1000) + this.retentionSeconds);
    const register = !this.registered.has(key);
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: {
                  [PK]: s(`${ALERT_KEY_PREFIX.counted}${event.provider}#${event.id}`),
                  w: s(key),
                  x: expiry,
                },
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PK },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: { [PK]: s(key) },
                UpdateExpression:
                  'ADD n :one SET r = if_not_exists(r, :zero), #ex = :id, p = :p, ty = :ty, o = :o, #x = :x',
                ConditionExpression: 'attribute_not_exists(f)',
                ExpressionAttributeNames: { '#ex': exampleSlot(event.id), '#x': EVENT_TABLE.ttlAttribute },
                ExpressionAttributeValues: {
                  ':one': n(1),
                  ':zero': n(0),
                  ':id': s(event.id),
                  ':p': s(event.provider),
                  ':ty': s(event.type),
                  ':o': s(event.outcome),
                  ':x': expiry,
                },
              },
            },
            // Once per window and container: the flush finds the window through this set.
            ...(register
              ? [
                  {
                    Update: {
                      TableName: this.table,
                      Key: { [PK]: s(ALERT_KEY_PREFIX.open) },
                      UpdateExpression: 'ADD k :key',
                      ExpressionAttributeValues: { ':key': { SS: [key] } },
                    },
                  },
                ]
              : []),
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [marker, window] = error.CancellationReasons ?? [];
      if (marker?.Code === 'ConditionalCheckFailed') return { counted: false };
      if (window?.Code === 'ConditionalCheckFailed') return 'window_closed';
      if (error.CancellationReasons?.some((reason) => reason.Code === 'TransactionConflict'))
        return 'conflict';
      throw error;
    }
    if (register) this.remember(key, start);
    return { counted: true, key, windowEnd: new Date(start + this.windowMs) };
  }

  /** Keeps the registered set small: windows long closed are forgotten. */
  private remember(key: string, start: number): void {
    this.registered.set(key, start);
    if (this.registered.size <= 200) return;
    const cutoff = start - 2 * this.windowMs;
    for (const [k, at] of this.registered) if (at < cutoff) this.registered.delete(k);
  }

  /**
   * Claims a window's unreported events for sending: nothing when all are reported or another sender
   * holds the lease. `opening` claims only a window nothing was reported of yet (its first alert).
   */
  async claim(key: string, now: Date, opening: boolean): Promise<WindowReport | undefined> {
    const token = randomBytes(6).toString('base64url');
    try {
      const { Attributes = {} } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { [PK]: s(key) },
          UpdateExpression: 'SET c = :lease, ct = :token',
          ConditionExpression: `n > r AND (attribute_not_exists(c) OR c < :now)${opening ? ' AND r = :zero' : ''}`,
          ExpressionAttributeValues: {
            ':lease': n(now.getTime() + SEND_LEASE_MS),
            ':token': s(token),
            ':now': n(now.getTime()),
            ...(opening ? { ':zero': n(0) } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const total = Number(Attributes.n?.N ?? 0);
      const start = windowStartOf(key);
      return {
        key,
        provider: Attributes.p?.S ?? '',
        type: Attributes.ty?.S ?? '',
        outcome: Attributes.o?.S ?? '',
        windowStart: new Date(start),
        windowEnd: new Date(start + this.windowMs),
        total,
        count: total - Number(Attributes.r?.N ?? 0),
        exampleIds: Array.from({ length: EXAMPLE_IDS }, (_, i) => Attributes[`e${i}`]?.S).filter(
          (id): id is string => id !== undefined,
        ),
        closed: Attributes.f !== undefined,
        token,
      };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Records a claimed report as sent; false when the lease had run out and another sender took it. */
  async release(report: WindowReport): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { [PK]: s(report.key) },
          UpdateExpression: 'SET r = :total REMOVE c, ct',
          ConditionExpression: 'ct = :token',
          ExpressionAttributeValues: { ':total': n(report.total), ':token': s(report.token) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Windows that may still owe an alert and have ended by `now`. */
  async endedWindows(now: Date): Promise<string[]> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { [PK]: s(ALERT_KEY_PREFIX.open) },
        ConsistentRead: true,
      }),
    );
    return (Item?.k?.SS ?? []).filter((key) => windowStartOf(key) + this.windowMs <= now.getTime()).sort();
  }

  /**
   * Closes an ended window: no count lands in it afterwards (the transaction's condition), so what it
   * holds is final. False when the item is gone (expired).
   */
  async close(key: string, now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { [PK]: s(key) },
          UpdateExpression: 'SET f = if_not_exists(f, :now)',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':now': n(now.getTime()) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Whether a closed window still owes an alert (counted more than reported). */
  async owes(key: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { [PK]: s(key) }, ConsistentRead: true }),
    );
    return Item !== undefined && Number(Item.n?.N ?? 0) > Number(Item.r?.N ?? 0);
  }

  /** Takes a closed, fully reported window out of the open set. */
  async forget(key: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { [PK]: s(ALERT_KEY_PREFIX.open) },
        UpdateExpression: 'DELETE k :key',
        ExpressionAttributeValues: { ':key': { SS: [key] } },
      }),
    );
  }
}
