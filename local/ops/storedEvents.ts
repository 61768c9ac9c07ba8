import { orderKey } from '../../shared/entityState.ts';
import { type EventStore, eventKey, type StoredEvent, type StoredItem } from '../../shared/eventStore.ts';
import { PROVIDER_NAMES } from '../../shared/providers/registry.ts';

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
  return (await store.scanEvents()).filter(({ event }) => event.id === pkOrId);
}

/** An entity's stored events in the order the handler applies them: event time, then receive time. */
export async function entityHistory(
  store: EventStore,
  provider: string,
  subject: string,
): Promise<StoredEvent[]> {
  const events = await store.scanEvents({ provider, subject });
  return events.sort((a, b) => orderKey(a.event).localeCompare(orderKey(b.event)));
}
