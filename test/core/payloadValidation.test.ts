import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import * as v from 'valibot';
import { describeIssues } from '../../shared/core/intake.ts';
import { LosslessNumber, parseJson, stringifyJson } from '../../shared/core/losslessJson.ts';
import { predicateOf, validatePayload } from '../../shared/core/payloadValidation.ts';
import { loadProviders, PROVIDER_NAMES } from '../../shared/providers/registry.ts';
import { samplesOf } from '../support/samples.ts';

const modules = await loadProviders();

/** Every place in a payload a value sits, as the path of keys to it. */
function pathsOf(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object' || value instanceof LosslessNumber) return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => [
    [...path, key],
    ...pathsOf((value as Record<string | number, unknown>)[key], [...path, key]),
  ]);
}

/** Every value found in a payload, at any depth: other samples' statuses and types make good edits. */
function valuesOf(value: unknown): unknown[] {
  if (value === null || typeof value !== 'object' || value instanceof LosslessNumber) return [value];
  return [value, ...Object.values(value).flatMap(valuesOf)];
}

const OTHER_VALUES: unknown[] = [
  '',
  'x',
  'order',
  '2024-11-27T05:02:00.548Z',
  '2024-11-27T05:02:00+01',
  'EUR',
  '840',
  'e u r',
  new LosslessNumber('0'),
  new LosslessNumber('-12'),
  new LosslessNumber('24.843798'),
  new LosslessNumber('1e3'),
  null,
  true,
  false,
  [],
  {},
  [{}],
];

/** One change to a payload: a value replaced, a key removed or added (prototype-like names included). */
type Edit =
  | { kind: 'none' }
  | { kind: 'set' | 'delete' | 'add'; path: (string | number)[]; value?: unknown; key?: string }
  | { kind: 'alter'; path: (string | number)[]; change: number };

/** Near misses of a value: one character more, empty, upper case, a number's digits as a string and back. */
const CHANGES: ((value: unknown) => unknown)[] = [
  (value) => (typeof value === 'string' ? `${value}x` : value),
  (value) => (typeof value === 'string' ? '' : value),
  (value) => (typeof value === 'string' ? value.toUpperCase() : value),
  (value) => (value instanceof LosslessNumber ? value.value : value),
  (value) => (typeof value === 'string' && /^-?\d+$/.test(value) ? new LosslessNumber(value) : value),
  (value) => (typeof value === 'boolean' ? String(value) : value),
];

