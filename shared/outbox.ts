import type { NormalizedEvent } from './contract/eventContract.ts';
import { stringifyJson } from './core/losslessJson.ts';
import { type EventStore, eventKey, type WriteSignal } from './eventStore.ts';
import { type EventPublisher, eventMessage, unpublishableReason } from './publisher.ts';

/**
 * What keeping one event did:
 * - `stored`: written now; `published` says whether the inline publish went out (when it did not, the
 *   stream publisher publishes it: stored means published);
 * - `duplicate`: the same content was stored already (and so is, or will be, published): nothing sent;
 * - `unpublishable`: no message could carry it (a bound, or too large even by reference): nothing
 *   stored, quarantine it with the reason.
 */
export type KeepResult =
  | { kind: 'stored'; pk: string; event: NormalizedEvent; published: true }
  | { kind: 'stored'; pk: string; event: NormalizedEvent; published: false; error: unknown }
  | { kind: 'duplicate'; pk: string; event: NormalizedEvent }
  | { kind: 'unpublishable'; reason: string };

export interface KeepRequest {
  provider: string;
  dedupeKey: string;
  event: NormalizedEvent;
  retentionSeconds: number;
  now: Date;
  /** Gives up the writes (the caller's budget, see `WriteSignal`); an aborted write throws, nothing is acknowledged. */
  storeSignal?: WriteSignal;
  /** Gives up the inline publish (none: the publisher's client bounds it); the stream publishes the event anyway. */
  publishSignal?: () => AbortSignal | undefined;
}

/**
 * The transactional outbox's way in, for ingest and re-ingest alike: check the event can be published,
 * write it with one conditional PutItem (the durability point), then publish it inline so consumers
 * have it at once. The inline publish is only a head start: its failure is returned, not thrown,
 * because the table's stream publishes every stored event with the same deduplication id.
 */
export async function keepEvent(
  deps: { store: EventStore; publisher: EventPublisher },
  request: KeepRequest,
): Promise<KeepResult> {
  const pk = eventKey(request.provider, request.dedupeKey);
  // One serialization of the event: sized, stored and published.
  const json = stringifyJson(request.event);
  const message = eventMessage(request.event, pk, '', json);
  const reason = unpublishableReason(request.event, pk, message);
  if (reason) return { kind: 'unpublishable', reason };
  const stored = await deps.store.put({
    pk,
    event: request.event,
    json,
    retentionSeconds: request.retentionSeconds,
    now: request.now,
    ...(request.storeSignal ? { abortSignal: request.storeSignal } : {}),
  });
  if (stored.kind === 'duplicate') return stored;
  try {
    const abortSignal = request.publishSignal?.();
    const options = abortSignal ? { abortSignal } : {};
    // Stored under its own key: the message made above; stored as a conflict: its own message.
    if (stored.pk === pk) await deps.publisher.publishMessage(message, options);
    else await deps.publisher.publish(stored.event, stored.pk, options);
    return { ...stored, published: true };
  } catch (error) {
    return { ...stored, published: false, error };
  }
}
