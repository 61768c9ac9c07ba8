import type { Outcome } from '../../shared/contract/eventContract.ts';
import { isLosslessNumber, parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import { payloadHash } from '../../shared/core/payloadHash.ts';
import type { Headers } from '../../shared/core/providerModule.ts';
import { apara } from '../../shared/providers/apara/index.ts';
import { sign } from '../../shared/providers/apara/sign.ts';
import { verify } from '../../shared/providers/apara/verify.ts';
import {
  accepted,
  type Edit,
  flipByte,
  providerTests,
  RECEIVED_AT,
  reason,
} from '../support/providerFixtures.ts';

const KEY = 'apara-test-secret';
/** A person's name, put where it does not belong: a reason must never quote it. */
const PERSONAL = 'Priya Raman-Sharma';
const aparaTests = providerTests(apara, { keys: [KEY] }, (body) => sign(body, KEY, RECEIVED_AT));
const { sampleBody, editedBody, deliver } = aparaTests;

describe('APARA samples', () => {
  aparaTests.testSampleCount('every published sample is here', 6);

  test.each<[string, Outcome]>([
    ['order.initiated', 'pending'],
    ['order.fund_settled', 'pending'],
    ['order.fund_failed', 'failed'],
    ['order.asset_deposited', 'pending'],
    ['order.completed', 'succeeded'],
    ['order.expired', 'failed'],
  ])('%s is %s', (name, outcome) => {
    const { event } = accepted(deliver(sampleBody(name)));

    expect(event).toMatchObject({ type: `apara.${name}`, outcome, subject: 'order/OR-241127050200660' });
  });

  test('manual_review asks an operator', () => {
    const body = editedBody('order.completed', (b) => {
      b.status = 'manual_review';
    });

    expect(accepted(deliver(body)).event).toMatchObject({
      type: 'apara.order.manual_review',
      outcome: 'action_required',
    });
  });

  test('withdrawAmount 24.843798 stays exactly 24.843798 USDC, in amounts and in data', () => {
    const { event } = accepted(deliver(sampleBody('order.completed')));

    expect(event.amounts).toEqual([
      { role: 'depositAmount', value: '25', currency: 'EUR' },
      { role: 'withdrawAmount', value: '24.843798', currency: 'USDC' },
    ]);
    const withdraw = (event.data as { order: { withdrawAmount: unknown } }).order.withdrawAmount;
    expect(isLosslessNumber(withdraw) && withdraw.value).toBe('24.843798');
  });

  test('digits beyond a float survive', () => {
    const body = editedBody('order.completed', (b) => {
      Object.assign(b.order as object, { withdrawAmount: parseJson('24.84379812345678901234') });
    });

    expect(accepted(deliver(body)).event.amounts[1]?.value).toBe('24.84379812345678901234');
  });

  test('the event time is createdAt', () => {
    expect(accepted(deliver(sampleBody('order.asset_deposited'))).event.time).toBe(
      '2024-11-27T05:07:45.185Z',
    );
  });

  test.each([
    ['order.fund_settled', 'order.fund_failed'],
    ['order.completed', 'order.expired'],
  ])('%s and %s share an eventId: same dedupe key, different hash (a conflict, not a duplicate)', (a, b) => {
    const first = accepted(deliver(sampleBody(a)));
    const second = accepted(deliver(sampleBody(b)));

    expect(second.dedupeKey).toBe(first.dedupeKey);
    expect(payloadHash(second.event.data)).not.toBe(payloadHash(first.event.data));
  });

  test('a retry of the same payload has the same key and content hash, however it is formatted', () => {
    const original = accepted(deliver(sampleBody('order.completed')));
    const compact = accepted(deliver(editedBody('order.completed', () => {})));

    expect(compact.dedupeKey).toBe(original.dedupeKey);
    expect(payloadHash(compact.event.data)).toBe(payloadHash(original.event.data));
  });
});

describe('APARA validation', () => {
  test('an event of another entity (user-level) is accepted as info', () => {
    const body = Buffer.from(
      stringifyJson({
        eventId: 'EV-1',
        entityId: 'UX-241112114510486',
        entityType: 'user',
        status: 'kyc_approved',
        user: { userId: 'UX-241112114510486' },
        createdAt: '2024-11-27T05:02:02.006Z',
      }),
    );

    expect(accepted(deliver(body)).event).toMatchObject({
      type: 'apara.user.kyc_approved',
      subject: 'user/UX-241112114510486',
      outcome: 'info',
      amounts: [],
    });
  });

  test('an unknown order status is quarantined, naming the status and the value', () => {
    const body = editedBody('order.completed', (b) => {
      b.status = 'refunded';
    });

    const result = deliver(body);

    expect(result.kind).toBe('quarantine');
    expect(reason(result)).toMatch(
      /^status: expected \("initiated" \| .* \| "manual_review"\), got string of length 8$/,
    );
  });

  test('an unknown order status longer than 64 characters is named by its shape only', () => {
    const result = deliver(
      editedBody('order.completed', (b) => {
        b.status = 'x'.repeat(65);
      }),
    );

    expect(result.kind).toBe('quarantine');
    expect(reason(result)).toMatch(
      /^status: expected \("initiated" \| .* \| "manual_review"\), got string of length 65$/,
    );
  });

  test.each([
    [
      'order.withdrawAmount',
      (b: Record<string, unknown>) => Object.assign(b.order as object, { withdrawAmount: '24.8' }),
    ],
    [
      'order.depositCurrency',
      (b: Record<string, unknown>) => Object.assign(b.order as object, { depositCurrency: 978 }),
    ],
    ['order', (b: Record<string, unknown>) => delete b.order],
    ['createdAt', (b: Record<string, unknown>) => Object.assign(b, { createdAt: 'yesterday' })],
    ['user.firstName', (b: Record<string, unknown>) => Object.assign(b.user as object, { firstName: 7 })],
  ])('a wrong %s is quarantined, naming the field and no personal data', (path, edit) => {
    const result = deliver(editedBody('order.completed', edit));

    expect(result.kind).toBe('quarantine');
    expect(reason(result)).toContain(`${path}: `);
    expect(reason(result)).not.toMatch(/Aryan|Dev/);
  });

  test.each<[string, Edit]>([
    ['order.depositAmount', (b) => Object.assign(b.order as object, { depositAmount: PERSONAL })],
    ['order.withdrawAmount', (b) => Object.assign(b.order as object, { withdrawAmount: PERSONAL })],
    ['order.depositCurrency', (b) => Object.assign(b.order as object, { depositCurrency: PERSONAL })],
    ['order.withdrawCurrency', (b) => Object.assign(b.order as object, { withdrawCurrency: PERSONAL })],
    ['order.createdAt', (b) => Object.assign(b.order as object, { createdAt: PERSONAL })],
    ['user.createdAt', (b) => Object.assign(b.user as object, { createdAt: PERSONAL })],
    ['createdAt', (b) => Object.assign(b, { createdAt: PERSONAL })],
    ['order', (b) => Object.assign(b, { order: PERSONAL })],
  ])(
    'a personal string in %s is quarantined, the reason naming the path and never the value',
    (path, edit) => {
      const body = editedBody('order.completed', edit);
      expect(body.toString('utf8')).toContain(JSON.stringify(PERSONAL));

      const result = deliver(body);

      expect(result.kind).toBe('quarantine');
      expect(reason(result)).toContain(`${path}: `);
      expect(reason(result)).not.toMatch(/Priya|Raman|Sharma/);
    },
  );

  test('fields APARA adds are kept in data', () => {
    const body = editedBody('order.completed', (b) => {
      b.apiVersion = 'v3';
      Object.assign(b.order as object, { networkFee: parseJson('0.000123'), txHash: '0xabc' });
    });

    const data = stringifyJson(accepted(deliver(body)).event.data);

    expect(data).toContain('"apiVersion":"v3"');
    expect(data).toContain('"networkFee":0.000123,"txHash":"0xabc"');
    expect(data).toContain('"partnerContext":{"testfield1":"1234","testfield2":"5678"}');
  });
});

describe('APARA signatures', () => {
  const body = sampleBody('order.completed');
  const check = (headers: Headers, raw = body, settings = aparaTests.settings) =>
    verify(raw, headers, settings, RECEIVED_AT);

  test('sign writes hex HMAC-SHA256 of the raw body in X-Transfi-Hmac-Hash (known answer)', () => {
    const headers = sign(Buffer.from('The quick brown fox jumps over the lazy dog'), 'key', RECEIVED_AT);

    expect(headers).toEqual({
      'content-type': 'application/json',
      'x-transfi-hmac-hash': 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    });
  });

  test('a correctly signed delivery verifies, in either letter case', () => {
    const headers = sign(body, KEY, RECEIVED_AT);

    expect(check(headers)).toEqual({ ok: true });
    expect(check({ 'x-transfi-hmac-hash': headers['x-transfi-hmac-hash']?.toUpperCase() })).toEqual({
      ok: true,
    });
  });

  test('one changed byte of the body fails', () => {
    expect(check(sign(body, KEY, RECEIVED_AT), flipByte(body, 100))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  test('a signature under another key fails', () => {
    expect(check(sign(body, 'someone-else', RECEIVED_AT))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  aparaTests.testChosenHeader(body, KEY, {
    configuredHeader: 'X-Apara-Signature',
    malformed: ['xyz', 'f7bc83f4', 'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8'],
    sign,
  });

  test('during a rotation both the old and the new key verify', () => {
    aparaTests.expectRotation(body, ['old-secret', 'new-secret', 'other-secret'], sign);
  });
});
