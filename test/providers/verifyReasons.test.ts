import {
  createHmac,
  createPublicKey,
  type KeyObject,
  timingSafeEqual,
  verify as verifyEd25519,
} from 'node:crypto';
import fc from 'fast-check';
import type {
  AuthFailure,
  Headers,
  ProviderSettings,
  VerifyResult,
} from '../../shared/core/providerModule.ts';
import { signedRecently } from '../../shared/core/signatureWindow.ts';
import { isReadableTimestamp } from '../../shared/core/timestamps.ts';
import { verify as verifyApara } from '../../shared/providers/apara/verify.ts';
import { verify as verifyCoinme } from '../../shared/providers/coinme/verify.ts';
import { verify as verifyOpenpoly } from '../../shared/providers/openpoly/verify.ts';
import {
  signMessage,
  signer as standardWebhooksSigner,
} from '../../shared/providers/standard-webhooks/sign.ts';
import { verify as verifyStandardWebhooks } from '../../shared/providers/standard-webhooks/verify.ts';

/**
 * The header parsing of the HMAC verifiers was rewritten for speed (no regex splits, no rest arguments,
 * one pass). The implementations it replaced are kept here as oracles: for any header the new code
 * must answer exactly as the old did, every reason code included.
 */

const NOW = new Date('2026-11-30T06:00:00.000Z');
const BODY = Buffer.from('{"id":"evt_1","amount":1234567890123456789}');

/**
 * A hex signature with its first digit written as a character whose low byte is that digit (`0` as
 * U+0130): `Buffer.from(…, 'hex')` alone would decode it as the genuine signature.
 */
function lowByteLookalike(hex: string): string {
  return String.fromCharCode(0x100 | hex.charCodeAt(0)) + hex.slice(1);
}

// ---- oracles: the earlier implementations, verbatim apart from names ----

const HEX_SHA256 = /^[0-9a-f]{64}$/i;
const BASE64_SHA256 = /^[A-Za-z0-9+/_-]{43}=?$/;

function oldDecodeSignature(text: string, encodings: readonly ('hex' | 'base64')[]): Buffer | undefined {
  if (encodings.includes('hex') && HEX_SHA256.test(text)) return Buffer.from(text, 'hex');
  if (encodings.includes('base64') && BASE64_SHA256.test(text)) return Buffer.from(text, 'base64');
  return undefined;
}

function oldSignatureEntries(header: string | undefined): string[] | undefined {
  const entries = (header ?? '').split(/[\s,]+/).filter(Boolean);
  return entries.length > 0 && entries.length <= 8 ? entries : undefined;
}

const oldActiveKeys = (settings: ProviderSettings) => settings.keys.filter((key) => key.length > 0);

function oldAnyKeySigned(
  keys: readonly string[],
  signatures: readonly Uint8Array[],
  ...parts: (string | Uint8Array)[]
): boolean {
  let matched = false;
  for (const key of keys) {
    const mac = createHmac('sha256', key);
    for (const part of parts) mac.update(part);
    const digest = mac.digest();
    for (const signature of signatures)
      matched = (digest.length === signature.length && timingSafeEqual(digest, signature)) || matched;
  }
  return matched;
}

function oldBodyVerify(
  defaultHeader: string,
  encodings: readonly ('hex' | 'base64')[],
  rawBody: Buffer,
  headers: Headers,
  settings: ProviderSettings,
): VerifyResult {
  const keys = oldActiveKeys(settings);
  if (keys.length === 0) return { ok: false, reason: 'no_keys_configured' };
  const header = headers[(settings.signatureHeader?.trim() || defaultHeader).toLowerCase()];
  if (!header?.trim()) return { ok: false, reason: 'missing_signature' };
  const signatures = oldSignatureEntries(header)?.map((entry) => oldDecodeSignature(entry, encodings));
  if (!signatures || signatures.some((signature) => signature === undefined)) {
    return { ok: false, reason: 'malformed_signature' };
  }
  return oldAnyKeySigned(keys, signatures as Buffer[], rawBody)
    ? { ok: true }
    : { ok: false, reason: 'bad_signature' };
}

