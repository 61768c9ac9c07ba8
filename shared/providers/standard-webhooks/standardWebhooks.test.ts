/**
 * Standard Webhooks' edge cases; what every provider must do is in test/providers/providerSuite.test.ts.
 * Test vectors: github.com/standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts
 * (shared by the Go, Python, PHP, Ruby, Java and C# libraries) and libraries/rust/src/lib.rs.
 */
import { createPublicKey, generateKeyPairSync, verify as verifyEd25519 } from 'node:crypto';
import { accepted, flipByte, quarantined, reason } from '../../../test/support/providerFixtures.ts';
import { intake } from '../../core/intake.ts';
import { stringifyJson } from '../../core/losslessJson.ts';
import { payloadHash } from '../../core/payloadHash.ts';
import type { Headers, ProviderSettings } from '../../core/providerModule.ts';
import { standardWebhooks, standardWebhooksSource } from './index.ts';
import {
  messageIdOf,
  PRIVATE_KEY_PREFIX,
  privateKeyOf,
  publicKeyText,
  sign,
  signer,
  signMessage,
} from './sign.ts';
import { verify } from './verify.ts';

const at = (seconds: number) => new Date(seconds * 1000);

describe('the specification’s test vectors verify', () => {
  // libraries/javascript/src/webhook.test.ts "sign function works" (and the other libraries' copies).
  const js = {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: 1614265330,
    body: Buffer.from('{"test": 2432232314}'),
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };
  // libraries/rust/src/lib.rs test_sign.
  const rust = {
    secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD',
    id: 'msg_27UH4WbU6Z5A5EzD8u03UvzRbpk',
    timestamp: 1649367553,
    body: Buffer.from('{"email":"test@example.com","username":"test_user"}'),
    signature: 'v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=',
  };
  const headersOf = (v: typeof js, signature = v.signature): Headers => ({
    'webhook-id': v.id,
    'webhook-timestamp': String(v.timestamp),
    'webhook-signature': signature,
  });

  test.each([
    ['javascript (and Go, Python, PHP, Ruby, Java, C#)', js],
    ['rust', rust],
  ])('%s: the published signature verifies, and ours is the same', (_, vector) => {
    expect(verify(vector.body, headersOf(vector), { keys: [vector.secret] }, at(vector.timestamp))).toEqual({
      ok: true,
    });
    expect(
      signMessage(vector.body, vector.secret, vector.id, at(vector.timestamp))['webhook-signature'],
    ).toBe(vector.signature);
  });

  test('"multi sig payload is valid": wrong v1 entries and a v2 entry around the valid one', () => {
    const header = [
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      js.signature,
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
    ].join(' ');

    expect(verify(js.body, headersOf(js, header), { keys: [js.secret] }, at(js.timestamp))).toEqual({
      ok: true,
    });
  });

  test('rust "test_no_verify" and "test_no_verify_with_multiple_signatures" fail as bad_signature', () => {
    const keys = { keys: [rust.secret] };
    const none = [
      'v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ=',
      'v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=',
      'v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=',
    ].join(' ');

    for (const header of ['v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=', none]) {
      expect(verify(rust.body, headersOf(rust, header), keys, at(rust.timestamp))).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    }
  });

  test.each([
    'v1,dawfeoifkpqwoekfpqoekf', // "invalid signature throws error"
    'v1,',
    js.signature.slice(0, 8), // "partial signature throws error"
  ])('"%s" is malformed', (header) => {
    expect(verify(js.body, headersOf(js, header), { keys: [js.secret] }, at(js.timestamp))).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
  });

  test('an unprefixed secret is never used (the libraries accept one; a key here says its kind: whsec_ or whpk_)', () => {
    expect(
      verify(js.body, headersOf(js), { keys: [js.secret.slice('whsec_'.length)] }, at(js.timestamp)),
    ).toEqual({
      ok: false,
      reason: 'no_keys_configured',
    });
  });
});

