import * as v from 'valibot';
import { intake } from '../../shared/core/intake.ts';
import type { ProviderModule } from '../../shared/core/providerModule.ts';

/** A provider with no signature and a one-field schema, to drive intake() past verification. */
function provider(overrides: Partial<ProviderModule>): ProviderModule {
  return {
    name: 'test',
    verify: () => ({ ok: true }),
    schema: v.looseObject({ id: v.string() }) as v.GenericSchema<unknown, unknown>,
    dedupeKey: (event) => (event as { id: string }).id,
    normalize: () => ({ eventType: 'thing.happened', subject: 'thing/1', outcome: 'info', amounts: [] }),
    retrySpanSeconds: 60,
    ...overrides,
  };
}

const body = Buffer.from('{"id":"evt_1"}');
const receivedAt = new Date('2026-01-01T00:00:00.000Z');

describe('intake', () => {
  it('writes every event time in one UTC form, so times compare as text downstream', () => {
    const withOffset = provider({
      normalize: () => ({
        eventType: 'thing.happened',
        subject: 'thing/1',
        time: '2025-12-31T23:30:00-01:00',
        outcome: 'info',
        amounts: [],
      }),
    });
    const result = intake(withOffset, body, {}, { keys: [] }, receivedAt);
    expect(result.kind === 'event' && result.event.time).toBe('2026-01-01T00:30:00.000Z');
  });

  it('quarantines an authentic, valid payload the provider module cannot map (instead of 503 forever)', () => {
    const broken = provider({
      normalize: () => {
        throw new TypeError('cannot read property of undefined');
      },
    });
    expect(intake(broken, body, {}, { keys: [] }, receivedAt)).toEqual({
      kind: 'quarantine',
      reason: 'could not normalize: TypeError',
    });
    const unreadableTime = provider({
      normalize: () => ({ eventType: 'x', subject: 's', time: 'not a time', outcome: 'info', amounts: [] }),
    });
    expect(intake(unreadableTime, body, {}, { keys: [] }, receivedAt).kind).toBe('quarantine');
  });

  it('never quotes a long string, even at a path ending in "type"', () => {
    const typed = provider({ schema: v.looseObject({ id: v.string(), entityType: v.picklist(['order']) }) });
    const long = 'x'.repeat(65);
    const result = intake(
      typed,
      Buffer.from(`{"id":"e","entityType":"${long}"}`),
      {},
      { keys: [] },
      receivedAt,
    );
    expect(result.kind).toBe('quarantine');
    expect(result.kind === 'quarantine' && result.reason).toMatch(/^entityType: .*got string of length 65$/);
  });
});
