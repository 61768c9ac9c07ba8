import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { amountFromMinor, currencyOf, decimalText, fromMinorUnits } from '../../shared/core/amounts.ts';
import { iso4217Source } from '../../shared/core/iso4217Source.ts';
import { parseJson } from '../../shared/core/losslessJson.ts';

describe('ISO 4217 data', () => {
  it('the generated table is exactly what the currency-codes package gives (run scripts/gen-iso4217.ts after an update)', () => {
    const committed = readFileSync(
      new URL('../../shared/core/iso4217.generated.ts', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(iso4217Source());
  });

  it('maps numeric and alphabetic codes with their exponents', () => {
    expect(currencyOf('840')).toEqual({ code: 'USD', digits: 2 });
    expect(currencyOf(978)).toEqual({ code: 'EUR', digits: 2 });
    expect(currencyOf('jpy')).toEqual({ code: 'JPY', digits: 0 });
    expect(currencyOf('BHD')?.digits).toBe(3);
    expect(currencyOf('USDC')).toBeUndefined();
  });
});

describe('exact amounts', () => {
  it('keeps every digit of JSON numbers and never makes a float', () => {
    const body = parseJson('{"a":24.843798,"b":1234567890123456789,"c":1e-7,"d":2.5E3,"e":0.1}') as Record<
      string,
      unknown
    >;
    expect(decimalText(body.a)).toBe('24.843798');
    expect(decimalText(body.b)).toBe('1234567890123456789');
    expect(decimalText(body.c)).toBe('0.0000001');
    expect(decimalText(body.d)).toBe('2500');
    expect(decimalText(body.e)).toBe('0.1');
    expect(decimalText('12abc')).toBeUndefined();
    expect(decimalText(12.5)).toBeUndefined(); // a float already lost its digits: refuse it
  });

  it('converts minor units with the currency exponent', () => {
    expect(amountFromMinor(parseJson('10000'), 'IDR')).toEqual({ value: '100.00', currency: 'IDR' });
    expect(amountFromMinor('5000', '840')).toEqual({ value: '50.00', currency: 'USD' });
    expect(amountFromMinor('5', 'BHD')).toEqual({ value: '0.005', currency: 'BHD' });
    expect(amountFromMinor('-150', 'JPY')).toEqual({ value: '-150', currency: 'JPY' });
    expect(fromMinorUnits('12.5', 2)).toBeUndefined();
    expect(amountFromMinor('100', 'XYZ')).toBeUndefined();
  });

  it('writes a decimal exactly as the general reading does, plain forms included (property)', () => {
    // What decimalText answered before its shortcut for plain decimals: the general reading alone.
    const general = (text: string) => {
      const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
      if (!m) return undefined;
      const [, sign = '', whole = '', fraction = '', exp = '0'] = m;
      const shift = Number(exp);
      if (!Number.isSafeInteger(shift) || Math.abs(shift) > 400) return undefined;
      let digits = whole + fraction;
      let point = whole.length + shift;
      if (point <= 0) {
        digits = '0'.repeat(1 - point) + digits;
        point = 1;
      } else if (point > digits.length) digits = digits + '0'.repeat(point - digits.length);
      const intPart = digits.slice(0, point).replace(/^0+(?=\d)/, '');
      const fracPart = digits.slice(point);
      const out = fracPart ? `${intPart}.${fracPart}` : intPart;
      return sign && /[1-9]/.test(out) ? `-${out}` : out;
    };
    const digits = fc.stringMatching(/^[0-9]{1,6}$/);
    const decimal = fc
      .tuple(
        fc.constantFrom('', '-'),
        fc.oneof(digits, fc.constantFrom('0', '00', '000')),
        fc.option(fc.oneof(digits, fc.constantFrom('0', '00')), { nil: undefined }),
        fc.option(fc.constantFrom('e0', 'e3', 'E-2', 'e+1'), { nil: undefined }),
      )
      .map(
        ([sign, whole, fraction, exp]) =>
          `${sign}${whole}${fraction === undefined ? '' : `.${fraction}`}${exp ?? ''}`,
      );
    fc.assert(
      fc.property(fc.oneof(decimal, fc.string()), (text) => {
        expect(decimalText(text)).toBe(general(text.trim()));
      }),
      { numRuns: 5000 },
    );
    expect(decimalText('-0.00')).toBe('0.00');
    expect(decimalText('-0.05')).toBe('-0.05');
    expect(decimalText('007.50')).toBe('7.50');
  });
});
