import fc from 'fast-check';
import { parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import { payloadHash } from '../../shared/core/payloadHash.ts';

describe('lossless JSON', () => {
  it('keeps wei balances above 2^53 digit for digit', () => {
    const text = '{"eventType":"account.balance.changed","data":{"total":1234567890123456789}}';
    expect(stringifyJson(parseJson(text))).toBe(text);
    expect(JSON.stringify(JSON.parse(text))).not.toBe(text); // what it protects against
  });

  it('round-trips any JSON number text exactly (property)', () => {
    const numberText = fc
      .tuple(
        fc.boolean(),
        fc.bigInt({ min: 0n, max: 10n ** 40n }),
        fc.option(fc.stringMatching(/^\d{1,30}$/), { nil: undefined }),
      )
      .map(
        ([negative, whole, fraction]) => `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`,
      );
    fc.assert(
      fc.property(fc.array(numberText, { maxLength: 8 }), (numbers) => {
        const text = `{"values":[${numbers.join(',')}]}`;
        expect(stringifyJson(parseJson(text))).toBe(text);
      }),
    );
  });

  it('hashes content, not formatting: key order and white space do not matter, any value change does', () => {
    const a = parseJson('{"a":1,"b":{"c":"x","d":[1,2]}}');
    const b = parseJson('{ "b": { "d": [1, 2], "c": "x" }, "a": 1 }');
    const c = parseJson('{"a":1,"b":{"c":"y","d":[1,2]}}');
    expect(payloadHash(a)).toBe(payloadHash(b));
    expect(payloadHash(a)).not.toBe(payloadHash(c));
  });

  it('hashes the same content the same, whatever the key order and white space (property)', () => {
    fc.assert(
      fc.property(jsonObject, fc.infiniteStream(fc.nat()), (value, choices) => {
        const plain = JSON.stringify(value);
        const reformatted = reformat(value, choices[Symbol.iterator]());
        expect(reformatted).not.toBe(plain);
        expect(payloadHash(parseJson(reformatted))).toBe(payloadHash(parseJson(plain)));
      }),
    );
  });

  it('hashes a payload with any one value changed differently (property)', () => {
    fc.assert(
      fc.property(jsonObject, fc.nat(), (value, pick) => {
        const paths = leafPaths(value);
        const path = paths[pick % paths.length] ?? [];
        const changed = withLeafChanged(value, path);
        expect(JSON.stringify(changed)).not.toBe(JSON.stringify(value));
        expect(payloadHash(parseJson(JSON.stringify(changed)))).not.toBe(
          payloadHash(parseJson(JSON.stringify(value))),
        );
      }),
    );
  });
});

/** Any JSON object (a webhook body), with at least one key. */
const jsonObject = fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }) as fc.Arbitrary<
  Record<string, unknown>
>;

const WHITE_SPACE = [' ', '\n', '\t', '\r\n', '  '];

/**
 * The same JSON written differently: every object's keys in an order drawn from `choices`, and white
 * space (at least one character) around every token.
 */
function reformat(value: unknown, choices: Iterator<number>): string {
  const next = () => choices.next().value as number;
  const ws = () => WHITE_SPACE[next() % WHITE_SPACE.length] ?? ' ';
  if (Array.isArray(value))
    return `[${ws()}${value.map((item) => reformat(item, choices)).join(`${ws()},${ws()}`)}${ws()}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i > 0; i -= 1) {
      const j = next() % (i + 1);
      [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
    }
    const members = keys.map(
      (key) =>
        `${JSON.stringify(key)}${ws()}:${ws()}${reformat((value as Record<string, unknown>)[key], choices)}`,
    );
    return `{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}`;
  }
  return JSON.stringify(value);
}

type Path = (string | number)[];

/** Paths to every value that holds no other value: scalars, empty arrays and empty objects. */
function leafPaths(value: unknown, path: Path = []): Path[] {
  const children: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, i) => [i, item])
    : value !== null && typeof value === 'object'
      ? Object.entries(value)
      : [];
  if (children.length === 0) return [path];
  return children.flatMap(([key, child]) => leafPaths(child, [...path, key]));
}

/** A copy of `value` with the leaf at `path` replaced by a different value. */
function withLeafChanged(value: unknown, path: Path): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return changedLeaf(value);
  if (Array.isArray(value)) return value.map((item, i) => (i === head ? withLeafChanged(item, rest) : item));
  const copy = { ...(value as Record<string, unknown>) };
  Object.defineProperty(copy, head, {
    value: withLeafChanged(copy[head as string], rest),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

function changedLeaf(leaf: unknown): unknown {
  if (typeof leaf === 'string') return `${leaf}x`;
  if (typeof leaf === 'number') return leaf === 0 ? 1 : 0;
  if (typeof leaf === 'boolean') return !leaf;
  if (leaf === null) return false;
  return Array.isArray(leaf) ? [null] : { changed: null };
}

describe('reasons for unreadable bodies', () => {
  it('say where the JSON broke without quoting the data', async () => {
    const { intake } = await import('../../shared/core/intake.ts');
    const anyBody = { name: 'any', verify: () => ({ ok: true }) } as never;
    const result = intake(anyBody, Buffer.from('{"card": 4111111111111111.}'), {}, { keys: [] }, new Date());
    expect(result.kind).toBe('quarantine');
    const reason = result.kind === 'quarantine' ? result.reason : '';
    expect(reason).toMatch(/^invalid JSON: .*position/);
    expect(reason).not.toContain('4111111111111111');
  });
});

describe('characters SQS refuses', () => {
  it('writes U+FFFE and U+FFFF as escapes, so an SNS → SQS delivery cannot be refused; the value is unchanged', () => {
    const value = { note: 'a\uFFFEb\uFFFFc', [`key\uFFFF`]: 1 };
    const text = stringifyJson(value);
    expect(text).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(text).toContain('a\\ufffeb\\uffffc');
    expect(JSON.parse(text)).toEqual({ note: 'a\uFFFEb\uFFFFc', [`key\uFFFF`]: 1 });
    expect(stringifyJson({ plain: 'ü €' })).toBe('{"plain":"ü €"}');
  });
});
