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
