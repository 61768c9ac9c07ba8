import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROVIDERS_DIR = fileURLToPath(new URL('../../shared/providers/', import.meta.url));

/** The documented sample bodies of a provider, byte for byte, by file name (without `.json`). */
export function samplesOf(provider: string): Map<string, Buffer> {
  const dir = join(PROVIDERS_DIR, provider, 'samples');
  const samples = new Map<string, Buffer>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    samples.set(file.replace(/\.json$/, ''), readFileSync(join(dir, file)));
  }
  return samples;
}

export function sample(provider: string, name: string): Buffer {
  const body = samplesOf(provider).get(name);
  if (!body) throw new Error(`no sample ${provider}/${name}`);
  return body;
}

const PERSONAL_FIELD = /name|email|phone|address1|address2|city|postal|iban|bic|embossed|street/i;

/**
 * Every personal value in the samples (names, emails, phones, addresses, IBANs, card names): what must
 * never appear in a log line.
 */
export function personalValues(providers: readonly string[]): string[] {
  const values = new Set<string>();
  const visit = (value: unknown, key: string) => {
    if (typeof value === 'string') {
      if (PERSONAL_FIELD.test(key) && value.length >= 4) values.add(value);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, Array.isArray(value) ? key : k);
    }
  };
  for (const provider of providers) {
    for (const body of samplesOf(provider).values()) visit(JSON.parse(body.toString('utf8')), '');
  }
  return [...values];
}
