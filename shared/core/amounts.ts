import { isLosslessNumber } from 'lossless-json';
import * as v from 'valibot';
import type { ContractAmount } from '../contract/eventContract.ts';
import { ISO4217 } from './iso4217.generated.ts';

/** A money amount before it is given its role in an event. */
export type Amount = Omit<ContractAmount, 'role'>;

interface Currency {
  code: string;
  digits: number;
}

const byCode = new Map<string, Currency>();
const byNumber = new Map<string, Currency>();
for (const row of ISO4217.split(',')) {
  const [code = '', number = '', digits = '0'] = row.split(':');
  const currency = { code, digits: Number(digits) };
  byCode.set(code, currency);
  byNumber.set(number, currency);
}

/** An ISO 4217 currency by alphabetic (`"USD"`) or numeric (`"840"`, `840`) code. */
export function currencyOf(code: string | number): Currency | undefined {
  // Providers send the alphabetic code as ISO writes it; the table's keys are never digits.
  const exact = typeof code === 'string' ? byCode.get(code) : undefined;
  if (exact) return exact;
  const text = String(code).trim();
  return /^\d+$/.test(text) ? byNumber.get(text.padStart(3, '0')) : byCode.get(text.toUpperCase());
}

const JSON_NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** A decimal already in the form `decimalText` writes: no exponent, no leading zero, not minus zero. */
const PLAIN_DECIMAL = /^(?:0|-?[1-9]\d*)(?:\.\d+)?$|^-0\.\d*[1-9]\d*$/;

/**
 * The exact decimal text of a JSON number or numeric string, without ever making a float:
 * `24.843798` → `"24.843798"`, `1e-7` → `"0.0000001"`. Returns undefined for anything else.
 */
export function decimalText(value: unknown): string | undefined {
  const text = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined) return undefined;
  if (PLAIN_DECIMAL.test(text)) return text;
  const m = JSON_NUMBER.exec(text);
  if (!m) return undefined;
  const [, sign = '', whole = '', fraction = '', exp = '0'] = m;
  const shift = Number(exp);
  if (!Number.isSafeInteger(shift) || Math.abs(shift) > 400) return undefined;
  let digits = whole + fraction;
  let point = whole.length + shift;
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  } else if (point > digits.length) {
    digits = digits + '0'.repeat(point - digits.length);
  }
  const intPart = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const fracPart = digits.slice(point);
  const out = fracPart ? `${intPart}.${fracPart}` : intPart;
  return sign && /[1-9]/.test(out) ? `-${out}` : out;
}

/**
 * An integer count of minor units as a decimal in major units: (`10000`, 2) → `"100.00"`.
 * Returns undefined when the value is not an integer.
 */
export function fromMinorUnits(value: unknown, exponent: number): string | undefined {
  const text = decimalText(value);
  if (text === undefined || text.includes('.')) return undefined;
  const negative = text.startsWith('-');
  const digits = (negative ? text.slice(1) : text).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? '-' : ''}${whole}${exponent > 0 ? `.${fraction}` : ''}`;
}

/** An amount from a decimal value and a currency code, or undefined when either is missing or malformed. */
export function amount(value: unknown, currency: unknown): Amount | undefined {
  const decimal = decimalText(value);
  if (decimal === undefined || typeof currency !== 'string' || currency === '') return undefined;
  return { value: decimal, currency: currencyOf(currency)?.code ?? currency };
}

/** An amount from minor units and an ISO 4217 code (alphabetic or numeric), with the currency's exponent. */
export function amountFromMinor(value: unknown, currency: unknown, exponent?: number): Amount | undefined {
  if (typeof currency !== 'string' && typeof currency !== 'number') return undefined;
  const known = currencyOf(currency);
  const digits = exponent ?? known?.digits;
  if (digits === undefined) return undefined;
  const decimal = fromMinorUnits(value, digits);
  return decimal === undefined ? undefined : { value: decimal, currency: known?.code ?? String(currency) };
}

/**
 * A currency or asset code as providers send it: an ISO 4217 code ("EUR") or a token symbol ("USDC",
 * "EURe"). Letters and digits only, so free text (a name in the wrong field) is quarantined rather
 * than published as a currency.
 */
export const AssetCodeSchema = v.pipe(
  v.custom<string>(
    (input) => typeof input === 'string' && /^[A-Za-z][A-Za-z0-9]{1,11}$/.test(input),
    'expected a currency code',
  ),
  v.description('ISO 4217 code or token symbol, e.g. "EUR", "USDC".'),
);
