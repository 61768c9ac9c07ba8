import * as v from 'valibot';

/** What validating a payload against its provider's schema says: the typed event, or valibot's issues. */
export type PayloadValidation<T> =
  | { success: true; output: T }
  | { success: false; issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]] };

/**
 * A payload checked against a provider schema, with valibot's exact answer, faster on the common path.
 *
 * valibot builds a copy of every object it validates and a dataset per field, which costs several µs per
 * webhook. The schema is read once into a plain predicate ("the payload fits"); a payload it accepts is
 * its own output (provider schemas only check, they never transform, so valibot's copy has the same
 * fields and values). Anything else, and any schema the predicate cannot express exactly, goes to
 * `v.safeParse`: the output and the issues (their paths feed quarantine reasons) are valibot's own.
 *
 * @example
 * const valid = validatePayload(provider.schema, payload);
 * if (!valid.success) return quarantine(describeIssues(valid.issues));
 */
export function validatePayload<T>(
  schema: v.GenericSchema<unknown, T>,
  payload: unknown,
): PayloadValidation<T> {
  if (predicateOf(schema)?.(payload)) return { success: true, output: payload as T };
  const result = v.safeParse(schema, payload);
  return result.success
    ? { success: true, output: result.output }
    : { success: false, issues: result.issues };
}

/** True only when valibot would accept the value and give it back unchanged; false means "ask valibot". */
type Predicate = (input: unknown) => boolean;

/** Any valibot schema or pipe item, read by its documented fields. */
interface SchemaNode {
  kind: 'schema' | 'validation' | 'transformation' | 'metadata';
  type: string;
  async: boolean;
  pipe?: readonly SchemaNode[];
  entries?: Readonly<Record<string, SchemaNode>>;
  wrapped?: SchemaNode;
  item?: SchemaNode;
  options?: readonly (SchemaNode | unknown)[];
  key?: string;
  literal?: unknown;
  requirement?: unknown;
  default?: unknown;
  fallback?: unknown;
  check?: (input: unknown) => boolean;
  getter?: (input: unknown) => SchemaNode;
  '~run'(
    dataset: { typed?: boolean; value: unknown },
    config: v.Config<v.BaseIssue<unknown>>,
  ): {
    issues?: unknown;
  };
}

/** Raised while reading a schema the predicate cannot express exactly; that schema is left to valibot. */
class NotExpressibleError extends Error {
  override name = 'NotExpressibleError';
}

const predicates = new WeakMap<object, Predicate | null>();

/** The schema's predicate, built on first use; null when valibot alone can answer for it. */
export function predicateOf(schema: object): Predicate | null {
  let predicate = predicates.get(schema);
  if (predicate === undefined) {
    try {
      predicate = compile(schema as SchemaNode);
    } catch (error) {
      if (!(error instanceof NotExpressibleError)) throw error;
      predicate = null;
    }
    predicates.set(schema, predicate);
  }
  return predicate;
}

const accept: Predicate = () => true;
const OPTIONAL_TYPES = new Set(['optional', 'nullish', 'exact_optional']);

/** Each part's predicate, built once: a part shared by many event types (a user snapshot) is read once. */
const parts = new WeakMap<object, Predicate>();

function compile(node: SchemaNode): Predicate {
  let predicate = parts.get(node);
  if (predicate === undefined) {
    predicate = compileNode(node);
    parts.set(node, predicate);
  }
  return predicate;
}

function compileNode(node: SchemaNode): Predicate {
  if (node.async) throw new NotExpressibleError('async schema');
  if (node.pipe) return compilePipe(node.pipe);
  if ('fallback' in node && node.fallback !== undefined) throw new NotExpressibleError('fallback');
  switch (node.type) {
    case 'string':
      return (input) => typeof input === 'string';
    case 'boolean':
      return (input) => typeof input === 'boolean';
    case 'number':
      return (input) => typeof input === 'number' && !Number.isNaN(input);
    case 'unknown':
    case 'any':
      return accept;
    case 'literal': {
      const literal = node.literal;
      return (input) => input === literal || (Number.isNaN(literal) && Number.isNaN(input));
    }
    case 'picklist': {
      const options = node.options as readonly unknown[];
      return (input) => options.includes(input);
    }
    case 'custom': {
      const custom = node as SchemaNode & { check: (input: unknown) => boolean };
      return (input) => Boolean(custom.check(input));
    }
    case 'optional':
    case 'nullable':
    case 'nullish':
    case 'exact_optional':
      return compileWrapper(node);
    case 'array': {
      const item = compile(node.item as SchemaNode);
      return (input) => Array.isArray(input) && input.every((element) => item(element));
    }
    case 'loose_object':
      return compileLooseObject(node.entries as Readonly<Record<string, SchemaNode>>);
    case 'variant':
      return compileVariant(node);
    case 'lazy': {
      const getter = node.getter as (input: unknown) => SchemaNode;
      return (input) => predicateOf(getter(input))?.(input) ?? false;
    }
    default:
      // `object` and `strict_object` drop or refuse keys, transformations change values, and so on.
      throw new NotExpressibleError(node.type);
  }
}

function compilePipe(pipe: readonly SchemaNode[]): Predicate {
  const [root, ...items] = pipe;
  const checks = [compile(root as SchemaNode)];
  for (const item of items) {
    if (item.kind === 'metadata') continue;
    if (item.kind === 'schema') checks.push(compile(item));
    else if (item.kind === 'validation') checks.push(compileAction(item));
    else throw new NotExpressibleError(item.type);
  }
  if (checks.length === 1) return checks[0] as Predicate;
  if (checks.length === 2) {
    const [first, second] = checks as [Predicate, Predicate];
    return (input) => first(input) && second(input);
  }
  return (input) => checks.every((check) => check(input));
}