function oldOpenpolyVerify(
  rawBody: Buffer,
  headers: Headers,
  settings: ProviderSettings,
  now: Date,
): VerifyResult {
  const keys = oldActiveKeys(settings);
  if (keys.length === 0) return { ok: false, reason: 'no_keys_configured' };
  const header = headers['x-polynion-signature'];
  if (!header?.trim()) return { ok: false, reason: 'missing_signature' };
  const timestamp = headers['x-polynion-timestamp']?.trim();
  if (!timestamp) return { ok: false, reason: 'missing_timestamp' };
  const signedAt = Date.parse(timestamp);
  if (!isReadableTimestamp(timestamp)) return { ok: false, reason: 'malformed_timestamp' };
  const entries = oldSignatureEntries(header)?.map((entry) => /^([A-Za-z0-9]+)=(.*)$/.exec(entry));
  if (!entries || entries.some((entry) => entry === null))
    return { ok: false, reason: 'malformed_signature' };
  const current = entries.filter((entry) => entry?.[1] === 'v1');
  if (current.length === 0) return { ok: false, reason: 'unknown_signature_version' };
  const signatures = current.map((entry) => oldDecodeSignature(entry?.[2] ?? '', ['hex']));
  if (signatures.some((signature) => signature === undefined))
    return { ok: false, reason: 'malformed_signature' };
  if (!oldAnyKeySigned(keys, signatures as Buffer[], timestamp, '.', rawBody)) {
    return { ok: false, reason: 'bad_signature' };
  }
  if (!signedRecently(signedAt, now, settings)) return { ok: false, reason: 'stale_timestamp' };
  return { ok: true };
}

const failure = (reason: AuthFailure): VerifyResult => ({ ok: false, reason });

function oldStandardWebhooksVerify(
  rawBody: Buffer,
  headers: Headers,
  settings: ProviderSettings,
  now: Date,
): VerifyResult {
  const keys = oldVerifyKeys(settings.keys);
  if (keys.secrets.length === 0 && keys.publicKeys.length === 0) return failure('no_keys_configured');
  const id = headers['webhook-id'];
  if (!id) return failure('missing_id');
  if (!/^[\x21-\x7e]{1,256}$/.test(id)) return failure('malformed_id');
  const timestamp = headers['webhook-timestamp'];
  if (!timestamp) return failure('missing_timestamp');
  if (!/^\d{1,12}$/.test(timestamp)) return failure('malformed_timestamp');
  const header = headers['webhook-signature']?.trim();
  if (!header) return failure('missing_signature');
  const parts = header.split(/[\s,]+/).filter(Boolean);
  if (parts.length % 2 !== 0 || parts.length / 2 > 8) return failure('malformed_signature');
  const versioned: { version: string; value: string }[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const version = parts[i] ?? '';
    if (!/^v\d+[a-z]*$/.test(version)) return failure('malformed_signature');
    versioned.push({ version, value: parts[i + 1] ?? '' });
  }
  const hmacs = versioned.filter((e) => e.version === 'v1');
  const ed25519s = versioned.filter((e) => e.version === 'v1a');
  if (hmacs.length + ed25519s.length === 0) return failure('unknown_signature_version');
  if (
    !hmacs.every((e) => /^[A-Za-z0-9+/]{43}=?$/.test(e.value)) ||
    !ed25519s.every((e) => /^[A-Za-z0-9+/]{86}(==)?$/.test(e.value))
  )
    return failure('malformed_signature');
  const hmacSignatures = hmacs.map((e) => Buffer.from(e.value, 'base64'));
  const ed25519Signatures = ed25519s.map((e) => Buffer.from(e.value, 'base64'));
  const checkHmac = hmacSignatures.length > 0 && keys.secrets.length > 0;
  const checkEd25519 = ed25519Signatures.length > 0 && keys.publicKeys.length > 0;
  if (!checkHmac && !checkEd25519) return failure('no_key_for_version');
  const prefix = `${id}.${timestamp}.`;
  let matched = false;
  if (checkHmac) {
    for (const secret of keys.secrets) {
      const mac = createHmac('sha256', secret).update(prefix, 'utf8').update(rawBody).digest();
      for (const signature of hmacSignatures) matched = timingSafeEqual(mac, signature) || matched;
    }
  }
  if (!matched && checkEd25519) {
    const signed = Buffer.concat([Buffer.from(prefix, 'utf8'), rawBody]);
    for (const key of keys.publicKeys)
      for (const signature of ed25519Signatures)
        matched = verifyEd25519(null, signed, key, signature) || matched;
  }
  if (!matched) return failure('bad_signature');
  const skewMs = now.getTime() - Number(timestamp) * 1000;
  const toleranceMs = (settings.toleranceSeconds ?? 300) * 1000;
  if (skewMs > toleranceMs) return failure('stale_timestamp');
  if (-skewMs > toleranceMs) return failure('future_timestamp');
  return { ok: true };
}

