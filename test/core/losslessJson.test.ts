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
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (x, y) => {
        const px = parseJson(JSON.stringify(x));
        const py = parseJson(JSON.stringify(y));
        if (JSON.stringify(x) === JSON.stringify(y)) expect(payloadHash(px)).toBe(payloadHash(py));
      }),
    );
  });
});

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
