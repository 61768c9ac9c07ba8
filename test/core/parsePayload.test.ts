import fc from 'fast-check';
import { parse as parseInJavaScript } from 'lossless-json';
import { MAX_JSON_DEPTH } from '../../shared/core/bounds.ts';
import {
  isLosslessNumber,
  JsonTooDeepError,
  LosslessNumber,
  parseJson,
  parsePayload,
  stringifyJson,
} from '../../shared/core/losslessJson.ts';
import { canonical, payloadHash } from '../../shared/core/payloadHash.ts';

/**
 * The parser on `JSON.parse` against the one it replaced (`lossless-json`'s JavaScript parser) as the
 * oracle: same values, same digits, same canonical form (so the same content hash), the same refusals
 * with the same messages.
 */
type Outcome = { ok: true; json: string; canonical: string; value: unknown } | { ok: false; message: string };

function oracle(text: string): Outcome {
  try {
    const value = parseInJavaScript(text);
    return { ok: true, json: stringifyJson(value), canonical: canonical(value), value };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

function candidate(text: string): Outcome {
  try {
    const payload = parsePayload(text);
    expect(stringifyJson(parseJson(text))).toBe(stringifyJson(payload));
    return { ok: true, json: stringifyJson(payload), canonical: canonical(payload), value: payload };
  } catch (error) {
    expect(() => parseJson(text)).toThrow((error as Error).message);
    return { ok: false, message: (error as Error).message };
  }
}

function expectSameAsOracle(text: string): void {
  const expected = oracle(text);
  const actual = candidate(text);
  expect(actual.ok).toBe(expected.ok);
  if (actual.ok && expected.ok) {
    expect(actual.json).toBe(expected.json);
    expect(actual.canonical).toBe(expected.canonical);
    expect(actual.value).toStrictEqual(expected.value);
  } else if (!actual.ok && !expected.ok) {
    expect(actual.message).toBe(expected.message);
  }
}

/** JSON number text of any length and form: sign, leading zero, fraction, exponent with or without sign. */
const numberText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9]\d{0,40}$/)),
    fc.option(fc.stringMatching(/^\d{1,30}$/), { nil: undefined }),
    fc.option(
      fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.stringMatching(/^\d{1,4}$/)),
      {
        nil: undefined,
      },
    ),
  )
  .map(
    ([negative, whole, fraction, exponent]) =>
      `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}${exponent ? exponent.join('') : ''}`,
  );

/** A string as JSON text: escaped by JSON.stringify, some characters written as \u escapes, lone surrogates too. */
const stringText = fc
  .tuple(
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.string({
        unit: fc.constantFrom('a', 'é', '"', '\\', '/', '\n', '\u2028', '😀', '\ud800', ' ', '!'),
        maxLength: 6,
      }),
    ),
    fc.boolean(),
  )
  .map(([text, escapeAll]) =>
    escapeAll
      ? `"${[...text].map((c) => [...c].map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')).join('')}"`
      : JSON.stringify(text),
  );

/** Keys drawn from a small set (so repeats happen), including index-like keys, `__proto__` and escapes. */
const keyText = fc.oneof(
  fc.constantFrom(
    '"a"',
    '"b"',
    '"a!"',
    '"a b"',
    '"0"',
    '"1"',
    '"10"',
    '"01"',
    '"__proto__"',
    '"\\u0061"',
    '""',
    '"é"',
  ),
  stringText,
);

const whiteSpace = fc.constantFrom('', '', ' ', '\n', '\t', '\r\n ');

const { json } = fc.letrec<{ json: string; object: string; array: string }>((tie) => ({
  json: fc.oneof(
    { maxDepth: 6, depthIdentifier: 'json' },
    numberText,
    stringText,
    fc.constantFrom('true', 'false', 'null'),
    tie('object'),
    tie('array'),
  ),
  object: fc
    .array(fc.tuple(whiteSpace, keyText, whiteSpace, tie('json')), { maxLength: 5 })
    .map(
      (members) =>
        `{${members.map(([ws, key, ws2, value]) => `${ws}${key}${ws2}:${ws}${value}${ws2}`).join(',')}}`,
    ),
  array: fc
    .array(fc.tuple(whiteSpace, tie('json')), { maxLength: 5 })
    .map((items) => `[${items.map(([ws, item]) => `${ws}${item}`).join(',')}]`),
}));

/** An object whose members repeat one key, with the same value or another. */
const repeatedKey = fc
  .tuple(keyText, json, json, fc.array(fc.tuple(keyText, json), { maxLength: 3 }), fc.boolean())
  .map(([key, first, second, others, same]) => {
    const members = [[key, first], ...others, [key, same ? first : second]];
    return `{${members.map(([k, value]) => `${k}:${value}`).join(',')}}`;
  });