function oldVerifyKeys(configured: readonly string[]): { secrets: Buffer[]; publicKeys: KeyObject[] } {
  const keys = { secrets: [] as Buffer[], publicKeys: [] as KeyObject[] };
  for (const raw of configured) {
    const text = raw.trim();
    const base64 = (t: string) => (/^[A-Za-z0-9+/]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : undefined);
    if (text.startsWith('whsec_')) {
      const secret = base64(text.slice(6));
      if (secret && secret.length > 0) keys.secrets.push(secret);
    } else if (text.startsWith('whpk_')) {
      const der = base64(text.slice(5));
      if (der?.length === 32) {
        const prefix = Buffer.from('302a300506032b6570032100', 'hex');
        keys.publicKeys.push(
          createPublicKey({ key: Buffer.concat([prefix, der]), format: 'der', type: 'spki' }),
        );
      }
    }
  }
  return keys;
}

// ---- generators ----

const KEY = 'whsec_current_secret';
const OTHER_KEY = 'whsec_other_secret';
const mac = (key: string | Buffer, ...parts: (string | Buffer)[]) => {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
};

/** Settings with the right key, a wrong one, empty ones, none; sometimes a renamed header. */
const keyLists = fc.constantFrom<readonly string[]>(
  [KEY],
  [OTHER_KEY, KEY],
  ['', KEY],
  [''],
  [],
  [OTHER_KEY],
);
const separator = fc.constantFrom(' ', ',', ', ', '\t', '\n', '  ', ' ,', '\u00a0', '\u2028');
const edge = fc.constantFrom('', '', ' ', ',', ', ');

/** A header of entries, joined by any separator, with separators before and after sometimes. */
const entries = (entry: fc.Arbitrary<string>, maxLength: number) =>
  fc
    .tuple(edge, fc.array(fc.tuple(entry, separator), { minLength: 0, maxLength }), edge)
    .map(
      ([before, list, after]) =>
        `${before}${list.map(([e, s], i) => (i === 0 ? e : `${s}${e}`)).join('')}${after}`,
    );
/** Mostly one to three entries (what senders send), sometimes up to ten (past the bound of eight). */
const header = (entry: fc.Arbitrary<string>) =>
  fc.oneof({ arbitrary: entries(entry, 3), weight: 4 }, { arbitrary: entries(entry, 10), weight: 1 });

function timestampText(kind: string, timestamp: string): string {
  if (kind === 'text') return 'now';
  if (kind === 'twelve') return timestamp.padStart(12, '0');
  if (kind === 'thirteen') return timestamp.padStart(13, '0');
  return timestamp;
}

/** Outcomes the properties met: each property must meet every outcome it is about, or it proved little. */
const seen = new Set<string>();

function expectSame(actual: VerifyResult, expected: VerifyResult): void {
  expect(actual).toEqual(expected);
  seen.add(expected.ok ? 'ok' : expected.reason);
}

beforeEach(() => seen.clear());