const VALIBOT_CONFIG = v.getGlobalConfig();

/** A validation action of a pipe; it runs only on a value of the right type (valibot's `typed`). */
function compileAction(action: SchemaNode): Predicate {
  if (action.async) throw new NotExpressibleError('async action');
  const requirement = action.requirement;
  switch (action.type) {
    case 'min_length':
      return (input) => !((input as { length: number }).length < (requirement as number));
    case 'max_length':
      return (input) => !((input as { length: number }).length > (requirement as number));
    case 'regex': {
      const pattern = requirement as RegExp;
      // A global or sticky pattern remembers where it stopped: a second test would not answer alike.
      if (pattern.global || pattern.sticky) throw new NotExpressibleError('stateful regex');
      return (input) => pattern.test(input as string);
    }
    case 'not_value':
      return (input) =>
        !(
          (Number.isNaN(requirement) && Number.isNaN(input)) ||
          ((requirement as number) <= (input as number) && (requirement as number) >= (input as number))
        );
    default:
      // Any other check is asked directly: valibot's own code, one small object per call.
      return (input) => action['~run']({ typed: true, value: input }, VALIBOT_CONFIG).issues === undefined;
  }
}

function compileWrapper(node: SchemaNode): Predicate {
  if (node.default !== undefined) throw new NotExpressibleError('default');
  const wrapped = compile(node.wrapped as SchemaNode);
  switch (node.type) {
    case 'optional':
      return (input) => input === undefined || wrapped(input);
    case 'nullable':
      return (input) => input === null || wrapped(input);
    case 'nullish':
      return (input) => input === null || input === undefined || wrapped(input);
    default:
      return wrapped;
  }
}

/**
 * valibot's loose object: each entry checked where its key is present (`in`), a missing key allowed only
 * for an optional entry, other keys kept as they are. Its output is a new plain object of the same fields,
 * except for keys it never copies (`__proto__`, `constructor`, `prototype`) and for inputs that are not
 * plain objects (an array, a number): those are left to valibot.
 */
function compileLooseObject(entries: Readonly<Record<string, SchemaNode>>): Predicate {
  const fields = Object.keys(entries).map((key) => {
    // An entry named like an inherited property (`toString`) would read the prototype's: left to valibot.
    if (key in Object.prototype) throw new NotExpressibleError(`entry ${key}`);
    const entry = entries[key] as SchemaNode;
    return { key, check: compile(entry), optional: OPTIONAL_TYPES.has(entry.type) };
  });
  return (input) => {
    if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype)
      return false;
    if (
      Object.hasOwn(input, '__proto__') ||
      Object.hasOwn(input, 'constructor') ||
      Object.hasOwn(input, 'prototype')
    )
      return false;
    const record = input as Record<string, unknown>;
    for (const field of fields) {
      const value = record[field.key];
      // Read once: a value that is not undefined is present (no entry is named like an inherited property).
      if (value === undefined && !(field.key in record)) {
        if (!field.optional) return false;
      } else if (!field.check(value)) return false;
    }
    return true;
  };
}

/**
 * valibot's variant: the option whose discriminator matches decides. Options whose discriminator is a
 * literal are found by that value; one option with another discriminator may come last, tried when no
 * literal matched. Any other arrangement (two options sharing a literal, a non-literal option before
 * the last) is left to valibot, whose choice then depends on the order and on which option fails first.
 * When the literal option refuses, the answer is "ask valibot", never a guess at what a later option
 * would have said.
 */
function compileVariant(node: SchemaNode): Predicate {
  const key = node.key as string;
  const byValue = new Map<unknown, Predicate>();
  const others: Predicate[] = [];
  const options = node.options as SchemaNode[];
  for (const [index, option] of options.entries()) {
    const check = compile(option);
    const values = discriminatorValues(option, key);
    // valibot tries options in order: a non-literal option before a literal one could take its value first.
    if (values === undefined && index !== options.length - 1)
      throw new NotExpressibleError('variant with a non-literal option before the last');
    if (values === undefined) others.push(check);
    else
      for (const value of values) {
        if (byValue.has(value)) throw new NotExpressibleError(`variant options sharing ${String(value)}`);
        byValue.set(value, check);
      }
  }
  const other = others[0];
  return (input) => {
    if (typeof input !== 'object' || input === null) return false;
    const candidate = key in input ? byValue.get((input as Record<string, unknown>)[key]) : undefined;
    if (candidate) return candidate(input);
    return other ? other(input) : false;
  };
}

/** The literal values an option requires at `key` (a nested variant: its options' values), if all are literals. */
function discriminatorValues(option: SchemaNode, key: string): unknown[] | undefined {
  if (option.type === 'variant') {
    const values: unknown[] = [];
    for (const inner of option.options as SchemaNode[]) {
      const innerValues = discriminatorValues(inner, key);
      if (innerValues === undefined) return undefined;
      values.push(...innerValues);
    }
    return [...new Set(values)];
  }
  const discriminator = option.entries?.[key];
  const root = discriminator?.pipe?.[0] ?? discriminator;
  return root?.type === 'literal' && !root.pipe ? [root.literal] : undefined;
}
