import {
  type AttributeValue,
  DescribeTableCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { NormalizedEvent, Outcome } from '../../shared/contract/eventContract.ts';
import { orderKey } from '../../shared/entityState.ts';
import { type EventStore, type StoredItem, toStoredItem } from '../../shared/eventStore.ts';
import { PROVIDER_NAMES } from '../../shared/providers/registry.ts';
import { EVENT_TABLE } from '../../shared/resources.ts';
import { type ScanPage, scanTable } from './scanProgress.ts';

// The item layout of shared/eventStore.ts: status `s`, receive time `t` (epoch ms), deflated event `e`,
// quarantined raw body `b`. Entity state (`state#…`) and alert (`alert#…`) items carry no `t`.
const ATTR = {
  pk: EVENT_TABLE.partitionKey,
  status: 's',
  receivedAt: 't',
  event: 'e',
  rawBody: 'b',
} as const;

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

interface ScanFilter {
  conditions: string[];
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
}

/**
 * Reads the table in parallel segments (scanProgress.ts: progress, cost, Ctrl-C), keeping the items
 * the filter lets through. A scan reads (and bills) every item; filters cut what is sent back, not
 * what is read. An index on receive time would make this a query, at the price of an index write on
 * every webhook: operators list rarely, webhooks arrive all the time.
 */
async function scan(dynamodb: DynamoDBClient, table: string, filter: ScanFilter): Promise<StoredItem[]> {
  const page: ScanPage<StoredItem> = async (segment, totalSegments, start, signal) => {
    const out = await dynamodb.send(
      new ScanCommand({
        TableName: table,
        Segment: segment,
        TotalSegments: totalSegments,
        ...(start ? { ExclusiveStartKey: start } : {}),
        ReturnConsumedCapacity: 'TOTAL',
        FilterExpression: filter.conditions.join(' AND '),
        ExpressionAttributeNames: filter.names,
        ...(Object.keys(filter.values).length > 0 ? { ExpressionAttributeValues: filter.values } : {}),
      }),
      { abortSignal: signal },
    );
    return {
      items: (out.Items ?? []).map(toStoredItem),
      ...(out.LastEvaluatedKey ? { lastEvaluatedKey: out.LastEvaluatedKey } : {}),
      consumedRcu: out.ConsumedCapacity?.CapacityUnits ?? 0,
      scannedCount: out.ScannedCount ?? 0,
    };
  };
  const describe = async () => {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
    return { itemCount: Table?.ItemCount ?? 0, sizeBytes: Table?.TableSizeBytes ?? 0 };
  };
  return scanTable({ label: `table ${table}`, describe }, page);
}

function timeAndProvider(filter: Pick<EventFilter, 'provider' | 'since' | 'until'>): ScanFilter {
  const scanFilter: ScanFilter = {
    conditions: ['attribute_exists(#t)'],
    names: { '#t': ATTR.receivedAt },
    values: {},
  };
  if (filter.provider) {
    scanFilter.conditions.push('begins_with(#pk, :prefix)');
    scanFilter.names['#pk'] = ATTR.pk;
    scanFilter.values[':prefix'] = { S: `${filter.provider}#` };
  }
  if (filter.since) {
    scanFilter.conditions.push('#t >= :since');
    scanFilter.values[':since'] = { N: String(filter.since.getTime()) };
  }
  if (filter.until) {
    scanFilter.conditions.push('#t < :until');
    scanFilter.values[':until'] = { N: String(filter.until.getTime()) };
  }
  return scanFilter;
}

/** Whether an event has the given type: the full contract type, or the provider's own event type. */
function hasType(event: NormalizedEvent, type: string): boolean {
  return event.type === type || event.type === `${event.provider}.${type}`;
}

/**
 * Stored events matching the filter, oldest received first. Provider and time are filtered by
 * DynamoDB; type, outcome and subject live in the deflated event and are filtered here.
 */
export async function scanEvents(
  dynamodb: DynamoDBClient,
  table: string,
  filter: EventFilter = {},
): Promise<StoredEvent[]> {
  const scanFilter = timeAndProvider(filter);
  scanFilter.conditions.push('attribute_exists(#e)');
  scanFilter.names['#e'] = ATTR.event;
  const items = await scan(dynamodb, table, scanFilter);
  return items
    .filter((item): item is StoredEvent => item.event !== undefined)
    .filter(({ event }) => !filter.type || hasType(event, filter.type))
    .filter(({ event }) => !filter.outcome || event.outcome === filter.outcome)
    .filter(({ event }) => !filter.subject || event.subject === filter.subject)
    .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

/** Quarantine records (authentic deliveries that were not readable events), oldest first. */
export async function scanQuarantine(
  dynamodb: DynamoDBClient,
  table: string,
  filter: Pick<EventFilter, 'provider' | 'since' | 'until'> & { includeResolved?: boolean } = {},
): Promise<StoredItem[]> {
  const scanFilter = timeAndProvider(filter);
  scanFilter.conditions.push('attribute_exists(#b)');
  scanFilter.names['#b'] = ATTR.rawBody;
  if (!filter.includeResolved) {
    scanFilter.conditions.push('#s = :quarantined');
    scanFilter.names['#s'] = ATTR.status;
    scanFilter.values[':quarantined'] = { S: 'quarantined' };
  }
  const items = await scan(dynamodb, table, scanFilter);
  return items.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

/**
 * Finds stored items by key (`apara#EV-…`, anything with a `#`) or by event id. An event id is the
 * provider's id, so it is looked up under each provider first; a conflict id (`…~<hash>`) or an
 * unknown id falls back to a scan.
 */
export async function findStored(
  store: EventStore,
  dynamodb: DynamoDBClient,
  pkOrId: string,
  providers: readonly string[] = PROVIDER_NAMES,
): Promise<StoredItem[]> {
  if (pkOrId.includes('#')) {
    const item = await store.get(pkOrId);
    return item ? [item] : [];
  }
  const direct = await Promise.all(providers.map((provider) => store.get(`${provider}#${pkOrId}`)));
  const found = direct.filter((item): item is StoredItem => item !== undefined);
  if (found.length > 0) return found;
  return (await scanEvents(dynamodb, store.table)).filter(({ event }) => event.id === pkOrId);
}

/** An entity's stored events in the order the handler applies them: event time, then receive time. */
export async function entityHistory(
  dynamodb: DynamoDBClient,
  table: string,
  provider: string,
  subject: string,
): Promise<StoredEvent[]> {
  const events = await scanEvents(dynamodb, table, { provider, subject });
  return events.sort((a, b) => orderKey(a.event).localeCompare(orderKey(b.event)));
}