describe('verify answers exactly as the implementation it replaced (property)', () => {
  it('a body-HMAC scheme (APARA hex, Coinme hex or base64), any header, keys and header name', () => {
    const good = mac(KEY, BODY);
    const entry = fc.constantFrom(
      good.toString('hex'),
      good.toString('hex').toUpperCase(),
      good.toString('base64'),
      good.toString('base64url'),
      good.toString('base64').replace(/=$/, ''),
      mac(OTHER_KEY, BODY).toString('hex'),
      mac(KEY, 'other').toString('hex'),
      `${good.toString('hex').slice(0, 63)}g`,
      lowByteLookalike(good.toString('hex')),
      good.toString('hex').slice(0, 62),
      `${good.toString('base64').slice(0, 42)}*=`,
      `${good.toString('base64').slice(0, 42)}==`,
      `${good.toString('base64').slice(0, 42)}=`,
      `${good.toString('base64').slice(0, 43)}A`,
      `${good.toString('base64').slice(0, 43)}==`,
      'sha256=abc',
      'v1',
    );
    fc.assert(
      fc.property(
        header(entry),
        keyLists,
        fc.constantFrom(undefined, 'X-Signature', ' x-signature ', '', 'x-transfi-hmac-hash'),
        fc.boolean(),
        (signature, keys, signatureHeader, missing) => {
          const settings: ProviderSettings = {
            keys,
            ...(signatureHeader === undefined ? {} : { signatureHeader }),
          };
          for (const [verify, defaultHeader, encodings] of [
            [verifyApara, 'x-transfi-hmac-hash', ['hex']],
            [verifyCoinme, 'x-coinme-signature', ['hex', 'base64']],
          ] as const) {
            const name = (signatureHeader?.trim() || defaultHeader).toLowerCase();
            const headers: Headers = missing ? {} : { [name]: signature };
            expectSame(
              verify(BODY, headers, settings, NOW),
              oldBodyVerify(defaultHeader, encodings, BODY, headers, settings),
            );
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect([...seen].sort()).toEqual(
      ['bad_signature', 'malformed_signature', 'missing_signature', 'no_keys_configured', 'ok'].sort(),
    );
  });

  it('OpenPoly: versions, entries, timestamps (malformed, stale) and keys', () => {
    const timestamp = fc.constantFrom(
      NOW.toISOString(),
      ` ${NOW.toISOString()} `,
      new Date(NOW.getTime() - 301_000).toISOString(),
      '2026-11-30T06:00:00Z',
      'yesterday',
      '2026-02-30T00:00:00Z',
      '2026-11-30T07:00:00+01:00',
      '2026-11-30T06:00:00.123456789Z',
      '2026-11-30T06:00:00.1234567891Z',
      '2026-11-30t06:00:00Z',
      '2026-11-30T24:00:00Z',
      '2026-11-30T06:00:00+01',
      '0099-11-30T06:00:00Z',
      '',
      undefined,
    );
    fc.assert(
      fc.property(timestamp, keyLists, fc.boolean(), (sentAt, keys, missing) => {
        const signedText = sentAt?.trim() ?? '';
        const good = mac(KEY, signedText, '.', BODY).toString('hex');
        const entry = fc.constantFrom(
          `v1=${good}`,
          `v1=${good.toUpperCase()}`,
          `v1=${lowByteLookalike(good)}`,
          `v1=${mac(OTHER_KEY, signedText, '.', BODY).toString('hex')}`,
          `v2=${good}`,
          `V1=${good}`,
          `v1=${good.slice(0, 63)}`,
          `v1=${good.slice(0, 63)}z`,
          'v1=',
          `=${good}`,
          'v1',
          `v!=${good}`,
          `v1==${good}`,
          `v0=abc`,
        );
        fc.assert(
          fc.property(header(entry), (signature) => {
            const headers: Headers = {
              ...(missing ? {} : { 'x-polynion-signature': signature }),
              ...(sentAt === undefined ? {} : { 'x-polynion-timestamp': sentAt }),
            };
            const settings = { keys };
            expectSame(
              verifyOpenpoly(BODY, headers, settings, NOW),
              oldOpenpolyVerify(BODY, headers, settings, NOW),
            );
          }),
          { numRuns: 40 },
        );
      }),
      { numRuns: 300 },
    );
    expect([...seen].sort()).toEqual(
      [
        'bad_signature',
        'malformed_signature',
        'malformed_timestamp',
        'missing_signature',
        'missing_timestamp',
        'no_keys_configured',
        'ok',
        'stale_timestamp',
        'unknown_signature_version',
      ].sort(),
    );
  });

  it('Standard Webhooks: v1, v1a and unknown versions, malformed values, every kind of key, the window', () => {
    const { signingKey, verifyKeys } = standardWebhooksSigner.generateKeys();
    const [secret, publicKey] = verifyKeys as [string, string];
    const other = standardWebhooksSigner.generateKeys();
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const keyList = fc.constantFrom<readonly string[]>(
      [secret, publicKey],
      [secret],
      [publicKey],
      [...(other.verifyKeys as string[]), secret],
      other.verifyKeys as string[],
      ['whsk_notforus', ''],
      [],
    );
    const sentAt = fc.constantFrom(NOW, new Date(NOW.getTime() - 301_000), new Date(NOW.getTime() + 301_000));
    fc.assert(
      fc.property(
        sentAt,
        keyList,
        fc.constantFrom(id, '', 'msg id', 'm'.repeat(256), 'm'.repeat(257)),
        (at, keys, messageId) => {
          const signed = signMessage(BODY, signingKey, messageId || id, at);
          const [v1, v1a] = (signed['webhook-signature'] as string).split(' ') as [string, string];
          const wrong = signMessage(BODY, other.signingKey, messageId || id, at)[
            'webhook-signature'
          ] as string;
          const [wrongV1, wrongV1a] = wrong.split(' ') as [string, string];
          const value = (entry: string) => entry.slice(entry.indexOf(',') + 1);
          const entry = fc.constantFrom(
            v1,
            v1a,
            wrongV1,
            wrongV1a,
            `v2,${value(v1)}`,
            `v1b,${value(v1)}`,
            `x1,${value(v1)}`,
            `v1,${value(v1).slice(1)}`,
            `v1,${value(v1).replace(/=$/, '')}`,
            `v1a,${value(v1a).replace(/==$/, '')}`,
            `v1a,${value(v1a).slice(2)}`,
            `v1,${value(v1).slice(0, 42)}==`,
            `v1,${value(v1).slice(0, 43)}A`,
            `v1,${value(v1).slice(0, 42)}=`,
            `v1a,${value(v1a).slice(0, 86)}AA`,
            `v1a,${value(v1a).slice(0, 85)}=`,
            `v1a,${value(v1a).slice(0, 86)}=`,
            `v1a,${value(v1a).slice(0, 84)}==`,
            `v1,${value(v1a)}`,
            `v1a,${value(v1)}`,
            'v1',
            'v1a',
          );
          fc.assert(
            fc.property(
              header(entry),
              fc.constantFrom('present', 'missing', 'text', 'twelve', 'thirteen'),
              (signature, timestampKind) => {
                const timestamp = signed['webhook-timestamp'] as string;
                const headers: Headers = {
                  'webhook-signature': signature,
                  ...(messageId ? { 'webhook-id': messageId } : {}),
                  ...(timestampKind === 'missing'
                    ? {}
                    : { 'webhook-timestamp': timestampText(timestampKind, timestamp) }),
                };
                const settings = { keys };
                expectSame(
                  verifyStandardWebhooks(BODY, headers, settings, NOW),
                  oldStandardWebhooksVerify(BODY, headers, settings, NOW),
                );
              },
            ),
            { numRuns: 50 },
          );
        },
      ),
      { numRuns: 200 },
    );
    expect([...seen].sort()).toEqual(
      [
        'bad_signature',
        'future_timestamp',
        'malformed_id',
        'malformed_signature',
        'malformed_timestamp',
        'missing_id',
        'missing_signature',
        'missing_timestamp',
        'no_key_for_version',
        'no_keys_configured',
        'ok',
        'stale_timestamp',
        'unknown_signature_version',
      ].sort(),
    );
  });
});

describe('Standard Webhooks key cache', () => {
  it('reads a key list changed in place again: a removed secret no longer verifies', () => {
    const { signingKey, verifyKeys } = standardWebhooksSigner.generateKeys();
    const secret = (verifyKeys as string[])[0] as string;
    const headers = signMessage(BODY, signingKey.split(' ')[0] as string, 'msg_1', NOW);
    const keys = [secret];
    expect(verifyStandardWebhooks(BODY, headers, { keys }, NOW)).toEqual({ ok: true });

    keys[0] = standardWebhooksSigner.generateKeys().verifyKeys[0] as string;

    expect(verifyStandardWebhooks(BODY, headers, { keys }, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });
});
