import type { Outcome } from '../../shared/contract/eventContract.ts';
import { parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import type { Headers } from '../../shared/core/providerModule.ts';
import { coinme } from '../../shared/providers/coinme/index.ts';
import { sign, signBase64 } from '../../shared/providers/coinme/sign.ts';
import { verify } from '../../shared/providers/coinme/verify.ts';
import { accepted, flipByte, providerTests, RECEIVED_AT, reason } from '../support/providerFixtures.ts';

const KEY = 'coinme-test-secret-of-at-least-32-chars';
const coinmeTests = providerTests(coinme, { keys: [KEY] }, (body) => sign(body, KEY, RECEIVED_AT));
const { sampleBody, editedBody, deliver } = coinmeTests;

function bodyOf(value: unknown): Buffer {
  return Buffer.from(stringifyJson(value));
}

describe('Coinme samples', () => {
  coinmeTests.testSampleCount('every published example is here', 4);

  test.each<[string, string, Outcome, string]>([
    ['order-template-consumed', 'coinme.ORDER_TEMPLATE', 'succeeded', 'order-template/1263543355914194944'],
    ['order-template-expired', 'coinme.ORDER_TEMPLATE', 'failed', 'order-template/1266110955147890688'],
    ['buy-order-completed', 'coinme.CAAS.BUY', 'succeeded', 'transaction/1263543643131744256'],
    ['buy-order-failed', 'coinme.CAAS.BUY', 'failed', 'transaction/1263543643131744256'],
  ])('%s is %s, %s, about %s', (name, type, outcome, subject) => {
    expect(accepted(deliver(sampleBody(name))).event).toMatchObject({ type, outcome, subject });
  });

  test('"Buy Order Failed" fails on its errorData although orderStatus says COMPLETED', () => {
    const { event } = accepted(deliver(sampleBody('buy-order-failed')));

    expect(stringifyJson(event.data)).toContain('"orderStatus":"COMPLETED"');
    expect(event.outcome).toBe('failed');
  });

  test.each([
    ['order-template-consumed', '59'],
    ['order-template-expired', '55.0'],
  ])('%s keeps userInputAmount "%s" USD exactly', (name, value) => {
    expect(accepted(deliver(sampleBody(name))).event.amounts).toEqual([
      { role: 'userInputAmount', value, currency: 'USD' },
    ]);
  });

  test('buy events carry no amount', () => {
    expect(accepted(deliver(sampleBody('buy-order-completed'))).event.amounts).toEqual([]);
  });

  test('dedupe key is the event id; time is `at`', () => {
    const result = accepted(deliver(sampleBody('buy-order-completed')));

    expect(result.dedupeKey).toBe('91ae00c4-4dd3-43fd-a027-98d50c384da3');
    expect(result.event.time).toBe('2025-07-18T17:11:30.000Z');
  });
});

describe('Coinme event time', () => {
  test.each([
    ['a JSON number', '1752858690'],
    ['a numeric string', '"1752858690"'],
    ['an ISO string', '"2025-07-18T17:11:30Z"'],
    ['an ISO string with an offset', '"2025-07-18T19:11:30+02:00"'],
    ['fractional seconds', '1752858690.000'],
  ])('`at` as %s becomes RFC 3339 in UTC', (_, at) => {
    const body = Buffer.from(
      sampleBody('buy-order-completed').toString('utf8').replace('"2025-07-18T17:11:30Z"', at),
    );

    const { event } = accepted(deliver(body));

    expect(event.time).toBe('2025-07-18T17:11:30.000Z');
    expect(stringifyJson(event.data)).toContain(`"at":${at}`);
  });

  test.each([
    ['epoch milliseconds', 1752858690000],
    ['a date without time', '2025-07-18'],
    ['an offset Date cannot read', '2025-07-18T17:11:30+02'],
    ['a boolean', true],
  ])('`at` as %s is quarantined, naming `at`', (_, at) => {
    const result = deliver(
      editedBody('buy-order-completed', (b) => Object.assign(b, { at: parseJson(stringifyJson(at)) })),
    );

    expect(result.kind).toBe('quarantine');
    expect(reason(result)).toMatch(/^at: expected an ISO 8601 timestamp or Unix epoch seconds/);
  });
});

describe('Coinme event types', () => {
  const envelope = (type: string, data: unknown) => ({ id: `evt-${type}`, type, data, at: 1752858690 });

  test.each<[string, unknown, string, Outcome, string]>([
    [
      'PAYMENT_METHOD',
      { paymentMethodId: 'pm-1' },
      'coinme.PAYMENT_METHOD',
      'info',
      'event/evt-PAYMENT_METHOD',
    ],
    ['REFUND', { transactionId: 'tx-9' }, 'coinme.REFUND', 'action_required', 'transaction/tx-9'],
    ['CAAS_BLOCKCHAIN', { transactionId: 'tx-8' }, 'coinme.CAAS_BLOCKCHAIN', 'info', 'transaction/tx-8'],
    [
      'CAAS',
      { type: 'SELL', transactionId: 'tx-7', errorData: { code: 'x' } },
      'coinme.CAAS.SELL',
      'failed',
      'transaction/tx-7',
    ],
    [
      'CAAS',
      { type: 'SELL', transactionId: 'tx-6', metadata: { orderStatus: 'COMPLETED' } },
      'coinme.CAAS.SELL',
      'succeeded',
      'transaction/tx-6',
    ],
    ['CAAS', { type: 'ORDER_TRACKING' }, 'coinme.CAAS.ORDER_TRACKING', 'info', 'event/evt-CAAS'],
    [
      'CAAS',
      { type: 'BUY', transactionId: 'tx-5', metadata: { orderStatus: 'FAILED' }, errorData: null },
      'coinme.CAAS.BUY',
      'failed',
      'transaction/tx-5',
    ],
    [
      'CAAS',
      { type: 'BUY', transactionId: 'tx-4', metadata: { orderStatus: 'ON_HOLD' }, errorData: null },
      'coinme.CAAS.BUY',
      'action_required',
      'transaction/tx-4',
    ],
    [
      'REFUND',
      { transactionId: 'tx-3', errorData: { code: 'y' } },
      'coinme.REFUND',
      'failed',
      'transaction/tx-3',
    ],
  ])('%s %j is %s, %s, about %s', (type, data, contractType, outcome, subject) => {
    expect(accepted(deliver(bodyOf(envelope(type, data)))).event).toMatchObject({
      type: contractType,
      outcome,
      subject,
    });
  });

  test('an unknown envelope type is quarantined, naming the type', () => {
    const result = deliver(bodyOf(envelope('KYC', {})));

    expect(result.kind).toBe('quarantine');
    expect(reason(result)).toMatch(/^type: expected .*"ORDER_TEMPLATE".*, got string of length 3$/);
  });

  test('an unknown CAAS data.type is quarantined, naming data.type', () => {
    const result = deliver(bodyOf(envelope('CAAS', { type: 'SWAP' })));

    expect(result.kind).toBe('quarantine');
    expect(reason(result)).toMatch(/^data\.type: expected .*"BUY".*, got string of length 4$/);
  });

  test.each([
    [
      'data.userInputAmount.amount',
      'order-template-consumed',
      (d: Record<string, unknown>) => Object.assign(d.userInputAmount as object, { amount: parseJson('59') }),
    ],
    [
      'data.userInputAmount.amount',
      'order-template-consumed',
      (d: Record<string, unknown>) => Object.assign(d.userInputAmount as object, { amount: '5,9' }),
    ],
    [
      'data.orderTemplateId',
      'order-template-consumed',
      (d: Record<string, unknown>) => delete d.orderTemplateId,
    ],
    [
      'data.errorData',
      'order-template-consumed',
      (d: Record<string, unknown>) => Object.assign(d, { errorData: 'oops' }),
    ],
    [
      'data.metadata.orderStatus',
      'buy-order-completed',
      (d: Record<string, unknown>) => Object.assign(d.metadata as object, { orderStatus: 1 }),
    ],
    [
      'data.metadata.blockchainData.chain',
      'buy-order-completed',
      (d: Record<string, unknown>) => Object.assign(d.metadata as object, { blockchainData: { chain: 1 } }),
    ],
  ])('a wrong %s is quarantined, naming the field', (path, name, edit) => {
    const result = deliver(editedBody(name, (b) => edit(b.data as Record<string, unknown>)));

    expect(result.kind).toBe('quarantine');
    expect(reason(result)).toContain(`${path}: `);
  });

  test('fields Coinme adds are kept in data', () => {
    const body = editedBody('buy-order-completed', (b) => {
      b.version = 2;
      Object.assign(b.data as object, { cryptoAmount: '0.00051234' });
      Object.assign((b.data as { metadata: object }).metadata, {
        blockchainData: { chain: 'BTC', blockchainTransactionId: 'abc', confirmations: 3 },
      });
    });

    // Small numbers only, so plain JSON.parse reads the result back without loss; key order is not compared.
    const data = JSON.parse(stringifyJson(accepted(deliver(body)).event.data));

    expect(data.version).toBe(2);
    expect(data.data.cryptoAmount).toBe('0.00051234');
    expect(data.data.metadata.blockchainData).toEqual({
      chain: 'BTC',
      blockchainTransactionId: 'abc',
      confirmations: 3,
    });
  });
});

describe('Coinme signatures', () => {
  const body = sampleBody('buy-order-failed');
  const check = (headers: Headers, raw = body, settings = coinmeTests.settings) =>
    verify(raw, headers, settings, RECEIVED_AT);
  const fox = Buffer.from('The quick brown fox jumps over the lazy dog');

  test('hex and base64 signers write HMAC-SHA256 of the raw body in X-Coinme-Signature (known answer)', () => {
    expect(sign(fox, 'key', RECEIVED_AT)).toEqual({
      'content-type': 'application/json',
      'x-coinme-signature': 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    });
    expect(signBase64(fox, 'key', RECEIVED_AT)).toEqual({
      'content-type': 'application/json',
      'x-coinme-signature': '97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=',
    });
  });

  test.each([
    ['hex', 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8'],
    ['upper-case hex', 'F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8'],
    ['base64', '97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg='],
    ['unpadded base64', '97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg'],
    ['base64url', '97yD9DBThCSxMpjmqm-xQ-9NWaFJRhdZl0edvC0aPNg'],
  ])('a %s signature verifies', (_, signature) => {
    expect(check({ 'x-coinme-signature': signature }, fox, { keys: ['key'] })).toEqual({ ok: true });
  });

  test.each([
    ['hex', sign],
    ['base64', signBase64],
  ])('%s: one changed byte of the body fails', (_, signer) => {
    expect(check(signer(body, KEY, RECEIVED_AT), flipByte(body, 60))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  test.each([
    ['hex', sign],
    ['base64', signBase64],
  ])('%s: a signature under another key fails', (_, signer) => {
    expect(check(signer(body, 'another-secret', RECEIVED_AT))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  coinmeTests.testChosenHeader(body, KEY, {
    configuredHeader: 'X-Partner-Hmac',
    malformed: ['not a signature', '97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPN', 'f7bc83f4', '!'.repeat(44)],
    sign,
    signConfigured: signBase64,
  });

  test('during a rotation both the old and the new key verify', () => {
    coinmeTests.expectRotation(
      body,
      ['old-secret-0123456789abcdef0123456789', 'new-secret-0123456789abcdef0123456789', 'other-secret'],
      sign,
      signBase64,
    );
  });

  test('property: any body signed hex or base64 verifies, and any single changed byte fails', () => {
    coinmeTests.expectSignedBodiesVerify([
      (raw) => sign(raw, KEY, RECEIVED_AT),
      (raw) => signBase64(raw, KEY, RECEIVED_AT),
    ]);
  });
});
