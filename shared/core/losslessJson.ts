import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';
import * as v from 'valibot';

/**
 * JSON with every number kept as the digits that arrived on the wire.
 *
 * `JSON.parse` turns `1234567890123456789` into `1234567890123456800` and `24.843798` into a binary
 * float; money must never take that path. Numbers parse to `LosslessNumber` (its `.value` is the
 * original text) and stringify back to the same digits.
 *
 * @example
 * parseJson('{"total":1234567890123456789}').total.value // '1234567890123456789'
 */
export function parseJson(text: string): unknown {
  return parse(text);
}

/** Serializes JSON that may hold `LosslessNumber`s, writing each back as its original digits. */
export function stringifyJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('value cannot be serialized as JSON');
  return text;
}

export { isLosslessNumber, LosslessNumber };

/** A JSON number in a provider payload, kept as its exact digits (`.value`). Use instead of `v.number()`. */
export const JsonNumberSchema = v.pipe(
  v.custom<LosslessNumber>(isLosslessNumber, 'expected a JSON number'),
  v.description('A JSON number; kept with every digit.'),
);
