import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { stringify } from 'lossless-json';
import * as v from 'valibot';
import { type NormalizedEvent, NormalizedEventSchema } from '../../shared/contract/eventContract.ts';
import { type IntakeResult, intake } from '../../shared/core/intake.ts';
import { parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import type {
  Headers,
  ProviderModule,
  ProviderSettings,
  SignDelivery,
} from '../../shared/core/providerModule.ts';
import { sample, samplesOf } from './samples.ts';

/** The receipt time of every delivery in the provider tests (and the default signing time). */
export const RECEIVED_AT = new Date('2026-01-01T00:00:00.000Z');

/** A change a test makes to a parsed body. */
export type Edit = (body: Record<string, unknown>) => void;

/** A body signed for delivery: the headers to send with it. */
export type SignBody = (rawBody: Buffer) => Headers;

/** The result of an accepted delivery; any other result fails the test. */
export function accepted(result: IntakeResult): Extract<IntakeResult, { kind: 'event' }> {
  if (result.kind !== 'event') throw new Error(`expected an event, got ${stringifyJson(result)}`);
  return result;
}

/** Why a delivery was not accepted; empty for an accepted one. */
export function reason(result: IntakeResult): string {
  return result.kind === 'event' ? '' : result.reason;
}

/** Why a delivery was quarantined; any other result fails the test. */
export function quarantined(result: IntakeResult): string {
  if (result.kind !== 'quarantine') throw new Error(`expected quarantine, got ${result.kind}`);
  return result.reason;
}

/** A copy of `bytes` with the byte at `index` changed by `delta` (1 to 255: always a different byte). */
export function flipByte(bytes: Buffer, index: number, delta = 1): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = ((copy[index] ?? 0) + delta) % 256;
  return copy;
}

/** A signature header the receiver names instead of the provider's default (APARA, Coinme). */
export interface ChosenHeader {
  /** The name a deployment configures, in mixed case. */
  configuredHeader: string;
  /** Values of the default header that are no signature at all. */
  malformed: readonly string[];
  /** Signs in the provider's default header and encoding. */
  sign: SignDelivery;
  /** Signs under the configured header (default: `sign`). */
  signConfigured?: SignDelivery;
}

/**
 * The sample, intake and signature helpers of one provider's tests. Deliveries are received at
 * `RECEIVED_AT` and signed with `signBody` unless a test gives its own headers.
 */
