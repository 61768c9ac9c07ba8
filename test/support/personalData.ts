import { samplesOf } from './samples.ts';

/** Sample fields that hold personal data: names, emails, phones, addresses, IBANs, card names. */
const PERSONAL_FIELD = /name|email|phone|address1|address2|city|postal|iban|bic|embossed|street/i;

/**
 * Every personal value in the samples of `providers`, however short ("Doe", "NY"): what must never
 * appear in a log line or an answer.
 */
export function personalValues(providers: readonly string[]): string[] {
  const values = new Set<string>();
  const visit = (value: unknown, key: string) => {
    if (typeof value === 'string') {
      if (PERSONAL_FIELD.test(key) && value.trim() !== '') values.add(value.trim());
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, Array.isArray(value) ? key : k);
    }
  };
  for (const provider of providers) {
    for (const body of samplesOf(provider).values()) visit(JSON.parse(body.toString('utf8')), '');
  }
  return [...values];
}

/** A personal value found in a log line or an answer, and where. */
export interface Leak {
  value: string;
  field: string;
  line: number;
}

/**
 * The personal values that occur in `lines` (log lines or answer bodies) as whole tokens of a text
 * field: a JSON line is read field by field, and only its strings are searched (a personal value is
 * text; a number such as an epoch-millisecond timestamp never holds one), a line that is not JSON is
 * one text field. A value counts where it stands alone: not inside a longer word or number ("10001"
 * in "1764477100010012" is no leak, "Doe" in "Doesn't" neither; "Doe" in "got Doe" is).
 *
 * @example
 * expect(personalDataIn(capturedLogs, personalValues(PROVIDER_NAMES))).toEqual([]);
 */
export function personalDataIn(lines: readonly string[], values: readonly string[]): Leak[] {
  const leaks: Leak[] = [];
  lines.forEach((line, index) => {
    for (const [field, text] of textFields(line)) {
      for (const value of values) {
        if (standsAlone(text, value)) leaks.push({ value, field, line: index });
      }
    }
  });
  return leaks;
}

/** The text fields of a line: every string in it (with its path) when it is JSON, else the whole line. */
function textFields(line: string): [string, string][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return [['(line)', line]];
  }
  const fields: [string, string][] = [];
  const visit = (value: unknown, path: string) => {
    if (typeof value === 'string') fields.push([path, value]);
    else if (value && typeof value === 'object')
      for (const [key, child] of Object.entries(value)) visit(child, path ? `${path}.${key}` : key);
  };
  visit(parsed, '');
  return fields;
}

const WORD_CHARACTER = /[\p{L}\p{N}]/u;

/** Whether `value` occurs in `text` with no letter or digit right before or after it. */
function standsAlone(text: string, value: string): boolean {
  for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
    const before = text[at - 1] ?? '';
    const after = text[at + value.length] ?? '';
    if (!WORD_CHARACTER.test(before) && !WORD_CHARACTER.test(after)) return true;
  }
  return false;
}