describe('each failure has its own reason', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const signedAt = at(1_767_225_600);
  const body = Buffer.from('{"type":"invoice.paid","data":{"id":"in_1"}}');
  const headers = signMessage(body, secret, id, signedAt);
  const check = (
    h: Headers,
    raw: Buffer = body,
    settings: ProviderSettings = { keys: [secret] },
    now = signedAt,
  ) => verify(raw, h, settings, now);
  const later = (seconds: number) => new Date(signedAt.getTime() + seconds * 1000);

  test('tampered body, id or timestamp: bad_signature', () => {
    expect(check(headers, flipByte(body, 5))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ ...headers, 'webhook-id': 'msg_other' })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ ...headers, 'webhook-timestamp': String(1_767_225_601) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  test('stale: signed more than 5 minutes ago', () => {
    expect(check(headers, body, { keys: [secret] }, later(301))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(check(headers, body, { keys: [secret] }, later(300))).toEqual({ ok: true });
  });

  test('future: signed more than 5 minutes ahead of our clock', () => {
    expect(check(headers, body, { keys: [secret] }, later(-301))).toEqual({
      ok: false,
      reason: 'future_timestamp',
    });
    expect(check(headers, body, { keys: [secret] }, later(-300))).toEqual({ ok: true });
  });

  test('toleranceSeconds widens the window both ways', () => {
    const wide = { keys: [secret], toleranceSeconds: 600 };

    expect(check(headers, body, wide, later(599))).toEqual({ ok: true });
    expect(check(headers, body, wide, later(-599))).toEqual({ ok: true });
  });

  test('wrong key of the right kind: bad_signature (a MAC cannot tell it from tampering)', () => {
    expect(check(signMessage(body, 'whsec_b3RoZXItc2VjcmV0LW9mLTI0LWJ5dGVz', id, signedAt))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  test('wrong kind of key: only v1a signatures while we hold only a secret, or the reverse', () => {
    const pair = signer.generateKeys();
    const [, privateKey] = pair.signingKey.split(' ');
    const ed25519Only = signMessage(body, privateKey ?? '', id, signedAt);

    expect(check(ed25519Only)).toEqual({ ok: false, reason: 'no_key_for_version' });
    expect(check(headers, body, { keys: [publicKeyText(privateKey ?? '')] })).toEqual({
      ok: false,
      reason: 'no_key_for_version',
    });
  });

  test('unknown version: only entries of versions we do not know', () => {
    const v2 = (headers['webhook-signature'] ?? '').replace('v1,', 'v2,');

    expect(check({ ...headers, 'webhook-signature': v2 })).toEqual({
      ok: false,
      reason: 'unknown_signature_version',
    });
    // Not a `version,value` entry at all: malformed, as for every provider.
    expect(check({ ...headers, 'webhook-signature': 'sha256=abc' })).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
  });

  test('missing and malformed headers, no key', () => {
    const without = (name: string) => ({ ...headers, [name]: undefined });

    expect(check(without('webhook-id'))).toEqual({ ok: false, reason: 'missing_id' });
    expect(check({ ...headers, 'webhook-id': 'msg with spaces' })).toEqual({
      ok: false,
      reason: 'malformed_id',
    });
    expect(check({ ...headers, 'webhook-id': `msg_${'x'.repeat(300)}` })).toEqual({
      ok: false,
      reason: 'malformed_id',
    });
    expect(check(without('webhook-timestamp'))).toEqual({ ok: false, reason: 'missing_timestamp' });
    expect(check({ ...headers, 'webhook-timestamp': 'hello' })).toEqual({
      ok: false,
      reason: 'malformed_timestamp',
    });
    expect(check({ ...headers, 'webhook-timestamp': '2026-01-01T00:00:00Z' })).toEqual({
      ok: false,
      reason: 'malformed_timestamp',
    });
    expect(check(without('webhook-signature'))).toEqual({ ok: false, reason: 'missing_signature' });
    expect(
      check({ ...headers, 'webhook-signature': Array(9).fill(headers['webhook-signature']).join(' ') }),
    ).toEqual({ ok: false, reason: 'malformed_signature' });
    expect(check(headers, body, { keys: [] })).toEqual({ ok: false, reason: 'no_keys_configured' });
    expect(check(headers, body, { keys: ['whsec_', 'not-a-key', 'whpk_abc'] })).toEqual({
      ok: false,
      reason: 'no_keys_configured',
    });
  });
});

describe('v1a (Ed25519) and several signatures', () => {
  // RFC 8032 section 7.1, test 1: the seed and the public key it derives.
  const rfcSeed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
  const rfcPublic = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
  const whsk = `${PRIVATE_KEY_PREFIX}${rfcSeed.toString('base64')}`;
  const whpk = `whpk_${rfcPublic.toString('base64')}`;
  const body = Buffer.from('{"type":"contact.created","data":{"id":"c_1"}}');
  const now = at(1_767_225_600);

  test('a whsk_ key derives the RFC 8032 public key, as whpk_', () => {
    expect(publicKeyText(whsk)).toBe(whpk);
    const der = createPublicKey(privateKeyOf(whsk)).export({ format: 'der', type: 'spki' });
    expect(der.subarray(der.length - 32)).toEqual(rfcPublic);
  });

  test('a v1a signature verifies against the whpk_ key, over {id}.{timestamp}.{body}', () => {
    const headers = signMessage(body, whsk, 'msg_1', now);
    const signature = Buffer.from((headers['webhook-signature'] ?? '').replace(/^v1a,/, ''), 'base64');

    expect(headers['webhook-signature']).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(
      verifyEd25519(
        null,
        Buffer.from(`msg_1.${1_767_225_600}.${body}`),
        createPublicKey(privateKeyOf(whsk)),
        signature,
      ),
    ).toBe(true);
    expect(verify(body, headers, { keys: [whpk] }, now)).toEqual({ ok: true });
    expect(verify(flipByte(body, 3), headers, { keys: [whpk] }, now)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  test('any valid entry passes: a wrong v1 and a right v1a, or the reverse', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const other = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
    const otherWhsk = `${PRIVATE_KEY_PREFIX}${other.subarray(other.length - 32).toString('base64')}`;
    const keys = { keys: [secret, whpk] };

    expect(
      verify(body, signMessage(body, `whsec_b3RoZXItc2VjcmV0LW9mLTI0LWJ5dGVz ${whsk}`, 'm', now), keys, now),
    ).toEqual({
      ok: true,
    });
    expect(verify(body, signMessage(body, `${secret} ${otherWhsk}`, 'm', now), keys, now)).toEqual({
      ok: true,
    });
    expect(
      verify(
        body,
        signMessage(body, `whsec_b3RoZXItc2VjcmV0LW9mLTI0LWJ5dGVz ${otherWhsk}`, 'm', now),
        keys,
        now,
      ),
    ).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  test('a whsk_ private key configured to verify is never used', () => {
    expect(verify(body, signMessage(body, whsk, 'm', now), { keys: [whsk] }, now)).toEqual({
      ok: false,
      reason: 'no_keys_configured',
    });
  });

  test('key rotation: the sender signs with the old and the new secret; we hold either', () => {
    const [oldKey, newKey] = [
      'whsec_b2xkLXNlY3JldC1vZi0yNC1ieXRlcyEh',
      'whsec_bmV3LXNlY3JldC1vZi0yNC1ieXRlcyEh',
    ];
    const both = signMessage(body, `${oldKey} ${newKey}`, 'm', now);

    expect(both['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verify(body, both, { keys: [oldKey] }, now)).toEqual({ ok: true });
    expect(verify(body, both, { keys: [newKey] }, now)).toEqual({ ok: true });
  });
});

describe('Standard Webhooks normalize and dedupe', () => {
  const keys = signer.generateKeys();
  const settings = { keys: keys.verifyKeys };
  const now = new Date('2026-01-01T00:00:00.000Z');
  const deliver = (body: unknown, id?: string, module = standardWebhooks) => {
    const raw = Buffer.from(typeof body === 'string' ? body : stringifyJson(body));
    return intake(module, raw, signMessage(raw, keys.signingKey, id ?? messageIdOf(raw), now), settings, now);
  };

  test('webhook-id is the event id and dedupe key, whatever the body', () => {
    const first = accepted(deliver({ type: 'user.created', data: { id: 'u_1' } }, 'msg_A'));
    const sameIdOtherBody = accepted(deliver({ type: 'user.created', data: { id: 'u_1', x: 1 } }, 'msg_A'));
    const otherId = accepted(deliver({ type: 'user.created', data: { id: 'u_1' } }, 'msg_B'));

    expect(first.event.id).toBe('msg_A');
    expect(sameIdOtherBody.dedupeKey).toBe('msg_A');
    expect(payloadHash(sameIdOtherBody.event.data)).not.toBe(payloadHash(first.event.data));
    expect(otherId.dedupeKey).toBe('msg_B');
  });

  test('subject from data.id and the type, time from timestamp, outcome info', () => {
    const { event } = accepted(
      deliver({ type: 'invoice.payment.failed', timestamp: '2026-01-01T00:00:00.5Z', data: { id: 'in/1' } }),
    );

    expect(event).toMatchObject({
      type: 'standard-webhooks.invoice.payment.failed',
      subject: 'invoice.payment/in%2F1',
      time: '2026-01-01T00:00:00.500Z',
      outcome: 'info',
    });
  });

  test('a squashed payload, or one without a readable timestamp, stands for itself at the receipt time', () => {
    const { event } = accepted(deliver({ type: 'ping', timestamp: 'yesterday', message: 'hi' }, 'msg_P'));

    expect(event).toMatchObject({
      subject: 'event/msg_P',
      time: now.toISOString(),
      type: 'standard-webhooks.ping',
    });
  });

  test('outcomes are configured per event type for a source', () => {
    const billing = standardWebhooksSource('billing', {
      outcomes: { 'invoice.paid': 'succeeded', 'invoice.payment_failed': 'failed' },
    });

    expect(
      accepted(deliver({ type: 'invoice.paid', data: { id: 'in_1' } }, 'm1', billing)).event,
    ).toMatchObject({
      source: 'webhooks/billing',
      type: 'billing.invoice.paid',
      outcome: 'succeeded',
    });
    expect(accepted(deliver({ type: 'invoice.payment_failed' }, 'm2', billing)).event.outcome).toBe('failed');
    expect(accepted(deliver({ type: 'invoice.created' }, 'm3', billing)).event.outcome).toBe('info');
    expect(accepted(deliver({ type: 'toString' }, 'm4', billing)).event.outcome).toBe('info');
  });

  test.each([
    ['no type', { data: {} }, /^type: /],
    ['a type with spaces', { type: 'user created' }, /^type: expected .*, got string of length 12$/],
    ['not an object', [1, 2], /^type: /],
  ])('%s is quarantined, naming the field', (_, body, expected) => {
    expect(quarantined(deliver(body))).toMatch(expected);
  });

  test('a body that is not JSON is quarantined (the spec allows other content types; we take JSON)', () => {
    expect(reason(deliver('hello'))).toMatch(/^invalid JSON/);
  });

  test('sign derives the message id from the body: a resend is a retry, another body another message', () => {
    const a = Buffer.from('{"type":"a"}');

    expect(sign(a, keys.signingKey, now)['webhook-id']).toBe(sign(a, keys.signingKey, now)['webhook-id']);
    expect(sign(a, keys.signingKey, now)['webhook-id']).not.toBe(
      sign(Buffer.from('{"type":"b"}'), keys.signingKey, now)['webhook-id'],
    );
  });
});