/** A copy of the payload with the edits made, in order; an edit whose place is gone is skipped. */
function edited(payload: unknown, edits: readonly Edit[]): unknown {
  const copy = parseJson(stringifyJson(payload));
  for (const edit of edits) {
    if (edit.kind === 'none') continue;
    if (edit.kind === 'alter') {
      const change = CHANGES[edit.change] as (value: unknown) => unknown;
      const parent = edit.path
        .slice(0, -1)
        .reduce<unknown>((at, key) => (at as Record<string, unknown>)?.[key], copy);
      const last = edit.path.at(-1) as string | number;
      if (parent !== null && typeof parent === 'object' && !(parent instanceof LosslessNumber))
        (parent as Record<string | number, unknown>)[last] = change(
          (parent as Record<string | number, unknown>)[last],
        );
      continue;
    }
    const parentPath = edit.kind === 'add' ? edit.path : edit.path.slice(0, -1);
    let parent: unknown = copy;
    for (const key of parentPath) parent = (parent as Record<string | number, unknown> | undefined)?.[key];
    if (parent === null || typeof parent !== 'object' || parent instanceof LosslessNumber) continue;
    const last = edit.path.at(-1) as string | number;
    // A value from the pool is copied too: an edit must never change the samples or the pool.
    const value = edit.value === undefined ? undefined : parseJson(stringifyJson(edit.value));
    if (edit.kind === 'set') (parent as Record<string | number, unknown>)[last] = value;
    else if (edit.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete (parent as Record<string, unknown>)[last as string];
    } else if (!Array.isArray(parent))
      // As `JSON.parse` makes it: an own property, even for `__proto__`.
      Object.defineProperty(parent, edit.key as string, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return copy;
}

/** validatePayload must answer exactly as valibot does: success, output (field for field), issues. */
function expectSameAsValibot(schema: v.GenericSchema, payload: unknown): boolean {
  const expected = v.safeParse(schema, payload);
  const got = validatePayload(schema, payload);
  expect(got.success).toBe(expected.success);
  if (expected.success && got.success) expect(got.output).toStrictEqual(expected.output);
  if (!expected.success && !got.success)
    expect(describeIssues(got.issues)).toBe(describeIssues(expected.issues));
  // The fast predicate never says yes where valibot says no, and says yes wherever valibot gives the
  // payload back as it came (else the fast path would not be taken where it could be).
  const fast = predicateOf(schema)?.(payload) ?? false;
  if (fast) expect(expected.success).toBe(true);
  if (expected.success) expect(fast).toBe(isDeepStrictEqual(expected.output, payload));
  return expected.success;
}

describe('validatePayload', () => {
  it.each(PROVIDER_NAMES)('%s: the schema has a fast predicate, and it accepts every sample', (name) => {
    const schema = modules[name]?.schema as v.GenericSchema;
    const predicate = predicateOf(schema);
    expect(predicate).not.toBeNull();
    for (const [file, body] of samplesOf(name)) {
      const payload = parseJson(body.toString('utf8'));
      expect([file, predicate?.(payload)]).toEqual([file, true]);
      expectSameAsValibot(schema, payload);
    }
  });

  it.each(PROVIDER_NAMES)('%s: answers as valibot does for edited samples (property)', (name) => {
    const schema = modules[name]?.schema as v.GenericSchema;
    const payloads = [...samplesOf(name).values()].map((body) => parseJson(body.toString('utf8')));
    const pool = [...OTHER_VALUES, ...payloads.flatMap(valuesOf)];
    const edit = (payload: unknown): fc.Arbitrary<Edit> => {
      const paths = pathsOf(payload);
      return fc.oneof(
        fc.constant<Edit>({ kind: 'none' }),
        fc.record({
          kind: fc.constant('alter' as const),
          path: fc.constantFrom(...paths),
          change: fc.nat({ max: CHANGES.length - 1 }),
        }),
        fc.record({
          kind: fc.constant('set' as const),
          path: fc.constantFrom(...paths),
          value: fc.constantFrom(...pool),
        }),
        fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...paths) }),
        fc.record({
          kind: fc.constant('add' as const),
          path: fc.constantFrom([], ...paths),
          key: fc.constantFrom('extra', '__proto__', 'constructor', 'prototype', 'toString'),
          value: fc.constantFrom(...pool),
        }),
      );
    };
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc
          .constantFrom(...payloads)
          .chain((payload) =>
            fc.tuple(fc.constant(payload), fc.array(edit(payload), { minLength: 1, maxLength: 3 })),
          ),
        ([payload, edits]) => {
          if (expectSameAsValibot(schema, edited(payload, edits))) accepted += 1;
          else refused += 1;
        },
      ),
      { numRuns: 2000 },
    );
    // Both answers were exercised.
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('answers as valibot does for every kind of schema part it reads, on any JSON-like value (property)', () => {
    const Inner = v.looseObject({ n: v.nullish(v.number()), x: v.exactOptional(v.any()) });
    const Schema = v.variant('kind', [
      v.looseObject({
        kind: v.literal('a'),
        at: v.pipe(v.string(), v.isoTimestamp(), v.maxLength(30)),
        tags: v.array(v.picklist(['x', 'y'])),
        inner: v.nullable(Inner),
      }),
      v.looseObject({
        kind: v.pipe(v.string(), v.notValue('a'), v.regex(/^[a-z]+$/)),
        flag: v.optional(v.boolean()),
        more: v.lazy((input) => (Array.isArray(input) ? v.array(v.number()) : Inner)),
      }),
    ]);
    expect(predicateOf(Schema)).not.toBeNull();
    const random = fc.letrec((tie) => ({
      any: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('a', 'b', 'x', '', '2024-01-01T00:00:00Z', null, true, 1, Number.NaN),
        fc.array(tie('any'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('kind', 'at', 'tags', 'inner', 'n', 'flag', 'more'), tie('any'), {
          maxKeys: 5,
        }),
      ),
    })).any;
    // Near misses of each option: every field may be absent, right, or wrong in one way.
    const inner = fc.record(
      { n: fc.constantFrom(null, undefined, 1, Number.NaN, '1'), x: fc.constantFrom(undefined, 'z', null) },
      { requiredKeys: [] },
    );
    const optionA = fc.record(
      {
        kind: fc.constantFrom('a', 'A'),
        at: fc.constantFrom('2024-01-01T00:00:00Z', '2024-01-01T00:00:00.000000000000000Z', '2024-01-01', 1),
        tags: fc.oneof(fc.array(fc.constantFrom('x', 'y', 'z'), { maxLength: 3 }), fc.constant('x')),
        inner: fc.oneof(fc.constant(null), inner, fc.constant([]), fc.constant(undefined)),
      },
      { requiredKeys: [] },
    );
    const optionB = fc.record(
      {
        kind: fc.constantFrom('a', 'b', 'bb', 'B', ''),
        flag: fc.constantFrom(true, false, 'true', undefined),
        more: fc.oneof(
          inner,
          fc.array(fc.constantFrom(1, 2, 'x', Number.NaN), { maxLength: 3 }),
          fc.constant(null),
        ),
        other: fc.constantFrom(1, 'kept'),
      },
      { requiredKeys: [] },
    );
    const value = fc.oneof(optionA, optionB, random);
    let accepted = 0;
    fc.assert(
      fc.property(value, (input) => {
        if (expectSameAsValibot(Schema, input)) accepted += 1;
      }),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(50);
  });

  it('leaves a variant whose options overlap to valibot (a shared literal, a non-literal option before the last)', () => {
    const shared = v.variant('kind', [
      v.looseObject({ kind: v.literal('a'), name: v.pipe(v.string(), v.minLength(3)) }),
      v.looseObject({ kind: v.literal('a'), name: v.string() }),
    ]);
    const earlyOther = v.variant('kind', [
      v.looseObject({ kind: v.string(), name: v.pipe(v.string(), v.minLength(3)) }),
      v.looseObject({ kind: v.literal('a'), name: v.string() }),
    ]);
    for (const schema of [shared, earlyOther]) {
      expect(predicateOf(schema)).toBeNull();
      for (const input of [
        { kind: 'a', name: 'xy' },
        { kind: 'a', name: 'xyz' },
      ]) {
        const valid = validatePayload(schema, input);
        expect(valid.success).toBe(v.safeParse(schema, input).success);
      }
    }
  });

  it('leaves schemas that change their input to valibot, and still answers with its output', () => {
    const TrimmedSchema = v.looseObject({ name: v.pipe(v.string(), v.trim()) });
    const StrictSchema = v.object({ name: v.string() });
    const DefaultSchema = v.looseObject({ name: v.optional(v.string(), 'none') });
    expect(predicateOf(TrimmedSchema)).toBeNull();
    expect(predicateOf(StrictSchema)).toBeNull();
    expect(predicateOf(DefaultSchema)).toBeNull();
    expect(validatePayload(TrimmedSchema, { name: ' a ' })).toEqual({ success: true, output: { name: 'a' } });
    expect(validatePayload(StrictSchema, { name: 'a', extra: 1 })).toEqual({
      success: true,
      output: { name: 'a' },
    });
    expect(validatePayload(DefaultSchema, {})).toEqual({ success: true, output: { name: 'none' } });
    // Behind a lazy part, chosen per value: valibot answers for the value that reaches the trimming part.
    const LazySchema = v.looseObject({
      name: v.lazy((input) => (typeof input === 'string' ? v.pipe(v.string(), v.trim()) : v.number())),
    });
    expect(predicateOf(LazySchema)?.({ name: ' a ' })).toBe(false);
    expect(validatePayload(LazySchema, { name: ' a ' })).toEqual({ success: true, output: { name: 'a' } });
    expect(predicateOf(LazySchema)?.({ name: 1 })).toBe(true);
  });

  it('gives a plain-object payload back as the output, and valibot the rest', () => {
    const Schema = v.looseObject({ id: v.string() });
    const payload = { id: 'a', extra: [1] };
    expect(validatePayload(Schema, payload)).toEqual({ success: true, output: payload });
    expect((validatePayload(Schema, payload) as { output: unknown }).output).toBe(payload);
    // An array is an object to valibot; its output is a new plain object, so valibot answers.
    const list = Object.assign([], { id: 'a' });
    expect(predicateOf(Schema)?.(list)).toBe(false);
    expect(validatePayload(Schema, list)).toStrictEqual({ success: true, output: { id: 'a' } });
  });
});
