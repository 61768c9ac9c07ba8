import { orderKey } from '../../shared/entityState.ts';
import {
  type EventFilter,
  type EventStore,
  eventKey,
  type ScanOptions,
  type StoredEvent,
  type StoredItem,
  type ScanPage as StorePage,
} from '../../shared/eventStore.ts';
import { PROVIDER_NAMES } from '../../shared/providers/registry.ts';
import { type ScanPage, scanTable } from './scanProgress.ts';

type QuarantineFilter = Pick<EventFilter, 'provider' | 'since' | 'until'> & { includeResolved?: boolean };

/**
 * The operator's scans: the event store's pages (its one owner of the table layout), read in parallel
 * segments with progress, a cost estimate and Ctrl-C (scanProgress.ts). A scan reads (and bills) every
 * item; an index on receive time would make this a query, at the price of an index write on every
 * webhook: operators list rarely, webhooks arrive all the time.
 */
function scanStore<T extends StoredItem>(
  store: EventStore,
  pages: (options: ScanOptions) => AsyncGenerator<StorePage<T>>,
): Promise<T[]> {
  const page: ScanPage<T> = async (segment, totalSegments, startKey, signal) => {
    const segmentPages = pages({ segment, totalSegments, signal, ...(startKey ? { startKey } : {}) });
    const { value } = await segmentPages.next();
    await segmentPages.return(undefined);
    if (!value) return { items: [], consumedRcu: 0, scannedCount: 0 };
    return {
      items: value.items,
      consumedRcu: value.consumedReadUnits,
      scannedCount: value.scannedCount,
      ...(value.lastEvaluatedKey ? { lastEvaluatedKey: value.lastEvaluatedKey } : {}),
    };
  };
  return scanTable({ label: `table ${store.table}`, describe: () => store.tableSize() }, page);
}

const byReceiveTime = (a: StoredItem, b: StoredItem) => a.receivedAt.getTime() - b.receivedAt.getTime();

/** Stored events matching the filter, oldest received first. */
export async function scanEvents(store: EventStore, filter: EventFilter = {}): Promise<StoredEvent[]> {
  const events = await scanStore(store, (options) => store.eventPages(filter, options));
  return events.sort(byReceiveTime);
}

/** Quarantine records, oldest first; resolved (re-ingested) ones only with `includeResolved`. */
export async function scanQuarantine(
  store: EventStore,
  filter: QuarantineFilter = {},
): Promise<StoredItem[]> {
  const records = await scanStore(store, (options) => store.quarantinePages(filter, options));
  return records.sort(byReceiveTime);
}

/**
 * Finds stored items by key (`apara#EV-…`, anything with a `#`) or by event id. An event id is the
 * provider's id, so it is looked up under each provider first; a conflict id (`…~<hash>`) or an
 * unknown id falls back to a scan.
 */
export async function findStored(
  store: EventStore,
  pkOrId: string,
  providers: readonly string[] = PROVIDER_NAMES,
): Promise<StoredItem[]> {
  if (pkOrId.includes('#')) {
    const item = await store.get(pkOrId);
    return item ? [item] : [];
  }
  const direct = await Promise.all(providers.map((provider) => store.get(eventKey(provider, pkOrId))));
  const found = direct.filter((item): item is StoredItem => item !== undefined);
  if (found.length > 0) return found;
  return (await scanEvents(store)).filter(({ event }) => event.id === pkOrId);
}

/** An entity's stored events in the order the handler applies them: event time, then receive time. */
export async function entityHistory(
  store: EventStore,
  provider: string,
  subject: string,
): Promise<StoredEvent[]> {
  const events = await scanEvents(store, { provider, subject });
  return events.sort((a, b) => orderKey(a.event).localeCompare(orderKey(b.event)));
}
