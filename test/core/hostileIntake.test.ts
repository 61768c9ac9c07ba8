import { generateKeys } from '../../local/localKeys.ts';
import { MAX_EVENT_ID_BYTES, MAX_JSON_DEPTH, MAX_SUBJECT_BYTES } from '../../shared/core/bounds.ts';
import { type IntakeResult, intake } from '../../shared/core/intake.ts';
import { parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import type { Headers, ProviderModule } from '../../shared/core/providerModule.ts';
import { loadProviders, PROVIDER_NAMES } from '../../shared/providers/registry.ts';
import { signerOf } from '../../shared/providers/signers.ts';
import { sample, samplesOf } from '../support/samples.ts';

/** The five findings of the hostile-input fuzz (issue 11), each at the intake, on real provider modules. */
const NOW = new Date();
const keys = Object.fromEntries(PROVIDER_NAMES.map((name) => [name, generateKeys(name)]));
let modules: Record<string, ProviderModule>;
beforeAll(async () => {
  modules = await loadProviders();
});

function signed(provider: string, body: Buffer): Headers {
  return signerOf(provider).sign(body, keys[provider]?.signingKey ?? '', NOW);
}

function deliver(provider: string, body: Buffer, headers: Headers = signed(provider, body)): IntakeResult {
  const settings = { keys: keys[provider]?.verifyKeys ?? [] };
  return intake(modules[provider] as ProviderModule, body, headers, settings, NOW);
}

function reasonOf(result: IntakeResult): string {
  if (result.kind !== 'quarantine') throw new Error(`expected quarantine, got ${result.kind}`);
  return result.reason;
}

type Json = Record<string, unknown>;
const edited = (body: Buffer, edit: (parsed: Json) => void): Buffer => {
  const parsed = parseJson(body.toString('utf8')) as Json;
  edit(parsed);
  return Buffer.from(stringifyJson(parsed));
};

/** `{"a":[{"a":[…]}]}`, `depth` levels of objects and arrays around `inner`. */
const nested = (depth: number, inner: string): string =>
  `${'{"a":['.repeat(Math.floor(depth / 2))}${depth % 2 ? '[' : ''}${inner}${depth % 2 ? ']' : ''}${']}'.repeat(Math.floor(depth / 2))}`;

describe('1. deep JSON: quarantined with the nesting bound, whatever the depth (never a stack overflow, never 503)', () => {
  it('APARA partnerContext.testfield1 nested 5,000 deep (the reproduction)', () => {
    const body = Buffer.from(
      sample('apara', 'order.completed')
        .toString('utf8')
        .replace('"testfield1": "1234"', `"testfield1": ${nested(5000, '"1234"')}`),
    );
    expect(body.length).toBeGreaterThan(10_000);
    expect(reasonOf(deliver('apara', body))).toBe(
      `JSON nested deeper than ${MAX_JSON_DEPTH} levels (the nesting bound)`,
    );
  });

  it.each(PROVIDER_NAMES)(
    '%s: any depth past the bound gives the same reason, up to 100,000 levels',
    (provider) => {
      const [, first] = [...samplesOf(provider)][0] ?? [];
      for (const depth of [MAX_JSON_DEPTH + 1, 3_700, 7_000, 10_000, 100_000]) {
        const body = Buffer.from(
          first?.toString('utf8').replace(/^\{/, `{"deep":${nested(depth, '1')},`) ?? '',
        );
        expect(reasonOf(deliver(provider, body))).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
      }
    },
  );

  it('accepts nesting up to the bound', () => {
    const body = edited(sample('apara', 'order.completed'), (b) => {
      (b.partnerContext as Json).testfield1 = parseJson(nested(MAX_JSON_DEPTH - 2, '1'));
    });
    expect(deliver('apara', body).kind).toBe('event');
  });
});

/** The top-level field that holds the event id (the dedupe key) of a provider's first sample, if one does. */
function idField(provider: string): { name: string; body: Buffer } | undefined {
  for (const body of samplesOf(provider).values()) {
    const result = deliver(provider, body);
    if (result.kind !== 'event') continue;
    const parsed = parseJson(body.toString('utf8')) as Json;
    const name = Object.keys(parsed).find((key) => parsed[key] === result.dedupeKey);
    if (name) return { name, body };
  }
  return undefined;
}

describe('2. long event ids and subjects: quarantined with their bound (DynamoDB refuses keys of 2048 bytes)', () => {
  const withId = PROVIDER_NAMES.filter((provider) => ['apara', 'openpoly', 'coinme'].includes(provider));

  it.each(withId)('%s: an id of 2,043 characters', (provider) => {
    const field = idField(provider);
    if (!field) throw new Error(`${provider}: no sample names its event id in a top-level field`);
    const body = edited(field.body, (b) => {
      b[field.name] = 'E'.repeat(2043);
    });
    expect(reasonOf(deliver(provider, body))).toBe(
      `event id of 2043 bytes is longer than the event id bound (${MAX_EVENT_ID_BYTES} bytes)`,
    );
  });

  it.each(withId)(
    '%s: an id of exactly the bound in bytes (multi-byte characters) is accepted',
    (provider) => {
      const field = idField(provider);
      if (!field) throw new Error(`${provider}: no sample names its event id in a top-level field`);
      const atBound = edited(field.body, (b) => {
        b[field.name] = 'é'.repeat(MAX_EVENT_ID_BYTES / 2);
      });
      expect(deliver(provider, atBound).kind).toBe('event');
      const past = edited(field.body, (b) => {
        b[field.name] = `${'é'.repeat(MAX_EVENT_ID_BYTES / 2)}x`;
      });
      expect(reasonOf(deliver(provider, past))).toContain('the event id bound');
    },
  );

  it('Gnosis Pay: a subject (thread id) past the subject bound', () => {
    const body = edited(sample('gnosis-pay', 'card.transaction.created'), (b) => {
      ((b.data as Json).event as Json).threadId = 't'.repeat(MAX_SUBJECT_BYTES);
    });
    expect(reasonOf(deliver('gnosis-pay', body))).toMatch(/longer than the subject bound \(512 bytes\)$/);
  });
});

describe('4. a repeated signature header (joined with a comma): one rule for every provider', () => {
  it.each(PROVIDER_NAMES)(
    '%s: the same signature twice is accepted; a malformed second entry is not',
    (provider) => {
      const [, body] = [...samplesOf(provider)][0] ?? [];
      if (!body) throw new Error(`${provider}: no sample`);
      const headers = signed(provider, body);
      const signatureHeader = Object.keys(headers).find((name) => /signature|hmac/.test(name)) ?? '';
      const signature = headers[signatureHeader] ?? '';
      expect(signature).not.toBe('');
      expect(
        deliver(provider, body, { ...headers, [signatureHeader]: `${signature},${signature}` }).kind,
      ).toBe('event');
      expect(
        deliver(provider, body, { ...headers, [signatureHeader]: `${signature}, ${signature}` }).kind,
      ).toBe('event');
      const malformed = deliver(provider, body, { ...headers, [signatureHeader]: `${signature},***` });
      expect(malformed).toEqual({ kind: 'unauthentic', reason: 'malformed_signature' });
    },
  );
});

describe('5. reasons name paths, expected types and shapes, never a value from the payload', () => {
  it('APARA status "John Doe": the reason says a string of 8 characters, not the name', () => {
    const body = edited(sample('apara', 'order.completed'), (b) => {
      b.status = 'John Doe';
    });
    const reason = reasonOf(deliver('apara', body));
    expect(reason).toMatch(/^status: expected .*, got string of length 8$/);
    expect(reason).not.toContain('John');
  });

  it.each(PROVIDER_NAMES)(
    '%s: a personal value in any top-level field never reaches the reason',
    (provider) => {
      for (const body of samplesOf(provider).values()) {
        const parsed = parseJson(body.toString('utf8')) as Json;
        for (const field of Object.keys(parsed)) {
          for (const value of [
            'John Doe',
            'Doe',
            'jane@example.com',
            { name: 'Dev' },
            ['DE89370400440532013000'],
          ]) {
            const result = deliver(provider, Buffer.from(stringifyJson({ ...parsed, [field]: value })));
            const said = result.kind === 'event' ? '' : String(result.reason);
            for (const token of ['John', 'Doe', 'jane@example.com', 'Dev', 'DE89370400440532013000'])
              expect(said.split(/[^\w@.]+/)).not.toContain(token);
          }
        }
      }
    },
  );
});
