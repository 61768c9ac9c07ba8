/**
 * The faults `npm run send` can put into a sample, so a newcomer sees locally what the intake does
 * with them: a tampered signature and a stale timestamp are refused (401), an authentic but invalid
 * payload is quarantined (200, kept for re-ingest).
 */
import * as v from 'valibot';
import { parseJson, stringifyJson } from '../shared/core/losslessJson.ts';
import type { SignDelivery } from '../shared/core/providerModule.ts';
import { DEFAULT_TOLERANCE_SECONDS } from '../shared/core/signatureWindow.ts';

export type Fault = 'tamper' | 'stale' | 'invalid';

/** How far in the past `--stale` signs: well outside the accepted clock skew. */
export const STALE_BY_SECONDS = 4 * DEFAULT_TOLERANCE_SECONDS;

/** Whether the provider's signature covers a timestamp (otherwise a stale delivery cannot be told apart). */
export function signsTimestamp(sign: SignDelivery, body: Buffer, key: string): boolean {
  const a = sign(body, key, new Date('2024-01-01T00:00:00Z'));
  const b = sign(body, key, new Date('2024-01-01T01:00:00Z'));
  return JSON.stringify(a) !== JSON.stringify(b);
}

/**
 * The headers with one character of the signature changed: the headers whose value depends on the
 * body are the signature's; the last hex-or-base64 character of each is replaced by another.
 */
export function tamperSignature(
  sign: SignDelivery,
  body: Buffer,
  key: string,
  at: Date,
): Record<string, string> {
  const headers = sign(body, key, at);
  const other = sign(Buffer.concat([body, Buffer.from(' ')]), key, at);
  const tampered = { ...headers };
  for (const [name, value] of Object.entries(headers)) {
    if (other[name] === value) continue;
    const index = value.search(/[0-9A-Za-z+/](?=[=]*$)/);
    if (index < 0) continue;
    tampered[name] = value.slice(0, index) + (value[index] === '0' ? '1' : '0') + value.slice(index + 1);
  }
  return tampered;
}

/**
 * The sample with one value the schema does not accept, as when a provider starts sending a status or
 * type the schema does not know yet: the first string field named like a status or type (else any
 * string field) whose changed value (`value`, else the old one with `_v2`) the schema refuses. The
 * body stays valid JSON, its numbers keep every digit; it is signed as it is sent, so it is authentic
 * and gets quarantined, not refused.
 */
export function invalidPayload(
  schema: v.GenericSchema,
  body: Buffer,
  value?: string,
): { body: Buffer; field: string; value: string } {
  const payload = parseJson(body.toString('utf8'));
  const fields = stringFields(payload, '');
  const named = [
    ...fields.filter(({ path }) => /status$/i.test(path)),
    ...fields.filter(({ path }) => /type$/i.test(path)),
  ];
  for (const field of [...named, ...fields.filter((f) => !named.includes(f))]) {
    const changed = value ?? `${field.value}_v2`;
    field.set(changed);
    if (!v.safeParse(schema, payload).success)
      return { body: Buffer.from(stringifyJson(payload)), field: field.path, value: changed };
    field.set(field.value);
  }
  throw new Error('found no field to make this sample invalid with');
}

interface StringField {
  path: string;
  value: string;
  set(value: string): void;
}

/** Every string value in the JSON, depth first, with its dot path and a setter. */
function stringFields(node: unknown, path: string): StringField[] {
  if (node === null || typeof node !== 'object') return [];
  const entries: [string, unknown][] = Array.isArray(node)
    ? node.map((value, i) => [String(i), value])
    : Object.entries(node as Record<string, unknown>);
  const container = node as Record<string, unknown>;
  return entries.flatMap(([key, value]) => {
    const here = path ? `${path}.${key}` : key;
    if (typeof value === 'string') {
      return [{ path: here, value, set: (text: string) => (container[key] = text) }];
    }
    return stringFields(value, here);
  });
}
