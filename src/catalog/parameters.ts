import { z } from 'zod';
import { compileLinearPattern, MAX_PATTERN_LENGTH, type PatternResult } from './pattern.js';

/**
 * An app's parameters: a subset of JSON Schema that the portal renders as a form and the CLI fills
 * from `--param key=value`. Only flat objects of scalars: each property has a `type` (string,
 * integer, number, boolean) and the keywords that make sense for it; anything else is rejected.
 */

/** A parameter name: usable as a `{{placeholder}}` and as `--param name=value`. */
export const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** The longest string value a parameter may take (an argv element may hold several). */
export const MAX_STRING_VALUE = 4096;

const title = z.string().min(1).max(128).optional().describe('a short label for the form field');
const description = z.string().max(2000).optional().describe('what the parameter does, shown as help');
const bound = z.number().refine(Number.isFinite, 'must be a finite number');

const StringParameter = z.strictObject({
  type: z.literal('string'),
  title,
  description,
  default: z.string().max(MAX_STRING_VALUE).optional(),
  enum: z.array(z.string().max(MAX_STRING_VALUE)).min(1).max(256).optional(),
  minLength: z.int().min(0).max(MAX_STRING_VALUE).optional(),
  maxLength: z.int().min(0).max(MAX_STRING_VALUE).optional(),
  pattern: z
    .string()
    .min(1)
    .max(MAX_PATTERN_LENGTH)
    .optional()
    .describe('a regular expression, unanchored as in JSON Schema, in the linear-time subset of ECMAScript (Unicode mode) of src/catalog/pattern.ts: literals, ., classes, \\d \\w \\s, ^ $, groups, |, * + ? {n,m} (counts up to 100); no backreferences, lookaround or \\b'),
});
const IntegerParameter = z.strictObject({
  type: z.literal('integer'),
  title,
  description,
  default: z.int().optional(),
  enum: z.array(z.int()).min(1).max(256).optional(),
  minimum: bound.optional(),
  maximum: bound.optional(),
});
const NumberParameter = z.strictObject({
  type: z.literal('number'),
  title,
  description,
  default: bound.optional(),
  enum: z.array(bound).min(1).max(256).optional(),
  minimum: bound.optional(),
  maximum: bound.optional(),
});
const BooleanParameter = z.strictObject({
  type: z.literal('boolean'),
  title,
  description,
  default: z.boolean().optional(),
});

export const ParameterSpecSchema = z.discriminatedUnion('type', [StringParameter, IntegerParameter, NumberParameter, BooleanParameter]);
export type ParameterSpec = z.output<typeof ParameterSpecSchema>;
export type ParameterType = ParameterSpec['type'];

export const ParametersSchema = z
  .strictObject({
    type: z.literal('object').default('object'),
    properties: z
      .record(z.string().regex(PARAMETER_NAME, 'a parameter name is a letter or _, then letters, digits or _ (at most 64)'), ParameterSpecSchema)
      .refine((p) => Object.keys(p).length <= 100, 'at most 100 parameters')
      .default({}),
    required: z.array(z.string()).max(100).default([]),
  })
  .describe('JSON Schema (subset) of the launch parameters; the portal renders it as a form');
export type ParametersSpec = z.output<typeof ParametersSchema>;

export type ParameterValue = string | number | boolean;
export type ParameterValues = Readonly<Record<string, ParameterValue>>;

/** The rule a value broke. `unknown`: no such parameter; `required`: missing with no default. */
export type ParameterRule =
  | 'unknown'
  | 'required'
  | 'type'
  | 'enum'
  | 'minimum'
  | 'maximum'
  | 'minLength'
  | 'maxLength'
  | 'pattern';

export interface ParameterError {
  readonly parameter: string;
  /** The value as given (null when missing). */
  readonly value: ParameterValue | null;
  readonly rule: ParameterRule;
  /** Names the parameter, the value and the rule: `steps: 0 is below the minimum 1`. */
  readonly message: string;
  readonly hint?: string;
}

