import fc from 'fast-check';
import * as v from 'valibot';
import { isoTimestamp, isReadableTimestamp, utcTimestamp } from '../../shared/core/timestamps.ts';

/** What the two functions answered before their fast paths: valibot's ISO check and `Date` alone. */
const IsoTimestampSchema = v.pipe(v.string(), v.isoTimestamp());
const readableOracle = (input: unknown) =>
  v.is(IsoTimestampSchema, input) && Number.isFinite(Date.parse(input as string));
const utcOracle = (text: string) => new Date(text).toISOString();

const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
/** Timestamps near the canonical form: days past the month's end, 24:00, leap years, other fractions and zones. */
const timestamp = fc
  .tuple(
    fc.constantFrom('0000', '1900', '1999', '2000', '2023', '2024', '2100', '2400', '9999'),
    two(13),
    two(32),
    fc.constantFrom('T', ' ', 't'),
    two(24),
    two(60),
    two(60),
    fc.constantFrom('', '.5', '.123', '.123456', '.1234567891', '.'),
    fc.constantFrom('Z', 'z', '+01:00', '-0530', '+01', ''),
  )
  .map(([y, mo, d, t, h, mi, s, frac, zone]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${frac}${zone}`);

describe('timestamps', () => {
  it('tells a readable timestamp as valibot and Date do (property)', () => {
    fc.assert(
      fc.property(fc.oneof(timestamp, fc.string()), (text) => {
        expect(isReadableTimestamp(text)).toBe(readableOracle(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('writes the same canonical UTC form as Date for every readable timestamp (property)', () => {
    fc.assert(
      fc.property(timestamp, (text) => {
        fc.pre(readableOracle(text));
        expect(utcTimestamp(text)).toBe(utcOracle(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('moves 30 February to 1 March and 29 February of a common year too, as Date does', () => {
    expect(utcTimestamp('2024-02-30T00:00:00.000Z')).toBe('2024-03-01T00:00:00.000Z');
    expect(utcTimestamp('2023-02-29T00:00:00.000Z')).toBe('2023-03-01T00:00:00.000Z');
    expect(utcTimestamp('2024-02-29T00:00:00.000Z')).toBe('2024-02-29T00:00:00.000Z');
    expect(utcTimestamp('2100-02-29T10:00:00.000Z')).toBe('2100-03-01T10:00:00.000Z');
    expect(utcTimestamp('2024-04-31T00:00:00.000Z')).toBe('2024-05-01T00:00:00.000Z');
  });
});

describe('timestamps in the UTC form providers send', () => {
  /** Every day number of every month, in common, leap and century years, with each fraction length. */
  const grid = ['0000', '1900', '2000', '2023', '2024', '9999'].flatMap((year) =>
    Array.from({ length: 12 * 31 }, (_, i) => {
      const month = String(Math.floor(i / 31) + 1).padStart(2, '0');
      const day = String((i % 31) + 1).padStart(2, '0');
      return ['', '.9', '.12', '.999', '.1234', '.999999', '.123456789'].flatMap((fraction) => [
        `${year}-${month}-${day}T00:00:00${fraction}Z`,
        `${year}-${month}-${day}T23:59:59${fraction}Z`,
      ]);
    }).flat(),
  );

  it('are readable, and read by Date, on every day number of every month', () => {
    expect(grid.filter((text) => !isReadableTimestamp(text))).toEqual([]);
    expect(grid.filter((text) => !Number.isFinite(Date.parse(text)))).toEqual([]);
  });

  it('are written in canonical form exactly as Date writes them (fraction cut, day rolled over)', () => {
    expect(grid.filter((text) => utcTimestamp(text) !== utcOracle(text))).toEqual([]);
    expect(grid.length).toBe(6 * 12 * 31 * 7 * 2);
  });
});

describe('isoTimestamp', () => {
  it('writes what toISOString writes, for dates on the same day and on others, any year (property)', () => {
    const sameDay = fc
      .integer({ min: 0, max: 24 * 60 * 60 * 1000 - 1 })
      .map((ms) => new Date(Date.UTC(2026, 0, 1) + ms));
    fc.assert(
      fc.property(fc.oneof(sameDay, fc.date({ noInvalidDate: true })), (date) => {
        expect(isoTimestamp(date)).toBe(date.toISOString());
      }),
      { numRuns: 20000 },
    );
  });

  it('writes the first and last millisecond of days, in years 0, 1970 and 9999, as toISOString does', () => {
    // In pairs on one day: the second of each is written from the first one's day.
    const days = [0, 86_399_999, -86_400_000, -1, -62_167_219_200_000, -62_167_219_113_601];
    for (const ms of [...days, 253_402_214_400_000, 253_402_300_799_999, 253_402_300_800_000])
      expect(isoTimestamp(new Date(ms))).toBe(new Date(ms).toISOString());
  });

  it('throws for an invalid date, as toISOString does', () => {
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});
