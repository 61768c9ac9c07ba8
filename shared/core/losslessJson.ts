import { isLosslessNumber, LosslessNumber, parse as parseInJavaScript, stringify } from 'lossless-json';
import * as v from 'valibot';
import { MAX_JSON_DEPTH } from './bounds.ts';

/**
 * JSON with every number kept as the digits that arrived on the wire.
 *
 * `JSON.parse` turns `1234567890123456789` into `1234567890123456800` and `24.843798` into a binary
 * float; money must never take that path. Numbers parse to `LosslessNumber` (its `.value` is the
 * original text) and stringify back to the same digits. A body with a repeated key (different values)
 * is refused: `JSON.parse` keeps the last value, another parser may keep the first, and a signed body
 * must have one reading. Invalid JSON is refused with `lossless-json`'s messages (they say where).
 *
 * @example
 * parseJson('{"total":1234567890123456789}').total.value // '1234567890123456789'
 */
export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    parseInJavaScript(text); // throws its own message, which says where the text broke
    throw new SyntaxError('Invalid JSON');
  }
  const tokens = text.match(text.includes('\\') ? TOKENS : PLAIN_TOKENS) ?? [];
  const walk = new TokenWalk(tokens);
  return walk.root(value) ? value : parseInJavaScript(text);
}

/** Thrown for a payload nested deeper than `MAX_JSON_DEPTH`, before anything walks it. */
export class JsonTooDeepError extends Error {
  constructor() {
    super(`JSON nested deeper than ${MAX_JSON_DEPTH} levels (the nesting bound)`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * A provider payload: bounded in depth (`JsonTooDeepError`, before anything walks it), then parsed
 * losslessly like `parseJson`.
 *
 * How `parseJson` reads: the engine's `JSON.parse` reads the structure (native speed); one regular
 * expression, also native, lists the string and number tokens of the text in order; one walk of the
 * parsed value in the same order puts each number's source text in (a `LosslessNumber`). The walk's order
 * is the text's order unless an object has an array-index key (JavaScript lists those first) or a
 * repeated key (`JSON.parse` keeps one member): the walk notices either (an index key as it meets it, a
 * repeated key as tokens left over) and `lossless-json`'s parser reads the text instead, refusing a
 * repeated key with its position. Invalid JSON also goes to that parser, for its message.
 *
 * @example
 * const payload = parsePayload(rawText);
 */
export function parsePayload(text: string): unknown {
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) throw new JsonTooDeepError();
  return parseJson(text);
}

/** String and number tokens of JSON text, in order; strings are consumed whole, so what they hold is never seen. */
const TOKENS = /"(?:[^"\\]+|\\.)*"|-?\d[\d.eE+-]*/g;
/** The same for text without a backslash (no string in it holds an escape). */
const PLAIN_TOKENS = /"[^"]*"|-?\d[\d.eE+-]*/g;
/**
 * A `LosslessNumber` of a number token of text `JSON.parse` accepted: a JSON number already, so the
 * constructor's own check (a regular expression per number) is skipped; the object is the same (own
 * `value` and `isLosslessNumber`, the class's prototype). When the tokens are out of step the walk's
 * result is thrown away, so no other text ever becomes one.
 */
function sourceNumber(digits: string): LosslessNumber {
  const number = Object.create(LosslessNumber.prototype) as { value: string; isLosslessNumber: boolean };
  number.value = digits;
  number.isLosslessNumber = true;
  return number as LosslessNumber;
}

/** Keys JavaScript orders before all others in an object (array indices). */
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

/**
 * One walk of a `JSON.parse` result in text order, replacing each number by its token. False when the
 * order cannot be trusted: an array-index key met, or the tokens out of step (a repeated key).
 */
class TokenWalk {
  private next = 0;

  constructor(private readonly tokens: readonly string[]) {}

  /** Walks the whole value; a number at the top cannot be replaced in place (see `parseJson`). */
  root(value: unknown): boolean {
    if (typeof value === 'number') return false;
    return this.nonNumber(value) && this.next === this.tokens.length;
  }

  /** The number's source text; undefined when the tokens went out of step (a repeated key before it). */
  private number(): LosslessNumber | undefined {
    const source = this.tokens[this.next];
    this.next += 1;
    return source === undefined || source.charCodeAt(0) === QUOTE ? undefined : sourceNumber(source);
  }

  private nonNumber(item: unknown): boolean {
    if (typeof item === 'object' && item !== null)
      return Array.isArray(item) ? this.array(item) : this.object(item as Record<string, unknown>);
    if (typeof item === 'string') this.next += 1;
    return true;
  }

  private array(items: unknown[]): boolean {
    for (let i = 0; i < items.length; i += 1) {
      const item = items[i];
      if (typeof item === 'number') {
        const number = this.number();
        if (number === undefined) return false;
        items[i] = number;
      } else if (!this.nonNumber(item)) {
        return false;
      }
    }
    return true;
  }

  private object(members: Record<string, unknown>): boolean {
    for (const key in members) {
      const first = key.charCodeAt(0);
      if (first >= 0x30 && first <= 0x39 && INDEX_KEY.test(key)) return false;
      this.next += 1; // the key's token
      const item = members[key];
      if (typeof item === 'number') {
        const number = this.number();
        if (number === undefined) return false;
        members[key] = number;
      } else if (!this.nonNumber(item)) {
        return false;
      }
    }
    return true;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether any text (valid JSON or not) opens more than `limit` objects or arrays inside each other,
 * outside strings. Text with no more than `limit` brackets at all is answered without a scan.
 */
function nestedDeeperThan(text: string, limit: number): boolean {
  let openings = 0;
  for (let i = text.indexOf('{'); i !== -1 && openings <= limit; i = text.indexOf('{', i + 1)) openings += 1;
  for (let i = text.indexOf('['); i !== -1 && openings <= limit; i = text.indexOf('[', i + 1)) openings += 1;
  if (openings <= limit) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      for (i += 1; i < text.length && text.charCodeAt(i) !== QUOTE; i += 1) {
        if (text.charCodeAt(i) === BACKSLASH) i += 1;
      }
    } else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}

/** Serializes JSON that may hold `LosslessNumber`s, writing each back as its original digits. */
export function stringifyJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('value cannot be serialized as JSON');
  // SQS refuses U+FFFE and U+FFFF in a message (its character set ends at U+FFFD), so an SNS → SQS
  // delivery of an event holding one would fail. JSON may escape any character inside a string, and
  // these can stand nowhere else: the escaped text means the same.
  return NONCHARACTERS.test(text) ? text.replace(NONCHARACTERS_ALL, escapeCharacter) : text;
}

const NONCHARACTERS = /[\uFFFE\uFFFF]/;
const NONCHARACTERS_ALL = /[\uFFFE\uFFFF]/g;
const escapeCharacter = (c: string) => `\\u${c.charCodeAt(0).toString(16)}`;

export { isLosslessNumber, LosslessNumber };

/** A JSON number in a provider payload, kept as its exact digits (`.value`). Use instead of `v.number()`. */
export const JsonNumberSchema = v.pipe(
  v.custom<LosslessNumber>(isLosslessNumber, 'expected a JSON number'),
  v.description('A JSON number; kept with every digit.'),
);
