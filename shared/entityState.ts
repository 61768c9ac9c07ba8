import { DEFAULT_RETENTION_DAYS } from './config.ts';
import type { NormalizedEvent } from './contract/eventContract.ts';
import type { EventStore } from './eventStore.ts';

/** Events order by their own time first, then by when we received them. */
export function orderKey(event: Pick<NormalizedEvent, 'time' | 'receivedat'>): string {
  return `${new Date(event.time).toISOString()}|${new Date(event.receivedat).toISOString()}`;
}

export interface EntityState {
  subject: string;
  provider: string;
  lastEventId: string;
  /** The latest event for the entity: its type and outcome are the entity's current state. */
  event: NormalizedEvent;
}

/**
 * The latest state of each business entity, kept by the default handler in the event table (through
 * the event store, which owns the layout). An event older than the one held is ignored, so
 * out-of-order and redelivered events never move an entity backwards.
 */
export class EntityStateStore {
  constructor(
    private readonly store: EventStore,
    private readonly retentionSeconds = DEFAULT_RETENTION_DAYS * 24 * 3600,
  ) {}

  /** Applies the event if it is newer than the state held; false when it was older or already applied. */
  async apply(event: NormalizedEvent, now = new Date()): Promise<boolean> {
    return this.store.putEntityState({
      provider: event.provider,
      subject: event.subject,
      orderKey: orderKey(event),
      event,
      retentionSeconds: this.retentionSeconds,
      now,
    });
  }

  async get(provider: string, subject: string): Promise<EntityState | undefined> {
    const state = await this.store.getEntityState(provider, subject);
    return state && { subject, provider, ...state };
  }
}
