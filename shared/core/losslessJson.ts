import { isLosslessNumber, LosslessNumber, parse as parseInJavaScript, stringify } from 'lossless-json';
import * as v from 'valibot';
import { MAX_JSON_DEPTH } from './bounds.ts';
import { canonical } from './payloadHash.ts';

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
  return parseExact(text, false).payload;
}

/** `String.prototype.isWellFormed` (ES2024; the project's type library is ES2022). */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/** A payload as parsed, and its canonical form (see `payloadHash`), built in the same pass. */
export interface ParsedPayload {
  payload: unknown;
  canonical: string;
}

/** Thrown for a payload nested deeper than `MAX_JSON_DEPTH`, before anything walks it. */
export class JsonTooDeepError extends Error {
  constructor() {
    super(`JSON nested deeper than ${MAX_JSON_DEPTH} levels (the nesting bound)`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * A provider payload: bounded in depth (`JsonTooDeepError`), parsed losslessly like `parseJson`, with its
 * canonical form built in the same walk that puts the numbers' digits in, so nothing is walked twice.
 *
 * @example
 * const { payload, canonical } = parsePayload(rawText);
 */
export function parsePayload(text: string): ParsedPayload {
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) throw new JsonTooDeepError();
  // Tokens stand for strings in the canonical form only in well-formed text (see `quoted`).
  if (!(text as unknown as WellFormedCheck).isWellFormed()) {
    const { payload } = parseExact(text, false);
    return { payload, canonical: canonical(payload) };
  }
  return parseExact(text, true);
}

/**
 * The engine's `JSON.parse` reads the structure (native speed); one regular expression, also native,
 * lists the string and number tokens of the text in order; one walk of the parsed value in the same
 * order puts each number's source text in (a `LosslessNumber`) and builds the canonical form.
 *
 * The walk's order is the text's order unless an object has an array-index key (JavaScript lists those
 * first) or a repeated key (`JSON.parse` keeps one member): the walk notices either (an index key as it
 * meets it, a repeated key as tokens left over) and `lossless-json`'s parser reads the text instead,
 * refusing a repeated key with its position. Invalid JSON also goes to that parser, for its message.
 */
function parseExact(text: string, withCanonical: boolean): ParsedPayload {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    parseInJavaScript(text); // throws its own message, which says where the text broke
    throw new SyntaxError('Invalid JSON');
  }
  // Without a backslash in the text no string holds an escape: a simpler pattern, and every string
  // token is already written as `JSON.stringify` writes it.
  const escapes = text.includes('\\');
  const tokens = text.match(escapes ? TOKENS : PLAIN_TOKENS) ?? [];
  const walked = new TokenWalk(tokens, withCanonical, escapes).root(value);
  if (walked) return walked;
  const exact = parseInJavaScript(text);
  return { payload: exact, canonical: withCanonical ? canonical(exact) : '' };
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
 * One walk of a `JSON.parse` result in text order, replacing each number by its token and building
 * the canonical form ('' when not asked for). Undefined when the order cannot be trusted: an
 * array-index key met, or tokens left over at the end (a repeated key).
 */
class TokenWalk {
  private next = 0;

  constructor(
    private readonly tokens: readonly string[],
    private readonly withCanonical: boolean,
    /** Whether any string token may hold an escape (see `quoted`). */
    private readonly escapes: boolean,
  ) {}

  root(value: unknown): ParsedPayload | undefined {
    let payload = value;
    let form: string | undefined;
    if (typeof value === 'number') {
      form = this.number();
      if (form !== undefined) payload = sourceNumber(form);
    } else {
      form = this.nonNumber(value);
    }
    if (form === undefined || this.next !== this.tokens.length) return undefined;
    return { payload, canonical: form };
  }

  /** The number's source text; undefined when the tokens went out of step (a repeated key before it). */
  private number(): string | undefined {
    const source = this.tokens[this.next];
    this.next += 1;
    return source === undefined || source.charCodeAt(0) === QUOTE ? undefined : source;
  }

  private nonNumber(item: unknown): string | undefined {
    if (typeof item === 'object' && item !== null)
      return Array.isArray(item) ? this.array(item) : this.object(item as Record<string, unknown>);
    if (typeof item !== 'string') return this.withCanonical ? String(item) : '';
    const token = this.tokens[this.next] as string;
    this.next += 1;
    if (!this.withCanonical) return '';
    return this.escapes ? quoted(item, token) : token;
  }

  private array(items: unknown[]): string | undefined {
    let form = '[';
    for (let i = 0; i < items.length; i += 1) {
      const item = items[i];
      let itemForm: string | undefined;
      if (typeof item === 'number') {
        itemForm = this.number();
        if (itemForm === undefined) return undefined;
        items[i] = sourceNumber(itemForm);
      } else {
        itemForm = this.nonNumber(item);
        if (itemForm === undefined) return undefined;
      }
      if (this.withCanonical) form += i === 0 ? itemForm : `,${itemForm}`;
    }
    return `${form}]`;
  }

  private object(members: Record<string, unknown>): string | undefined {
    const keys = Object.keys(members);
    const count = keys.length;
    if (!this.withCanonical) {
      for (let i = 0; i < count; i += 1)
        if (this.member(members, keys[i] as string) === undefined) return undefined;
      return '';
    }
    // The canonical order is known before the members are walked, so each entry is written with the
    // comma that goes before it there: then the form grows by one concatenation per member.
    const order = inKeyOrder(keys) ? undefined : keyOrder(keys);
    const entries: string[] | undefined = order && new Array(count);
    const firstInOrder = order ? order[0] : 0;
    let form = '{';
    for (let i = 0; i < count; i += 1) {
      const key = keys[i] as string;
      const keyToken = this.tokens[this.next] as string;
      const itemForm = this.member(members, key);
      if (itemForm === undefined) return undefined;
      const keyText = this.escapes ? quoted(key, keyToken) : keyToken;
      const entry = i === firstInOrder ? `${keyText}:${itemForm}` : `,${keyText}:${itemForm}`;
      if (entries) entries[i] = entry;
      else form += entry;
    }
    if (order && entries) for (let i = 0; i < count; i += 1) form += entries[order[i] as number];
    return `${form}}`;
  }

  /**
   * Walks one member (its key token, then its value), putting a number's digits in; the value's form,
   * or undefined when the order cannot be trusted (an array-index key).
   */
  private member(members: Record<string, unknown>, key: string): string | undefined {
    const first = key.charCodeAt(0);
    if (first >= 0x30 && first <= 0x39 && INDEX_KEY.test(key)) return undefined;
    this.next += 1;
    const item = members[key];
    if (typeof item !== 'number') return this.nonNumber(item);
    const digits = this.number();
    if (digits !== undefined) members[key] = sourceNumber(digits);
    return digits;
  }
}

/** Whether the keys are in code-unit order already (the canonical order). */
function inKeyOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i += 1) if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  return true;
}

/**
 * A string as `JSON.stringify` writes it: its token as sent when that holds no escape (the same text,
 * without making a new string); the text is well-formed UTF-16 (it was decoded from UTF-8).
 */
function quoted(value: string, token: string): string {
  return token.includes('\\') ? JSON.stringify(value) : token;
}

/** Most keys sorted by insertion (linear when already nearly sorted, quadratic at worst). */
const INSERTION_SORT_LIMIT = 32;

/**
 * The positions of `keys` in the code-unit order of the keys (as `Array.prototype.sort` orders
 * strings, and `canonical` writes them). Insertion sort on the keys themselves: objects are small, and
 * comparing flat keys never flattens the entries built from them.
 */
function keyOrder(keys: readonly string[]): number[] {
  if (keys.length > INSERTION_SORT_LIMIT) {
    // A sender can send thousands of keys in reverse: insertion sort would take their square.
    return keys.map((_, i) => i).sort((a, b) => ((keys[a] as string) < (keys[b] as string) ? -1 : 1));
  }
  const order: number[] = [0];
  for (let i = 1; i < keys.length; i += 1) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[order[j] as number] as string) > key) {
      order[j + 1] = order[j] as number;
      j -= 1;
    }
    order[j + 1] = i;
  }
  return order;
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
