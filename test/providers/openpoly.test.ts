import { createHmac } from 'node:crypto';
import type { Outcome } from '../../shared/contract/eventContract.ts';
import { parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import type { Headers } from '../../shared/core/providerModule.ts';
import { openpoly } from '../../shared/providers/openpoly/index.ts';
import { sign } from '../../shared/providers/openpoly/sign.ts';
import { verify } from '../../shared/providers/openpoly/verify.ts';
import { accepted, flipByte, providerTests, RECEIVED_AT, reason } from '../support/providerFixtures.ts';

const KEY = 'whsec_test_current';
/** A person's name, put where it does not belong: a reason must never quote it. */
const PERSONAL = 'Priya Raman-Sharma';
const openpolyTests = providerTests(openpoly, { keys: [KEY] }, (body) => sign(body, KEY, RECEIVED_AT));
const { sampleBody, editedBody, deliver } = openpolyTests;

describe('OpenPoly samples', () => {
  openpolyTests.testSampleCount('every event type has a sample', 10);

  test.each<[string, Outcome, string]>([
    ['mini_app.login.succeeded', 'info', 'user/operator-user-123'],
    ['mini_app.trade.submitted', 'pending', 'order/3'],
    ['mini_app.trade.processed', 'succeeded', 'order/1'],
    ['mini_app.trade.failed', 'failed', 'order/1'],
    ['mini_app.trade.compensation_required', 'action_required', 'order/1'],
    ['mini_app.redemption.processed', 'succeeded', 'order/4'],
    ['mini_app.redemption.failed', 'failed', 'order/5'],
    ['mini_app.payout.pending', 'action_required', 'order/2'],
    ['mini_app.logout.requested', 'info', 'user/operator-user-123'],
    ['mini_app.session.expired', 'info', 'user/operator-user-123'],
  ])('%s is %s about %s', (name, outcome, subject) => {
    const { event, dedupeKey } = accepted(deliver(sampleBody(name)));

    expect(event).toMatchObject({ type: `openpoly.${name}`, outcome, subject, id: dedupeKey });
    expect(dedupeKey).toBe(`evt_sample_${name.slice('mini_app.'.length).replaceAll('.', '_')}`);
  });

  test('external_amount_minor 10000 IDR is 100.00 IDR; credits_delta is not an amount', () => {
    const { event } = accepted(deliver(sampleBody('mini_app.trade.processed')));

    expect(event.amounts).toEqual([{ role: 'external_amount', value: '100.00', currency: 'IDR' }]);
    expect(stringifyJson((event.data as { data: unknown }).data)).toContain('"credits_delta":-100');
  });

  test('a pending payout carries its amount', () => {
    const { event } = accepted(deliver(sampleBody('mini_app.payout.pending')));

    expect(event.amounts).toEqual([{ role: 'external_amount', value: '150.00', currency: 'IDR' }]);
  });

  test('an event with neither order nor user stands for itself', () => {
    const body = editedBody('mini_app.session.expired', (b) => {
      b.data = {};
    });

    expect(accepted(deliver(body)).event.subject).toBe('event/evt_sample_session_expired');
  });

  test('the time is the receipt time (OpenPoly sends no event time)', () => {
    expect(accepted(deliver(sampleBody('mini_app.trade.failed'))).event.time).toBe(RECEIVED_AT.toISOString());
  });
});

describe('OpenPoly validation', () => {
  test('a body event_id that differs from the header is rejected, naming ids only', () => {
    const body = sampleBody('mini_app.trade.processed');
    const headers = { ...sign(body, KEY, RECEIVED_AT), 'x-polynion-event-id': 'evt_other' };

    const result = deliver(body, headers);

    expect(result.kind).toBe('rejected');
    expect(reason(result)).toMatch(/^EVENT_ID_MISMATCH: /);
    expect(reason(result)).toContain('"evt_sample_trade_processed"');
    expect(reason(result)).toContain('"evt_other"');
    expect(reason(result)).not.toContain('operator-user-123');
  });

  test('a delivery without the event id header is rejected', () => {
    const body = sampleBody('mini_app.trade.processed');
    const { 'x-polynion-event-id': _, ...headers } = sign(body, KEY, RECEIVED_AT);

    expect(reason(deliver(body, headers))).toMatch(/^EVENT_ID_MISMATCH: x-polynion-event-id header missing/);
  });

  test('an unknown event type is quarantined, naming the field and the shape, never the value', () => {
    const body = editedBody('mini_app.login.succeeded', (b) => {
      b.event_type = 'mini_app.wallet.frozen';
    });

    const result = deliver(body);

    expect(result.kind).toBe('quarantine');
    expect(reason(result)).toContain('event_type');
    expect(reason(result)).toMatch(/got string of length 22$/);
    expect(reason(result)).not.toContain('mini_app.wallet.frozen');
  });

  test.each([
    [
      'data.external_amount_minor',
      (d: Record<string, unknown>) => Object.assign(d, { external_amount_minor: '10000' }),
    ],
    [
      'data.external_amount_minor',
      (d: Record<string, unknown>) => Object.assign(d, { external_amount_minor: parseJson('100.5') }),
    ],
    ['data.currency_code', (d: Record<string, unknown>) => Object.assign(d, { currency_code: 'CREDITS' })],
    ['data.trade_id', (d: Record<string, unknown>) => Object.assign(d, { trade_id: 'ten' })],
    ['data.order_id', (d: Record<string, unknown>) => delete d.order_id],
  ])('a wrong %s is quarantined, naming the field', (path, edit) => {
    const body = editedBody('mini_app.trade.processed', (b) => edit(b.data as Record<string, unknown>));

    const result = deliver(body);

    expect(result.kind).toBe('quarantine');
    expect(reason(result)).toContain(path);
    expect(reason(result)).not.toContain('operator-user-123');
  });

  test.each([
    'data.order_id',
    'data.trade_id',
    'data.operator_user_id',
    'data.market_id',
    'data.external_amount_minor',
    'data.currency_code',
  ])('a personal string in %s is quarantined, the reason naming the path and never the value', (path) => {
    const field = path.slice('data.'.length);
    const body = editedBody('mini_app.trade.processed', (b) =>
      Object.assign(b.data as object, { [field]: PERSONAL }),
    );
    expect(body.toString('utf8')).toContain(`"${field}":${JSON.stringify(PERSONAL)}`);

    const result = deliver(body);

    expect(result.kind).toBe('quarantine');
    expect(reason(result)).toContain(`${path}: `);
    expect(reason(result)).not.toMatch(/Priya|Raman|Sharma/);
  });

  test('fields OpenPoly adds are kept in data, digits exact', () => {
    const body = editedBody('mini_app.trade.processed', (b) => {
      b.api_version = '2026-06-01';
      Object.assign(b.data as object, { fee_minor: parseJson('12345678901234567890'), venue: { id: 7 } });
    });

    const { event } = accepted(deliver(body));

    const data = stringifyJson(event.data);
    expect(data).toContain('"api_version":"2026-06-01"');
    expect(data).toContain('"fee_minor":12345678901234567890');
    expect(data).toContain('"venue":{"id":7}');
  });

  test('an undocumented event type keeps whatever data it has', () => {
    const body = editedBody('mini_app.redemption.processed', (b) => {
      Object.assign(b.data as object, { redemption_item_id: 8, note: 'x' });
    });

    expect(stringifyJson(accepted(deliver(body)).event.data)).toContain('"redemption_item_id":8,"note":"x"');
  });
});

describe('OpenPoly signatures', () => {
  const body = sampleBody('mini_app.trade.processed');
  const at = (seconds: number) => new Date(RECEIVED_AT.getTime() + seconds * 1000);
  const check = (headers: Headers, raw = body, settings = openpolyTests.settings, now = RECEIVED_AT) =>
    verify(raw, headers, settings, now);

  test('sign writes the documented headers: v1= hex HMAC-SHA256 of "{timestamp}.{body}"', () => {
    const timestamp = '2026-01-01T00:00:00.000Z';
    const expected = createHmac('sha256', KEY).update(`${timestamp}.`).update(body).digest('hex');

    expect(sign(body, KEY, RECEIVED_AT)).toEqual({
      'content-type': 'application/json',
      'x-polynion-event-id': 'evt_sample_trade_processed',
      'x-polynion-timestamp': timestamp,
      'x-polynion-signature': `v1=${expected}`,
    });
  });

  test('a correctly signed delivery verifies', () => {
    expect(check(sign(body, KEY, RECEIVED_AT))).toEqual({ ok: true });
  });

  test('one changed byte of the body fails', () => {
    expect(check(sign(body, KEY, RECEIVED_AT), flipByte(body, 40))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  test('a signature under another key fails', () => {
    expect(check(sign(body, 'whsec_someone_else', RECEIVED_AT))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  test('a timestamp changed after signing fails', () => {
    const headers = { ...sign(body, KEY, RECEIVED_AT), 'x-polynion-timestamp': at(1).toISOString() };

    expect(check(headers)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  test.each([
    [-301, false],
    [-299, true],
    [299, true],
    [301, false],
  ])('a timestamp %i s from now verifies: %s', (offset, ok) => {
    expect(check(sign(body, KEY, at(offset))).ok).toBe(ok);
    if (!ok) expect(check(sign(body, KEY, at(offset)))).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  test('toleranceSeconds widens the window', () => {
    expect(check(sign(body, KEY, at(-500)), body, { keys: [KEY], toleranceSeconds: 600 })).toEqual({
      ok: true,
    });
  });

  test('a missing timestamp fails', () => {
    const { 'x-polynion-timestamp': _, ...headers } = sign(body, KEY, RECEIVED_AT);

    expect(check(headers)).toEqual({ ok: false, reason: 'missing_timestamp' });
  });

  test('a Unix-seconds timestamp is malformed (OpenPoly sends ISO-8601)', () => {
    const headers = { ...sign(body, KEY, RECEIVED_AT), 'x-polynion-timestamp': '1767225600' };

    expect(check(headers)).toEqual({ ok: false, reason: 'malformed_timestamp' });
  });

  test('a missing signature header fails', () => {
    const { 'x-polynion-signature': _, ...headers } = sign(body, KEY, RECEIVED_AT);

    expect(check(headers)).toEqual({ ok: false, reason: 'missing_signature' });
  });

  test('an unknown signature version fails', () => {
    const headers = sign(body, KEY, RECEIVED_AT);
    const v2 = { ...headers, 'x-polynion-signature': headers['x-polynion-signature']?.replace('v1=', 'v2=') };

    expect(check(v2)).toEqual({ ok: false, reason: 'unknown_signature_version' });
  });

  test.each(['v1=xyz', 'v1=', 'deadbeef', `v1=${'a'.repeat(63)}`])(
    'signature "%s" is malformed',
    (signature) => {
      const headers = { ...sign(body, KEY, RECEIVED_AT), 'x-polynion-signature': signature };

      expect(check(headers)).toEqual({ ok: false, reason: 'malformed_signature' });
    },
  );

  test('no configured key (or only an empty one) never verifies', () => {
    const headers = sign(body, '', RECEIVED_AT);

    expect(check(headers, body, { keys: [] })).toEqual({ ok: false, reason: 'no_keys_configured' });
    expect(check(headers, body, { keys: [''] })).toEqual({ ok: false, reason: 'no_keys_configured' });
  });

  test('during a rotation both the old and the new key verify', () => {
    openpolyTests.expectRotation(body, ['whsec_old', 'whsec_new', 'whsec_other'], sign);
  });

  test('a header with several entries verifies when any v1 entry matches; other versions are skipped', () => {
    const headers = sign(body, KEY, RECEIVED_AT);
    const good = headers['x-polynion-signature'] ?? '';
    const wrong = sign(body, 'whsec_old', RECEIVED_AT)['x-polynion-signature'] ?? '';

    expect(check({ ...headers, 'x-polynion-signature': `${wrong}, ${good}` })).toEqual({ ok: true });
    expect(check({ ...headers, 'x-polynion-signature': `v2=abc ${good}` })).toEqual({ ok: true });
    expect(check({ ...headers, 'x-polynion-signature': `${wrong},v2=abc` })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });
});
