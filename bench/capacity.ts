import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Commands whose input takes `ReturnConsumedCapacity`. */
const REPORTS_CAPACITY = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'TransactGetItemsCommand',
  'TransactWriteItemsCommand',
]);

const READS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

/** Capacity consumed by a stretch of work, as DynamoDB reported it, plus what it could not report. */
export interface CapacityTally {
  /** Write units on the table (DynamoDB-reported). */
  tableWrites: number;
  /** Write units on global secondary indexes (DynamoDB-reported). */
  indexWrites: number;
  /** Read units (table and indexes). */
  reads: number;
  /** Requests by command name, e.g. `{ PutItemCommand: 1, UpdateItemCommand: 1 }`. */
  calls: Record<string, number>;
  /**
   * Conditional writes that failed. DynamoDB returns no ConsumedCapacity with a failed condition, yet
   * bills it: the larger of the existing and the new item, rounded up to 1 KB (at least 1 unit).
   */
  failedConditionalWrites: number;
  /** Write units of those failed writes, estimated from the item sizes by that rule. */
  failedConditionalWriteUnits: number;
}

const emptyTally = (): CapacityTally => ({
  tableWrites: 0,
  indexWrites: 0,
  reads: 0,
  calls: {},
  failedConditionalWrites: 0,
  failedConditionalWriteUnits: 0,
});

export const totalWrites = (t: CapacityTally): number =>
  t.tableWrites + t.indexWrites + t.failedConditionalWriteUnits;

/**
 * Meters a DynamoDB client: every command that can report consumed capacity is sent with
 * `ReturnConsumedCapacity: 'INDEXES'` and the reported units are summed. This measures the real
 * requests against DynamoDB Local; nothing is mocked. `take()` returns the tally since the last take.
 */
export function meterCapacity(client: DynamoDBClient): { take(): CapacityTally } {
  let tally = emptyTally();
  const send = client.send.bind(client) as (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  const metered = async (
    command: { constructor: { name: string }; input: Record<string, unknown> },
    ...rest: unknown[]
  ) => {
    const name = command.constructor.name;
    if (REPORTS_CAPACITY.has(name)) command.input.ReturnConsumedCapacity = 'INDEXES';
    tally.calls[name] = (tally.calls[name] ?? 0) + 1;
    try {
      const output = (await send(command, ...rest)) as {
        ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[];
      };
      const consumed = output?.ConsumedCapacity;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : [])
        add(tally, c, READS.has(name));
      return output;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') {
        tally.failedConditionalWrites += 1;
        const newItem = command.input.Item as Record<string, AttributeValue> | undefined;
        const oldItem = (error as { Item?: Record<string, AttributeValue> }).Item;
        const bytes = Math.max(newItem ? itemSize(newItem) : 0, oldItem ? itemSize(oldItem) : 0);
        tally.failedConditionalWriteUnits += writeUnits(bytes);
      }
      throw error;
    }
  };
  (client as { send: unknown }).send = metered;
  return {
    take() {
      const taken = tally;
      tally = emptyTally();
      return taken;
    },
  };
}

function add(tally: CapacityTally, consumed: ConsumedCapacity, isRead: boolean): void {
  if (isRead) {
    tally.reads += consumed.CapacityUnits ?? 0;
    return;
  }
  const table = consumed.Table?.CapacityUnits ?? consumed.CapacityUnits ?? 0;
  const indexes = Object.values(consumed.GlobalSecondaryIndexes ?? {}).reduce(
    (s, c) => s + (c.CapacityUnits ?? 0),
    0,
  );
  tally.tableWrites += table;
  tally.indexWrites += indexes;
}

/** Write units for an item of this many bytes: 1 per started KB, at least 1. */
export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/**
 * An item's size as DynamoDB counts it: each attribute name's UTF-8 bytes plus its value (strings in
 * UTF-8, binary as is, numbers about one byte per two significant digits plus one, 1 byte for
 * booleans and null, 3 bytes of overhead per map or list plus 1 byte per element).
 */
export function itemSize(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += Buffer.byteLength(name) + valueSize(value);
  return bytes;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((s, v) => s + Buffer.byteLength(v), 0);
  if (value.NS) return value.NS.reduce((s, v) => s + numberSize(v), 0);
  if (value.BS) return value.BS.reduce((s, v) => s + v.length, 0);
  if (value.L) return 3 + value.L.reduce((s, v) => s + 1 + valueSize(v), 0);
  if (value.M)
    return 3 + Object.entries(value.M).reduce((s, [k, v]) => s + 1 + Buffer.byteLength(k) + valueSize(v), 0);
  return 0;
}

function numberSize(text: string): number {
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '') || '0';
  return Math.ceil(digits.length / 2) + 1;
}
