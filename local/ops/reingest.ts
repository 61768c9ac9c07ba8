import { intake } from '../../shared/core/intake.ts';
import type { ProviderModule } from '../../shared/core/providerModule.ts';
import { type EventStore, providerOfKey } from '../../shared/eventStore.ts';
import { errorField } from '../../shared/log.ts';
import { keepEvent } from '../../shared/outbox.ts';
import { providerNamed } from '../../shared/providers/registry.ts';
import type { EventPublisher } from '../../shared/publisher.ts';

export interface ReingestDependencies {
  store: EventStore;
  publisher: EventPublisher;
  /** The provider module to read the body with: the current one, or (in tests) a fixed schema. */
  providerModule?: (name: string) => ProviderModule | Promise<ProviderModule>;
  /** How long the new event is kept; never shorter than the provider's retry span. */
  retentionSeconds?: number;
  clock?: () => Date;
}

/**
 * What re-ingesting one quarantine record did:
 * - `published`: it is a normal event now, stored and published;
 * - `stored`: stored, but the inline publish failed: the stream publisher publishes it;
 * - `duplicate`: the event was already stored (a provider retry after the fix): linked, nothing published;
 * - `still_quarantined`: the current schema (or a message bound) refuses it too; the record keeps the new reason;
 * - `skipped`: no such quarantine record, or already re-ingested;
 * - `failed`: re-ingesting it threw (the store failed); the reason is the error's name and message,
 *   never the body. Re-running the command picks it up again.
 */
export type ReingestOutcome =
  | { pk: string; result: 'published' | 'duplicate'; eventPk: string; eventId: string; type: string }
  | { pk: string; result: 'stored'; eventPk: string; eventId: string; type: string; reason: string }
  | { pk: string; result: 'still_quarantined'; reason: string }
  | { pk: string; result: 'skipped' | 'failed'; reason: string };

const DEFAULT_RETENTION_SECONDS = 30 * 24 * 3600;

/**
 * The provider module minus its signature check. A quarantined body was authenticated when it arrived
 * (only authentic deliveries are quarantined); its signature timestamp is stale by now, so checking it
 * again could only refuse it. Everything after authentication is the intake's own code.
 */
function alreadyVerified(provider: ProviderModule): ProviderModule {
  return { ...provider, verify: () => ({ ok: true }) };
}

/**
 * Runs one quarantined delivery through the current schema: it becomes a normal event (kept and
 * published exactly as the ingest keeps one, and the record resolved to the event), or it stays
 * quarantined with the new reason.
 *
 * @example
 * const outcome = await reingest({ store, publisher }, 'apara#q#Xk3…');
 */
export async function reingest(deps: ReingestDependencies, pk: string): Promise<ReingestOutcome> {
  const clock = deps.clock ?? (() => new Date());
  const item = await deps.store.get(pk);
  if (!item?.quarantine) return { pk, result: 'skipped', reason: 'no quarantine record under this key' };
  if (item.status === 'reingested')
    return { pk, result: 'skipped', reason: `already ${item.quarantine.reason}` };

  const name = providerOfKey(pk);
  const provider = await (deps.providerModule ?? providerNamed)(name);
  const { rawBody, headers } = item.quarantine;
  // The event keeps its original receipt time (in the event and the stored item); its expiry counts from now.
  const read = intake(alreadyVerified(provider), rawBody, headers, { keys: [] }, item.receivedAt);
  if (read.kind !== 'event') {
    const reason = read.kind === 'unauthentic' ? `unauthentic: ${read.reason}` : read.reason;
    await deps.store.resolveQuarantine(pk, { reason });
    return { pk, result: 'still_quarantined', reason };
  }

  const kept = await keepEvent(deps, {
    provider: name,
    dedupeKey: read.dedupeKey,
    event: read.event,
    retentionSeconds: Math.max(deps.retentionSeconds ?? DEFAULT_RETENTION_SECONDS, provider.retrySpanSeconds),
    now: clock(),
  });
  if (kept.kind === 'unpublishable') {
    await deps.store.resolveQuarantine(pk, { reason: kept.reason });
    return { pk, result: 'still_quarantined', reason: kept.reason };
  }
  await deps.store.resolveQuarantine(pk, { eventPk: kept.pk });
  const done = { pk, eventPk: kept.pk, eventId: kept.event.id, type: kept.event.type };
  if (kept.kind === 'duplicate') return { ...done, result: 'duplicate' };
  if (kept.published) return { ...done, result: 'published' };
  return {
    ...done,
    result: 'stored',
    reason: `inline publish failed (${errorField(kept.error)}); the stream publisher publishes it`,
  };
}

/**
 * Re-ingests several records one after the other; `onOutcome` sees each as it is done. A record that
 * throws is reported `failed` and the batch goes on with the next one.
 */
export async function reingestMany(
  deps: ReingestDependencies,
  pks: readonly string[],
  onOutcome: (outcome: ReingestOutcome) => void = () => undefined,
): Promise<ReingestOutcome[]> {
  const outcomes: ReingestOutcome[] = [];
  for (const pk of pks) {
    const outcome = await reingest(deps, pk).catch(
      (error: unknown): ReingestOutcome => ({
        pk,
        result: 'failed',
        reason: error instanceof Error ? errorField(error) : 'a non-Error value was thrown',
      }),
    );
    outcomes.push(outcome);
    onOutcome(outcome);
  }
  return outcomes;
}