export type ParametersResult =
  | { readonly ok: true; readonly values: ParameterValues }
  | { readonly ok: false; readonly errors: readonly ParameterError[] };

/**
 * Checks `given` against the schema: coerces strings (as the CLI sends them) to the declared type,
 * applies defaults, rejects unknown names. Returns every error, in the schema's parameter order
 * (unknown names last), never throws.
 */
export function validateParameters(schema: ParametersSpec, given: Readonly<Record<string, ParameterValue>>): ParametersResult {
  const errors: ParameterError[] = [];
  const values: Record<string, ParameterValue> = {};
  const names = Object.keys(schema.properties);
  for (const name of names) {
    const spec = schema.properties[name]!;
    const raw = Object.hasOwn(given, name) ? given[name] : undefined;
    if (raw === undefined) {
      if (spec.default !== undefined) values[name] = spec.default;
      else if (schema.required.includes(name)) {
        errors.push({
          parameter: name,
          value: null,
          rule: 'required',
          message: `${name}: required (${describeSpec(spec)})`,
          hint: `give it with --param ${name}=${exampleOf(spec)}`,
        });
      }
      continue;
    }
    const checked = checkValue(name, spec, raw);
    if (checked.ok) values[name] = checked.value;
    else errors.push(checked.error);
  }
  for (const name of Object.keys(given)) {
    if (Object.hasOwn(schema.properties, name)) continue;
    const near = closest(name, names);
    errors.push({
      parameter: name,
      value: given[name] ?? null,
      rule: 'unknown',
      message: `${name}: no such parameter`,
      hint: names.length === 0 ? 'this app takes no parameters' : `${near ? `did you mean ${near}? ` : ''}parameters: ${names.join(', ')}`,
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}

/**
 * Coerces one value (a string from the CLI, or a JSON scalar from the API) to the spec's type and
 * checks every keyword. Also used to check a manifest's own defaults and enum entries.
 */
export function checkValue(
  name: string,
  spec: ParameterSpec,
  raw: ParameterValue,
): { readonly ok: true; readonly value: ParameterValue } | { readonly ok: false; readonly error: ParameterError } {
  // A value that failed coercion is shown as given ("1.5"); one that failed a rule, as coerced (0).
  let shown: ParameterValue = raw;
  const fail = (rule: ParameterRule, what: string, hint?: string) =>
    ({ ok: false, error: { parameter: name, value: raw, rule, message: `${name}: ${show(shown)} ${what}`, ...(hint ? { hint } : {}) } }) as const;
  const value = coerce(spec.type, raw);
  if (value === undefined) return fail('type', `is not ${article(spec.type)}`, `expected ${describeSpec(spec)}`);
  shown = value;
  if (typeof value === 'string') {
    if (value.includes('\0')) return fail('type', 'contains a NUL character', 'remove it: program arguments cannot hold NUL');
    const length = [...value].length;
    if (length > MAX_STRING_VALUE) return fail('maxLength', `is longer than ${MAX_STRING_VALUE} characters`);
  }
  if (spec.type === 'boolean') return { ok: true, value };
  if (spec.enum !== undefined && !(spec.enum as readonly ParameterValue[]).includes(value)) {
    return fail('enum', `is not one of ${spec.enum.map(show).join(', ')}`);
  }
  if (spec.type === 'string') {
    const s = value as string;
    const length = [...s].length;
    if (spec.minLength !== undefined && length < spec.minLength) return fail('minLength', `is shorter than ${spec.minLength} character${spec.minLength === 1 ? '' : 's'}`);
    if (spec.maxLength !== undefined && length > spec.maxLength) return fail('maxLength', `is longer than ${spec.maxLength} character${spec.maxLength === 1 ? '' : 's'}`);
    if (spec.pattern !== undefined) {
      const compiled = compilePattern(spec.pattern);
      if (compiled.ok && !compiled.pattern.test(s)) return fail('pattern', `does not match the pattern ${spec.pattern}`);
    }
    return { ok: true, value: s };
  }
  const n = value as number;
  if (spec.minimum !== undefined && n < spec.minimum) return fail('minimum', `is below the minimum ${spec.minimum}`);
  if (spec.maximum !== undefined && n > spec.maximum) return fail('maximum', `is above the maximum ${spec.maximum}`);
  return { ok: true, value: n };
}

/**
 * The pattern compiled for linear-time matching (never a backtracking RegExp: a provider's pattern
 * must not be able to stall the control plane), or why it is refused and where.
 */
export function compilePattern(pattern: string): PatternResult {
  return compileLinearPattern(pattern);
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE_TEXT = new Set(['true', 'yes', 'on', '1']);
const FALSE_TEXT = new Set(['false', 'no', 'off', '0']);

function coerce(type: ParameterType, raw: ParameterValue): ParameterValue | undefined {
  switch (type) {
    case 'string':
      return typeof raw === 'string' ? raw : undefined;
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && INTEGER_TEXT.test(raw.trim()) ? Number(raw.trim()) : undefined;
      return n !== undefined && Number.isSafeInteger(n) ? (Object.is(n, -0) ? 0 : n) : undefined;
    }
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && NUMBER_TEXT.test(raw.trim()) ? Number(raw.trim()) : undefined;
      return n !== undefined && Number.isFinite(n) ? (Object.is(n, -0) ? 0 : n) : undefined;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw !== 'string') return undefined;
      const t = raw.trim().toLowerCase();
      return TRUE_TEXT.has(t) ? true : FALSE_TEXT.has(t) ? false : undefined;
    }
  }
}

/** `an integer from 1 to 100000`, `one of "sor", "jacobi"`: the accepted values in words. */
export function describeSpec(spec: ParameterSpec): string {
  if (spec.type === 'boolean') return 'true or false';
  if (spec.enum !== undefined) return `one of ${spec.enum.map(show).join(', ')}`;
  if (spec.type === 'string') {
    const parts = ['a string'];
    if (spec.minLength !== undefined && spec.maxLength !== undefined) parts.push(`of ${spec.minLength} to ${spec.maxLength} characters`);
    else if (spec.minLength !== undefined) parts.push(`of at least ${spec.minLength} characters`);
    else if (spec.maxLength !== undefined) parts.push(`of at most ${spec.maxLength} characters`);
    if (spec.pattern !== undefined) parts.push(`matching ${spec.pattern}`);
    return parts.join(' ');
  }
  const noun = article(spec.type);
  if (spec.minimum !== undefined && spec.maximum !== undefined) return `${noun} from ${spec.minimum} to ${spec.maximum}`;
  if (spec.minimum !== undefined) return `${noun} of at least ${spec.minimum}`;
  if (spec.maximum !== undefined) return `${noun} of at most ${spec.maximum}`;
  return noun;
}

function exampleOf(spec: ParameterSpec): string {
  if (spec.type === 'boolean') return 'true';
  if (spec.enum !== undefined) return String(spec.enum[0]);
  if (spec.type === 'string') return 'VALUE';
  return String(spec.minimum ?? 1);
}

function article(type: ParameterType): string {
  return { string: 'a string', integer: 'an integer', number: 'a number', boolean: 'a boolean' }[type];
}

/** A value as an error message shows it: strings quoted (JSON), others plain. */
export function show(value: ParameterValue): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value) : String(value);
}

/** The candidate nearest to `word` by edit distance, when it is plausibly a typo of it. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The parameters as a complete JSON Schema object (draft 2020-12) for a form renderer: the
 * manifest's subset plus `additionalProperties: false`.
 */
export function parametersJsonSchema(schema: ParametersSpec): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: schema.properties,
    required: schema.required,
    additionalProperties: false,
  };
}