export function providerTests(provider: ProviderModule, settings: ProviderSettings, signBody: SignBody) {
  const sampleBody = (name: string): Buffer => sample(provider.name, name);
  const sampleJson = <T = Record<string, unknown>>(name: string): T =>
    parseJson(sampleBody(name).toString('utf8')) as T;
  const names = [...samplesOf(provider.name).keys()];
  const deliver = (rawBody: Buffer, headers: Headers = signBody(rawBody)): IntakeResult =>
    intake(provider, rawBody, headers, settings, RECEIVED_AT);
  /** The provider's verify at `RECEIVED_AT`, with the test settings unless others are given. */
  const verifyAt = (rawBody: Buffer, headers: Headers, withSettings: ProviderSettings = settings) =>
    provider.verify(rawBody, headers, withSettings, RECEIVED_AT);

  /**
   * A normalized event meets the contract and equals its reviewed fixture,
   * `shared/providers/<provider>/fixtures/<name>.normalized.json`. With `UPDATE_FIXTURES=1` the fixture is written
   * first (then the comparison proves nothing: review its diff). Refused in CI, where nobody reviews.
   */
  const expectReviewedFixture = (name: string, event: NormalizedEvent): void => {
    expect(() => v.parse(NormalizedEventSchema, event)).not.toThrow();
    const dir = new URL(`../../shared/providers/${provider.name}/fixtures/`, import.meta.url);
    const fixture = new URL(`${name}.normalized.json`, dir);
    if (process.env.UPDATE_FIXTURES === '1') {
      if (process.env.CI) {
        throw new Error(
          'UPDATE_FIXTURES=1 is refused when CI is set: it would write each fixture and compare it with ' +
            'itself. Update fixtures locally, review the diff, and commit them.',
        );
      }
      mkdirSync(dir, { recursive: true });
      writeFileSync(fixture, `${stringify(event, undefined, 2)}\n`);
    }
    expect(stringifyJson(event)).toBe(stringifyJson(parseJson(readFileSync(fixture, 'utf8'))));
  };

  return {
    settings,
    /** The sample names (file names without `.json`), sorted. */
    names,
    /** A sample's bytes, as the provider sent them. */
    sampleBody,
    /** A sample, parsed losslessly, to be changed by a test. */
    sampleJson,
    /** A sample's JSON, changed by `edit`, as the bytes a provider would send. */
    editedBody(name: string, edit: Edit): Buffer {
      const body = sampleJson(name);
      edit(body);
      return Buffer.from(stringifyJson(body));
    },
    /** The whole pure intake of one delivery. */
    deliver,
    /** The whole pure intake of one delivery received at `receivedAt`. */
    deliverAt: (rawBody: Buffer, headers: Headers, receivedAt: Date): IntakeResult =>
      intake(provider, rawBody, headers, settings, receivedAt),
    expectReviewedFixture,

    /**
     * Registers the test of how many samples the provider documents (each one's fixture is checked by
     * the provider suite, `test/providers/providerSuite.test.ts`).
     */
    testSampleCount(countTitle: string, count: number): void {
      test(countTitle, () => {
        expect(names).toHaveLength(count);
      });
    },

    /**
     * Property: any body signed by any of `signers` verifies, and the same headers with any single byte
     * of the body changed fail as `bad_signature`.
     */
    expectSignedBodiesVerify(signers: readonly SignBody[] = [signBody]): void {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 512 }),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          fc.constantFrom(...signers),
          (bytes, position, delta, signer) => {
            const rawBody = Buffer.from(bytes);
            const headers = signer(rawBody);
            expect(verifyAt(rawBody, headers)).toEqual({ ok: true });
            expect(verifyAt(flipByte(rawBody, position % rawBody.length, delta), headers)).toEqual({
              ok: false,
              reason: 'bad_signature',
            });
          },
        ),
      );
    },

    /**
     * During a rotation (the old and the new key configured) a body signed with either verifies, one
     * signed with a third key does not.
     */
    expectRotation(
      rawBody: Buffer,
      [oldKey, newKey, otherKey]: readonly [string, string, string],
      sign: SignDelivery,
      signNew: SignDelivery = sign,
    ): void {
      const rotation = { keys: [oldKey, newKey] };

      expect(verifyAt(rawBody, sign(rawBody, oldKey, RECEIVED_AT), rotation)).toEqual({ ok: true });
      expect(verifyAt(rawBody, signNew(rawBody, newKey, RECEIVED_AT), rotation)).toEqual({ ok: true });
      expect(verifyAt(rawBody, sign(rawBody, otherKey, RECEIVED_AT), rotation)).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    },

    /**
     * Registers the signature tests of a provider whose receiver names the signature header: a missing
     * header, malformed values, no key, and a configured header name.
     */
    testChosenHeader(rawBody: Buffer, key: string, header: ChosenHeader): void {
      const { configuredHeader, malformed, sign, signConfigured = sign } = header;
      const signedHeaders = Object.keys(sign(rawBody, key, RECEIVED_AT));
      const defaultHeader = signedHeaders.find((name) => name !== 'content-type') ?? '';

      test('a missing signature header fails', () => {
        expect(verifyAt(rawBody, { 'content-type': 'application/json' })).toEqual({
          ok: false,
          reason: 'missing_signature',
        });
      });

      test.each(malformed)('signature "%s" is malformed', (signature) => {
        expect(verifyAt(rawBody, { [defaultHeader]: signature })).toEqual({
          ok: false,
          reason: 'malformed_signature',
        });
      });

      test('no configured key never verifies', () => {
        expect(verifyAt(rawBody, sign(rawBody, '', RECEIVED_AT), { keys: [] })).toEqual({
          ok: false,
          reason: 'no_keys_configured',
        });
      });

      test('a configured header name is used instead of the default, whatever its case', () => {
        const chosen = { keys: [key], signatureHeader: configuredHeader };
        const headers = signConfigured(rawBody, key, RECEIVED_AT, chosen);

        expect(Object.keys(headers)).toContain(configuredHeader.toLowerCase());
        expect(verifyAt(rawBody, headers, chosen)).toEqual({ ok: true });
        expect(verifyAt(rawBody, sign(rawBody, key, RECEIVED_AT), chosen)).toEqual({
          ok: false,
          reason: 'missing_signature',
        });
      });
    },
  };
}
