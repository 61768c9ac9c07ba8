import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import * as v from 'valibot';
import { type NormalizedEvent, NormalizedEventSchema } from '../../shared/contract/eventContract.ts';
import { intake } from '../../shared/core/intake.ts';
import { LosslessNumber, parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import { payloadHash } from '../../shared/core/payloadHash.ts';
import type { Headers, ProviderSettings } from '../../shared/core/providerModule.ts';
import { dedupeKey, gnosisPay } from '../../shared/providers/gnosis-pay/index.ts';
import { GNOSIS_PAY_EVENT_TYPES, GnosisPayEventSchema } from '../../shared/providers/gnosis-pay/schemas.ts';
import { sign } from '../../shared/providers/gnosis-pay/sign.ts';
import { publicKeyOf, verify } from '../../shared/providers/gnosis-pay/verify.ts';
import {
  accepted as acceptedResult,
  flipByte,
  providerTests,
  quarantined,
  RECEIVED_AT,
} from '../support/providerFixtures.ts';

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey,
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

const gnosis = keyPair();
const settings: ProviderSettings = { keys: [gnosis.publicPem] };

type Json = Record<string, unknown>;

const gnosisTests = providerTests(gnosisPay, settings, (rawBody) => signed(rawBody).headers);
const { names } = gnosisTests;

const sampleText = (eventType: string) => gnosisTests.sampleBody(eventType).toString('utf8');

/** A sample, parsed losslessly, to be changed by a test. */
const sample = (eventType: string) => gnosisTests.sampleJson<Json & { data: Json }>(eventType);

function signed(body: string | Buffer, at = RECEIVED_AT, privatePem = gnosis.privatePem) {
  const rawBody = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return { rawBody, headers: sign(rawBody, privatePem, at) };
}

/** Signs the body (text, or a value serialized losslessly) and runs the whole pure intake on it. */
function deliver(body: string | unknown, at = RECEIVED_AT) {
  const { rawBody, headers } = signed(typeof body === 'string' ? body : stringifyJson(body), at);
  return gnosisTests.deliver(rawBody, headers);
}

/** The whole intake result of an accepted delivery. */
const accepted = (body: string | unknown, at = RECEIVED_AT) => acceptedResult(deliver(body, at));

const delivered = (body: string | unknown, at = RECEIVED_AT): NormalizedEvent => accepted(body, at).event;

const quarantineReason = (body: unknown): string => quarantined(deliver(body));

describe('gnosis-pay samples', () => {
  it('cover exactly the 29 documented v1 event types, one file each, named by type', () => {
    const types = names.map((name) => sample(name).eventType);

    expect(GNOSIS_PAY_EVENT_TYPES).toHaveLength(29);
    expect(names).toEqual(types);
    expect([...types].sort()).toEqual([...GNOSIS_PAY_EVENT_TYPES].sort());
  });
});

describe('gnosis-pay v2 envelope {id, type, createdAt, data}', () => {
  const v2 = (type: string, data: unknown, id = 'evt_01JH3K') => ({
    id,
    type,
    createdAt: '2025-12-31T23:59:58.000Z',
    data,
  });

  it.each(GNOSIS_PAY_EVENT_TYPES)(
    '%s normalizes like v1, with the event id and time from the envelope',
    (type) => {
      const v1 = delivered(sampleText(type));
      const event = delivered(v2(type, sample(type).data));

      v.parse(NormalizedEventSchema, event);
      expect(event.id).toBe('evt_01JH3K');
      expect(event.time).toBe('2025-12-31T23:59:58.000Z');
      expect(event.type).toBe(v1.type);
      expect(event.subject).toBe(v1.subject);
      expect(event.outcome).toBe(v1.outcome);
      expect(event.amounts).toEqual(v1.amounts);
      expect(stringifyJson((event.data as Json).data)).toBe(stringifyJson((v1.data as Json).data));
    },
  );

  it('keys a v2 event by its id, whatever the delivery timestamp', () => {
    const body = v2('account.balance.changed', sample('account.balance.changed').data);

    expect(accepted(body).dedupeKey).toBe('evt_01JH3K');
    expect(accepted(body, new Date(RECEIVED_AT.getTime() + 60_000)).dedupeKey).toBe('evt_01JH3K');
  });

  it('quarantines an unknown v2 type naming `type`, and a bad v2 field by its path', () => {
    expect(quarantineReason(v2('card.teleported', {}))).toMatch(/^type: .*got string of length 15$/);
    const data = { ...sample('account.balance.changed').data, total: 'lots' };
    expect(quarantineReason(v2('account.balance.changed', data))).toMatch(/^data\.total: /);
  });
});

describe('gnosis-pay amounts and lossless numbers', () => {
  it('keeps a wei balance above 2^53 digit for digit, in data and in amounts', () => {
    const body =
      '{"eventType":"account.balance.changed","data":{"userId":"user_1","total":1234567890123456789,"spendable":1234567890123456788,"pending":1}}';

    const event = delivered(body);

    expect(stringifyJson(event.data)).toBe(body);
    const data = (event.data as { data: { total: LosslessNumber } }).data;
    expect(data.total).toBeInstanceOf(LosslessNumber);
    expect(data.total.value).toBe('1234567890123456789');
    expect(event.amounts).toEqual([
      { role: 'total', value: '1234567890123456789', currency: 'wei' },
      { role: 'spendable', value: '1234567890123456788', currency: 'wei' },
      { role: 'pending', value: '1', currency: 'wei' },
    ]);
  });

  it('writes a wei balance sent in exponent form as its exact integer', () => {
    const body =
      '{"eventType":"account.balance.changed","data":{"userId":"u","total":1e+21,"spendable":0,"pending":0}}';

    expect(delivered(body).amounts[0]).toEqual({
      role: 'total',
      value: '1000000000000000000000',
      currency: 'wei',
    });
  });

  it('reads card amounts as minor units with the currency decimals and maps the ISO 4217 numeric code', () => {
    const event = delivered(sampleText('card.transaction.cleared'));

    expect(event.amounts).toEqual([
      { role: 'billingAmount', value: '50.00', currency: 'USD' },
      { role: 'transactionAmount', value: '50.00', currency: 'USD' },
    ]);
  });

  it('uses the decimals the payload states (a foreign transaction in JPY, billed in EUR)', () => {
    const body = sample('card.transaction.cleared');
    const tx = body.data.event as Json;
    tx.transactionAmount = '5000';
    tx.transactionCurrency = { symbol: '¥', code: '392', decimals: new LosslessNumber('0'), name: 'Yen' };
    tx.billingAmount = '3105';
    tx.billingCurrency = { symbol: '€', code: '978', decimals: new LosslessNumber('2'), name: 'Euro' };

    expect(delivered(body).amounts).toEqual([
      { role: 'billingAmount', value: '31.05', currency: 'EUR' },
      { role: 'transactionAmount', value: '5000', currency: 'JPY' },
    ]);
  });

  it('adds the refund amount of a Refund and the reversal amount of a Reversal', () => {
    const refund = sample('card.transaction.refunded');
    const { status: _status, ...payment } = refund.data.event as Json;
    refund.data.event = {
      ...payment,
      kind: 'Refund',
      refundAmount: '1999',
      refundCurrency: payment.billingCurrency,
    };
    const reversal = sample('card.transaction.reversed');
    reversal.data.event = {
      ...payment,
      kind: 'Reversal',
      reversalAmount: '250',
      reversalCurrency: payment.billingCurrency,
    };

    expect(delivered(refund).amounts).toContainEqual({
      role: 'refundAmount',
      value: '19.99',
      currency: 'USD',
    });
    expect(delivered(reversal).amounts).toContainEqual({
      role: 'reversalAmount',
      value: '2.50',
      currency: 'USD',
    });
  });
});

describe('gnosis-pay normalization', () => {
  const withData = (type: string, change: Json) => {
    const body = sample(type);
    body.data = { ...body.data, ...change };
    return body;
  };
  const withTransaction = (type: string, change: Json) => {
    const body = sample(type);
    body.data.event = { ...(body.data.event as Json), ...change };
    return body;
  };

  it.each([
    ['approved', 'succeeded'],
    ['rejected', 'action_required'],
    ['requiresAction', 'action_required'],
    ['resubmissionRequested', 'pending'],
    ['documentsRequested', 'pending'],
    ['processing', 'pending'],
    ['notStarted', 'info'],
  ])('kyc.status.changed with kycStatus %s is %s', (kycStatus, outcome) => {
    expect(delivered(withData('kyc.status.changed', { kycStatus })).outcome).toBe(outcome);
  });

  it.each([
    ['card.transaction.created', 'Approved', 'pending'],
    ['card.transaction.created', 'InsufficientFunds', 'failed'],
    ['card.transaction.cleared', 'Approved', 'succeeded'],
    ['card.transaction.cleared', 'IncorrectPin', 'failed'],
    ['card.transaction.declined', 'Approved', 'failed'],
    ['card.transaction.failed', 'Approved', 'failed'],
    ['card.transaction.reversed', 'PartialReversal', 'succeeded'],
  ])('%s of a Payment with status %s is %s', (type, status, outcome) => {
    expect(delivered(withTransaction(type, { status })).outcome).toBe(outcome);
  });

  it.each([
    ['EXECUTED', 'succeeded'],
    ['FAILED', 'failed'],
    ['EXECUTING', 'pending'],
  ])('account.withdrawal.completed with status %s is %s', (status, outcome) => {
    expect(delivered(withData('account.withdrawal.completed', { status })).outcome).toBe(outcome);
  });

  it.each([
    ['ASSIGNED', 'succeeded'],
    ['PENDING_OAUTH', 'pending'],
    ['NOTSTARTED', 'info'],
  ])('iban.status.changed to %s is %s', (currentStatus, outcome) => {
    expect(delivered(withData('iban.status.changed', { currentStatus })).outcome).toBe(outcome);
  });

  it('takes the event time from the payload where it has one, else the receipt time', () => {
    expect(delivered(sampleText('card.transaction.created')).time).toBe('2024-01-15T10:30:00.000Z');
    expect(delivered(sampleText('card.transaction.cleared')).time).toBe('2024-01-15T10:35:00.000Z');
    expect(delivered(sampleText('safe.created')).time).toBe('2025-10-15T08:00:24.193Z');
    // The Safe's creation time is not the time of a later currency change.
    expect(delivered(sampleText('safe.currency.updated')).time).toBe(RECEIVED_AT.toISOString());
    expect(delivered(sampleText('card.transaction.confirmed')).time).toBe(RECEIVED_AT.toISOString());
    expect(delivered(withTransaction('card.transaction.created', { createdAt: 'yesterday' })).time).toBe(
      RECEIVED_AT.toISOString(),
    );
  });

  it('groups one Safe under one subject whatever the address case', () => {
    const created = withData('safe.created', { address: '0xAbC0000000000000000000000000000000000001' });
    const owner = withData('safe.owner.added', { safeAddress: '0xabc0000000000000000000000000000000000001' });

    expect(delivered(created).subject).toBe('safe/0xabc0000000000000000000000000000000000001');
    expect(delivered(owner).subject).toBe(delivered(created).subject);
  });

  it('keeps fields the reference does not list, at every level, with every digit', () => {
    const body = sample('card.transaction.cleared');
    body.deliveryAttempt = new LosslessNumber('2');
    body.data.walletId = 'w_1';
    (body.data.event as Json).cashbackWei = new LosslessNumber('98765432109876543210');

    const data = delivered(body).data as Json & { data: Json & { event: Json } };

    expect(data.deliveryAttempt).toEqual(new LosslessNumber('2'));
    expect(data.data.walletId).toBe('w_1');
    expect(stringifyJson(data.data.event.cashbackWei)).toBe('98765432109876543210');
  });
});

describe('gnosis-pay quarantine', () => {
  it('quarantines an unknown event type with a reason naming eventType, never the value sent', () => {
    const reason = quarantineReason({ eventType: 'card.teleported', data: {} });

    expect(reason).toMatch(/^eventType: .*got string of length 15$/);
    expect(reason).not.toContain('card.teleported');
  });

  it('quarantines a body without any envelope naming eventType', () => {
    expect(quarantineReason({ data: {} })).toMatch(/^eventType: .*got nothing/);
  });

  it.each([
    ['account.balance.changed', { total: 'lots' }, 'data.total'],
    ['account.balance.changed', { userId: undefined }, 'data.userId'],
    ['kyc.status.changed', { kycStatus: 'maybe' }, 'data.kycStatus'],
    ['iban.status.changed', { currentStatus: 'assigned' }, 'data.currentStatus'],
  ])('quarantines %s with %o naming %s', (type, change, path) => {
    const body = sample(type);
    body.data = { ...body.data, ...change };

    expect(quarantineReason(body)).toContain(`${path}: `);
  });

  it.each([
    [{ billingAmount: '50.00' }, 'data.event.billingAmount'],
    [
      { billingCurrency: { symbol: '$', code: '840', decimals: '2', name: 'US Dollar' } },
      'data.event.billingCurrency.decimals',
    ],
    [{ kind: 'Refund' }, 'data.event.refundAmount'],
    [{ kind: 'Chargeback' }, 'data.event.kind'],
  ])('quarantines a card transaction with %o naming %s', (change, path) => {
    const body = sample('card.transaction.created');
    body.data.event = { ...(body.data.event as Json), ...change };

    expect(quarantineReason(body)).toContain(`${path}: `);
  });

  it('accepts null and absent values only where the reference shows them', () => {
    const body = sample('card.transaction.created');
    const tx = body.data.event as Json & { merchant: Json; transactions: Json[] };
    tx.impactsCashback = null;
    delete tx.merchant.country;
    tx.transactions = [{ ...tx.transactions[0], hash: null, status: 'Unsubmitted' }];
    expect(deliver(body).kind).toBe('event');

    tx.clearedAt = null;
    expect(quarantineReason(body)).toContain('data.event.clearedAt: ');
  });
});

describe('gnosis-pay signatures', () => {
  const body = Buffer.from(sampleText('account.balance.changed'));
  const check = (rawBody: Buffer, headers: Headers, keys = settings) =>
    verify(rawBody, headers, keys, RECEIVED_AT);

  it('signs with exactly the documented headers', () => {
    const headers = sign(body, gnosis.privatePem, RECEIVED_AT);

    expect(Object.keys(headers).sort()).toEqual([
      'content-type',
      'x-webhook-signature',
      'x-webhook-timestamp',
    ]);
    expect(headers['x-webhook-timestamp']).toBe('1767225600');
    expect(headers['content-type']).toBe('application/json');
    expect(Buffer.from(headers['x-webhook-signature'] ?? '', 'base64')).toHaveLength(64);
  });

  it('accepts a correct signature', () => {
    expect(check(body, signed(body).headers)).toEqual({ ok: true });
  });

  it('rejects one changed byte of the body', () => {
    const { headers } = signed(body);

    expect(check(flipByte(body, 10), headers)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature by another key', () => {
    expect(check(body, signed(body, RECEIVED_AT, keyPair().privatePem).headers)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects a timestamp outside the window either way, and accepts one at its edge', () => {
    const at = (seconds: number) => signed(body, new Date(RECEIVED_AT.getTime() + seconds * 1000)).headers;

    expect(check(body, at(-301))).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(check(body, at(301))).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(check(body, at(-300))).toEqual({ ok: true });
    expect(check(body, at(-1000), { ...settings, toleranceSeconds: 1000 })).toEqual({ ok: true });
  });

  it('tells each missing or malformed header apart', () => {
    const { headers } = signed(body);
    const without = (name: string) => ({ ...headers, [name]: undefined });

    expect(check(body, without('x-webhook-timestamp'))).toEqual({ ok: false, reason: 'missing_timestamp' });
    expect(check(body, without('x-webhook-signature'))).toEqual({ ok: false, reason: 'missing_signature' });
    expect(check(body, { ...headers, 'x-webhook-timestamp': '2026-01-01T00:00:00Z' })).toEqual({
      ok: false,
      reason: 'malformed_timestamp',
    });
    expect(check(body, { ...headers, 'x-webhook-signature': 'not base64!' })).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
    expect(check(body, { ...headers, 'x-webhook-signature': Buffer.alloc(63).toString('base64') })).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
    expect(check(body, headers, { keys: [] })).toEqual({ ok: false, reason: 'no_keys_configured' });
    expect(check(body, headers, { keys: ['not a key', gnosis.privatePem] })).toEqual({
      ok: false,
      reason: 'no_keys_configured',
    });
  });

  it('accepts both the rotated-out and the rotated-in key while two are configured', () => {
    const next = keyPair();
    const rotating = { keys: [gnosis.publicPem, next.publicPem] };

    expect(check(body, signed(body).headers, rotating)).toEqual({ ok: true });
    expect(check(body, signed(body, RECEIVED_AT, next.privatePem).headers, rotating)).toEqual({ ok: true });
    expect(check(body, signed(body, RECEIVED_AT, keyPair().privatePem).headers, rotating)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('reads a public key as PEM, as base64 of the SPKI DER or of the raw 32 bytes, and caches it', () => {
    const der = gnosis.publicKey.export({ format: 'der', type: 'spki' });
    const raw = der.subarray(der.length - 32);
    const { headers } = signed(body);

    for (const key of [
      gnosis.publicPem,
      gnosis.publicPem.replace(/\n/g, '\\n'),
      der.toString('base64'),
      raw.toString('base64'),
    ]) {
      expect(check(body, headers, { keys: [key] })).toEqual({ ok: true });
    }
    const parsed = publicKeyOf(raw.toString('base64')) as KeyObject;
    expect(publicKeyOf(raw.toString('base64'))).toBe(parsed);
    expect(parsed.equals(gnosis.publicKey)).toBe(true);
  });

  it('rejects any single-byte change of the timestamp', () => {
    const wide = { ...settings, toleranceSeconds: 1e10 };
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000_000_000, max: 9_999_999_999 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (seconds, at, delta) => {
          const { headers } = signed(body, new Date(seconds * 1000));
          const timestamp = Buffer.from(headers['x-webhook-timestamp'] ?? '');
          const changed = {
            ...headers,
            'x-webhook-timestamp': flipByte(timestamp, at % timestamp.length, delta).toString('latin1'),
          };

          const result = check(body, changed, wide);
          expect(result.ok).toBe(false);
          if (/^\d+$/.test(changed['x-webhook-timestamp']))
            expect(result).toEqual({ ok: false, reason: 'bad_signature' });
        },
      ),
    );
  });
});

describe('gnosis-pay dedupe', () => {
  const balance = (total: string) =>
    `{"eventType":"account.balance.changed","data":{"userId":"user_123","total":${total},"spendable":${total},"pending":0}}`;
  const later = (seconds: number) => new Date(RECEIVED_AT.getTime() + seconds * 1000);

  it('gives a redelivery of the same signed request the same key', () => {
    const { rawBody, headers } = signed(balance('100'));
    const first = intake(gnosisPay, rawBody, headers, settings, RECEIVED_AT);
    const second = intake(gnosisPay, rawBody, headers, settings, later(60));

    if (first.kind !== 'event' || second.kind !== 'event') throw new Error('expected two events');
    expect(second.dedupeKey).toBe(first.dedupeKey);
    expect(payloadHash(second.event.data)).toBe(payloadHash(first.event.data));
    expect(first.dedupeKey).toMatch(/^account\.balance\.changed:[\w-]{22}:1767225600$/);
  });

  it('keeps a balance going A → B → A as three events', () => {
    const keys = [
      accepted(balance('100'), RECEIVED_AT).dedupeKey,
      accepted(balance('200'), later(1)).dedupeKey,
      accepted(balance('100'), later(2)).dedupeKey,
    ];

    expect(new Set(keys).size).toBe(3);
  });

  it('collapses a retry of a payload that carries its own identity, even when re-signed later', () => {
    const first = accepted(sampleText('card.transaction.cleared'), RECEIVED_AT);
    const retry = accepted(sampleText('card.transaction.cleared'), later(60));

    expect(retry.dedupeKey).toBe(first.dedupeKey);
    expect(payloadHash(retry.event.data)).toBe(payloadHash(first.event.data));
  });

  it('ignores key order and white space of a re-serialized retry', () => {
    const compact =
      '{"data":{"pending":0,"spendable":100,"total":100,"userId":"user_123"},"eventType":"account.balance.changed"}';

    expect(accepted(compact).dedupeKey).toBe(accepted(balance('100')).dedupeKey);
  });

  it('gives different content a different payload hash and key', () => {
    const a = accepted(balance('100'));
    const b = accepted(balance('101'));
    const payment = accepted(sampleText('card.transaction.cleared'));
    const sameThreadLater = sample('card.transaction.cleared');
    (sameThreadLater.data.event as Json).isPending = true;

    expect(payloadHash(a.event.data)).not.toBe(payloadHash(b.event.data));
    expect(a.dedupeKey).not.toBe(b.dedupeKey);
    expect(accepted(sameThreadLater).dedupeKey).not.toBe(payment.dedupeKey);
    expect(accepted(sampleText('card.transaction.created')).dedupeKey).not.toBe(payment.dedupeKey);
  });

  it('refuses to key a timeless payload without the signed timestamp', () => {
    const event = v.parse(GnosisPayEventSchema, parseJson(balance('1')));

    expect(() => dedupeKey(event, {})).toThrow(/x-webhook-timestamp/);
  });
});