describe('lossless parse on JSON.parse, against the JavaScript parser it replaced', () => {
  it('reads any JSON (numbers of any length and form, nesting, escapes, white space) exactly as the oracle (property)', () => {
    fc.assert(fc.property(json, expectSameAsOracle), { numRuns: 1000 });
  });

  it('orders the keys of wide objects (more than a few dozen, sorted, reversed or shuffled) as the oracle (property)', () => {
    const wide = fc
      .tuple(
        fc.uniqueArray(fc.oneof(keyText, stringText), { minLength: 20, maxLength: 80 }),
        fc.constantFrom('as drawn', 'sorted', 'reversed'),
        json,
      )
      .map(([keys, order, value]) => {
        const ordered =
          order === 'as drawn' ? keys : [...keys].sort((a, b) => (JSON.parse(a) < JSON.parse(b) ? -1 : 1));
        const listed = order === 'reversed' ? ordered.reverse() : ordered;
        return `{${listed.map((key, i) => `${key}:${i % 3 === 0 ? value : i}`).join(',')}}`;
      });
    fc.assert(fc.property(wide, expectSameAsOracle), { numRuns: 300 });
  });

  it('refuses a repeated key with a different value where the oracle does, with its message (property)', () => {
    fc.assert(fc.property(repeatedKey, expectSameAsOracle), { numRuns: 1000 });
  });

  it('refuses broken JSON with the oracle message: truncated, a character changed or added (property)', () => {
    const broken = fc
      .tuple(json, fc.nat(), fc.constantFrom('', '}', ']', ',', ':', '"', '\\', 'x', '-', '.', '0', '\u0001'))
      .map(([text, at, insert]) => {
        const cut = at % (text.length + 1);
        return insert === '' ? text.slice(0, cut) : `${text.slice(0, cut)}${insert}${text.slice(cut + 1)}`;
      });
    fc.assert(fc.property(broken, expectSameAsOracle), { numRuns: 1000 });
  });

  it('keeps every digit: wei above 2^53, 30-digit amounts, 1e21, -0', () => {
    const text =
      '{"wei":123456789012345678901234567,"amount":0.123456789012345678901234567890,"big":1e21,"zero":-0}';
    const payload = parsePayload(text);
    expect(stringifyJson(payload)).toBe(text);
    expect(payloadHash(payload)).toBe(payloadHash(parseInJavaScript(text)));
  });

  it('makes numbers the LosslessNumber class makes: same class, same own fields, found by isLosslessNumber', () => {
    const payload = parsePayload('{"n":[12.50,-0,1e21]}');
    const numbers = (payload as { n: unknown[] }).n;
    expect(numbers).toStrictEqual([
      new LosslessNumber('12.50'),
      new LosslessNumber('-0'),
      new LosslessNumber('1e21'),
    ]);
    for (const number of numbers) {
      expect(number).toBeInstanceOf(LosslessNumber);
      expect(isLosslessNumber(number)).toBe(true);
      expect(Object.keys(number as object)).toEqual(Object.keys(new LosslessNumber('1')));
    }
    expect(String(numbers[0])).toBe('12.50');
    expect((numbers[0] as LosslessNumber).valueOf()).toBe(12.5);
  });

  it('refuses {"a":1,"a":2}, the body JSON.parse alone would read as {"a":2}', () => {
    expect(() => parsePayload('{"a":1,"a":2}')).toThrow("Duplicate key 'a' encountered at position 8");
  });
});

describe('nesting bound', () => {
  const nested = (depth: number, inner = '1') => `${'{"a":['.repeat(depth)}${inner}${']}'.repeat(depth)}`;

  it(`reads ${MAX_JSON_DEPTH} levels as the oracle does`, () => {
    const text = `${'['.repeat(MAX_JSON_DEPTH)}1${']'.repeat(MAX_JSON_DEPTH)}`;
    expectSameAsOracle(text);
  });

  it('refuses any deeper nesting, valid or broken, with a reason naming the bound, before anything walks it (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_JSON_DEPTH + 1, max: 200_000 }), fc.boolean(), (depth, broken) => {
        const text = broken
          ? '['.repeat(depth)
          : `${'['.repeat(Math.ceil(depth / 2))}${nested(Math.floor(depth / 4))}${']'.repeat(Math.ceil(depth / 2))}`;
        expect(() => parsePayload(text)).toThrow(JsonTooDeepError);
        expect(() => parsePayload(text)).toThrow(`deeper than ${MAX_JSON_DEPTH} levels`);
      }),
      { numRuns: 50 },
    );
  });

  it('counts brackets inside strings as text, not nesting', () => {
    const text = `{"note":"${'['.repeat(500)}\\"${'{'.repeat(500)}","n":1}`;
    expectSameAsOracle(text);
  });
});
