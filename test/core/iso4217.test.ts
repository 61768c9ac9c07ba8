import { readFileSync } from 'node:fs';
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
});
