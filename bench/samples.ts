import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeys, type LocalKeys } from '../local/localKeys.ts';
import { parseJson, stringifyJson } from '../shared/core/losslessJson.ts';
import { PROVIDER_NAMES, signerOf } from '../shared/providers/signers.ts';
import { jsonObject } from '../shared/providers/signing.ts';
import { ROOT } from './bundle.ts';

/** One documented sample body of a provider, byte for byte. */
export interface Sample {
  provider: string;
  name: string;
  body: Buffer;
}

export function samplesOf(provider: string): Sample[] {
  const dir = join(ROOT, 'shared/providers', provider, 'samples');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ provider, name: file.replace(/\.json$/, ''), body: readFileSync(join(dir, file)) }));
}

/** Every registered provider's samples: the bench's sample list. */
export const allSamples = (): Sample[] => PROVIDER_NAMES.flatMap(samplesOf);

/** The provider's largest sample (the most work per event). */
export function largestSample(provider: string): Sample {
  const samples = samplesOf(provider).sort(
    (a, b) => b.body.length - a.body.length || a.name.localeCompare(b.name),
  );
  const largest = samples[0];
  if (!largest) throw new Error(`no samples for ${provider}`);
  return largest;
}

/** The sample of median byte size over every provider's samples: the "typical webhook" of the cost model. */
export function medianSample(): Sample {
  const samples = allSamples().sort((a, b) => a.body.length - b.body.length || a.name.localeCompare(b.name));
  const sample = samples[Math.floor((samples.length - 1) / 2)];
  if (!sample) throw new Error('no samples');
  return sample;
}

/** Fresh keys for every provider (random HMAC secrets, Ed25519 pairs), as the local stack uses them. */
export const benchKeys = (): LocalKeys =>
  Object.fromEntries(PROVIDER_NAMES.map((name) => [name, generateKeys(name)]));

/** The headers the provider would send with this body, signed with the bench's keys. */
export function signedHeaders(
  provider: string,
  body: Buffer,
  keys: LocalKeys,
  now = new Date(),
): Record<string, string> {
  return signerOf(provider).sign(body, keys[provider]?.signingKey ?? '', now);
}

/**
 * The sample turned into a different genuine event, as the provider's signer makes one: a new provider
 * event id (and a new business entity, so events spread over FIFO message groups as real traffic does).
 * Pretty-printed like the samples, so the size stays within a few bytes of the original.
 */
export function withEventId(sample: Sample, id: string): Buffer {
  const body = jsonObject(parseJson(sample.body.toString('utf8')));
  if (!body) throw new Error(`${sample.provider}/${sample.name} is not a JSON object`);
  signerOf(sample.provider).asNewEvent(body, id);
  return Buffer.from(stringifyJson2(body));
}

/** The same event id with a changed payload: what the store must keep as a conflict. */
export function withChangedPayload(body: Buffer): Buffer {
  const parsed = jsonObject(parseJson(body.toString('utf8')));
  if (!parsed) throw new Error('not a JSON object');
  parsed.benchRevision = 'changed';
  return Buffer.from(stringifyJson2(parsed));
}

/** Lossless JSON, laid out like the samples (two-space indent), so sizes stay comparable. */
function stringifyJson2(value: unknown): string {
  return reindent(stringifyJson(value));
}

/** Re-indents compact JSON with two spaces, the samples' layout (strings are copied untouched). */
function reindent(compact: string): string {
  let out = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < compact.length; i += 1) {
    const ch = compact[i] as string;
    if (inString) {
      out += ch;
      if (ch === '\\') out += compact[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      if (compact[i + 1] === close) {
        out += ch + close;
        i += 1;
      } else {
        depth += 1;
        out += `${ch}\n${'  '.repeat(depth)}`;
      }
    } else if (ch === '}' || ch === ']') {
      depth -= 1;
      out += `\n${'  '.repeat(depth)}${ch}`;
    } else if (ch === ',') {
      out += `,\n${'  '.repeat(depth)}`;
    } else if (ch === ':') {
      out += ': ';
    } else {
      out += ch;
    }
  }
  return out;
}
