import * as v from 'valibot';

const IsoTimestampSchema = v.pipe(v.string(), v.isoTimestamp());

/**
 * An RFC 3339 timestamp that `Date` can read. valibot's ISO check alone lets offsets such as `+01`
 * through, which `Date.parse` rejects: such a time would break ordering downstream.
 */
export function isReadableTimestamp(input: unknown): input is string {
  return v.is(IsoTimestampSchema, input) && Number.isFinite(Date.parse(input));
}

/** A provider timestamp field: ISO 8601 that `Date` can read. */
export const TimestampSchema = v.custom<string>(isReadableTimestamp, 'expected an ISO 8601 timestamp');

/** The same instant in one canonical form (UTC, milliseconds), so event times compare as text. */
export function utcTimestamp(text: string): string {
  return new Date(text).toISOString();
}
