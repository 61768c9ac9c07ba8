/**
 * The provider suite: what every registered provider must do, run for each one the registry lists, with
 * its own samples, reviewed fixtures and signer (found in its folder). A provider's edge cases stay in
 * its own `<name>.test.ts`.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import { payloadHash } from '../../shared/core/payloadHash.ts';
import type { ProviderModule } from '../../shared/core/providerModule.ts';
import { PROVIDER_NAMES, providerNamed } from '../../shared/providers/registry.ts';
import { type JsonObject, signerOf } from '../../shared/providers/signers.ts';
import { accepted, flipByte, providerTests, RECEIVED_AT } from '../support/providerFixtures.ts';

const modules: Record<string, ProviderModule> = Object.fromEntries(
  await Promise.all(PROVIDER_NAMES.map(async (name) => [name, await providerNamed(name)] as const)),
);

const later = (seconds: number) => new Date(RECEIVED_AT.getTime() + seconds * 1000);

describe.each(PROVIDER_NAMES)('provider %s', (name) => {
  const module = modules[name] as ProviderModule;
  const signer = signerOf(name);
  const keys = signer.generateKeys();
  const settings = { keys: keys.verifyKeys };
  const signAt = (rawBody: Buffer, at = RECEIVED_AT, key = keys.signingKey) => signer.sign(rawBody, key, at);
  const suite = providerTests(module, settings, (rawBody) => signAt(rawBody));
  const { names, sampleBody, deliver } = suite;
  const verifyAt = (rawBody: Buffer, headers: Record<string, string | undefined>, at = RECEIVED_AT) =>
    module.verify(rawBody, headers, settings, at);
  /** A sample as the provider's signer would send it as another genuine event. */
  const newEvent = (sample: string, id: string): Buffer => {
    const body = parseJson(sampleBody(sample).toString('utf8')) as JsonObject;
    signer.asNewEvent(body, id);
    return Buffer.from(stringifyJson(body));
  };

  describe('samples and fixtures', () => {
    test('its module is registered under its own name', () => {
      expect(module.name).toBe(name);
    });

    test('it has samples, each with a reviewed fixture, and no fixture without a sample', () => {
      const fixtureDir = fileURLToPath(new URL(`../../shared/providers/${name}/fixtures/`, import.meta.url));
      const fixtures = readdirSync(fixtureDir)
        .filter((file) => file.endsWith('.normalized.json'))
        .map((file) => file.replace(/\.normalized\.json$/, ''))
        .sort();

      expect(names.length).toBeGreaterThan(0);
      expect(fixtures).toEqual([...names].sort());
    });

    test.each(names)('%s is accepted and normalizes to its reviewed fixture', (sample) => {
      suite.expectReviewedFixture(sample, accepted(deliver(sampleBody(sample))).event);
    });
  });

  describe('normalize', () => {
    test.each(names)('%s keeps the payload exactly in data, typed and sourced by the route', (sample) => {
      const body = sampleBody(sample);
      const { event, dedupeKey } = accepted(deliver(body));

      expect(stringifyJson(event.data)).toBe(stringifyJson(parseJson(body.toString('utf8'))));
      expect(event).toMatchObject({ provider: name, source: `webhooks/${name}`, id: dedupeKey });
      expect(event.type.startsWith(`${name}.`)).toBe(true);
      expect(event.subject).not.toBe('');
    });
  });

  describe('signatures', () => {
    const body = sampleBody(names[0] ?? '');

    test('a delivery signed with its key verifies', () => {
      expect(verifyAt(body, signAt(body))).toEqual({ ok: true });
    });

    test('no configured key never verifies', () => {
      expect(module.verify(body, signAt(body), { keys: [] }, RECEIVED_AT)).toEqual({
        ok: false,
        reason: 'no_keys_configured',
      });
    });

    test('a delivery without its signature headers is unauthentic', () => {
      expect(deliver(body, { 'content-type': 'application/json' }).kind).toBe('unauthentic');
    });

    test('a delivery signed with another key fails as bad_signature', () => {
      const other = signer.generateKeys();

      expect(verifyAt(body, signAt(body, RECEIVED_AT, other.signingKey))).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    });

    test('during a rotation both the old and the new key verify, a third does not', () => {
      const [previous, next, other] = [signer.generateKeys(), signer.generateKeys(), signer.generateKeys()];
      const rotation = { keys: [...previous.verifyKeys, ...next.verifyKeys] };
      const check = (signingKey: string) =>
        module.verify(body, signAt(body, RECEIVED_AT, signingKey), rotation, RECEIVED_AT);

      expect(check(previous.signingKey)).toEqual({ ok: true });
      expect(check(next.signingKey)).toEqual({ ok: true });
      expect(check(other.signingKey)).toEqual({ ok: false, reason: 'bad_signature' });
    });
  });

  describe('tampering', () => {
    test('property: any signed body verifies, and any single changed byte fails as bad_signature', () => {
      suite.expectSignedBodiesVerify();
    });

    test.each(names)('%s with one byte of its body changed after signing is not accepted', (sample) => {
      const body = sampleBody(sample);
      const headers = signAt(body);

      expect(deliver(flipByte(body, Math.floor(body.length / 2)), headers)).toEqual({
        kind: 'unauthentic',
        reason: 'bad_signature',
      });
    });
  });

  describe('dedupe', () => {
    test.each(names)('%s: a retry of the same delivery later has the same key and content hash', (sample) => {
      const body = sampleBody(sample);
      const headers = signAt(body);
      const first = accepted(deliver(body, headers));
      const retry = accepted(suite.deliverAt(body, headers, later(60)));

      expect(retry.dedupeKey).toBe(first.dedupeKey);
      expect(payloadHash(retry.event.data)).toBe(payloadHash(first.event.data));
    });

    test.each(names)(
      '%s re-serialized (other spacing) has the same content hash (the store calls it a duplicate)',
      (sample) => {
        const compact = Buffer.from(stringifyJson(parseJson(sampleBody(sample).toString('utf8'))));

        const original = accepted(deliver(sampleBody(sample)));
        const reserialized = accepted(deliver(compact));
        expect(payloadHash(reserialized.event.data)).toBe(payloadHash(original.event.data));
      },
    );

    test.each(names)('%s as another event (the signer’s new id) gets another key', (sample) => {
      const original = accepted(deliver(sampleBody(sample)));
      const other = accepted(deliver(newEvent(sample, 'suite-other-1')));

      expect(other.dedupeKey).not.toBe(original.dedupeKey);
      expect(accepted(deliver(newEvent(sample, 'suite-other-2'))).dedupeKey).not.toBe(other.dedupeKey);
    });
  });
});
