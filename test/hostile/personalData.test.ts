import { PROVIDER_NAMES } from '../../shared/providers/registry.ts';
import { personalDataIn, personalValues } from '../support/personalData.ts';

/** The personal-data check every stack test ends with: exact, so it neither misses nor cries wolf. */
const values = personalValues(PROVIDER_NAMES);

describe('personal-data check', () => {
  it('knows short values too (names like "Doe", postal codes)', () => {
    expect(values.some((value) => value.length < 4)).toBe(true);
    expect(values).toEqual(expect.arrayContaining(['10001']));
  });

  it.each(values)('catches %p planted in a log line, as a field or inside a reason', (value) => {
    const line = (reason: string) =>
      JSON.stringify({ level: 'warn', message: 'delivery quarantined', reason });
    expect(personalDataIn([line(value)], values)).toContainEqual({ value, field: 'reason', line: 0 });
    expect(personalDataIn([line(`status: got ${value}; more`)], [value])).toHaveLength(1);
    expect(personalDataIn([`12:00:00 WARN delivery quarantined  reason=${value}`], [value])).toHaveLength(1);
  });

  it('raises no false alarm for a value inside a longer number or word, or in a number field', () => {
    const emf = JSON.stringify({
      _aws: { Timestamp: 1764477100010012 },
      durationMs: 10001,
      id: 'evt-100012',
    });
    const reason = JSON.stringify({ reason: 'expected string, got Doesnt; Devices' });
    expect(personalDataIn([emf, reason], ['10001', 'Doe', 'Dev'])).toEqual([]);
  });
});
