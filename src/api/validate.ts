import type { z } from 'zod';
import { SuanwangError } from '../core/errors.js';

/**
 * Parses `input` with `schema`, or throws a 400 that names the first offending field, the value it
 * had and what would be accepted. Unknown fields are rejected by the strict schemas, not dropped.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const field = path ? `${path}.${key}` : key;
    throw new SuanwangError('unknown_field', `unknown field "${field}" in the request ${where}`, {
      field,
      hint: `remove it; the accepted fields are listed in the OpenAPI document (/v1/openapi.json)`,
    });
  }
  const value = valueAt(input, issue.path);
  const shown = value === undefined ? 'missing' : `got ${JSON.stringify(value)?.slice(0, 80)}`;
  throw new SuanwangError('invalid_field', `${path || where}: ${describe(issue)} (${shown})`, {
    field: path || where,
    hint: hintFor(issue),
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${issue.origin === 'array' ? ' items' : issue.origin === 'string' ? ' characters' : ''}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${issue.origin === 'array' ? ' items' : issue.origin === 'string' ? ' characters' : ''}`;
    case 'invalid_type':
      return `must be ${issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

function hintFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return `use a value ≤ ${String(issue.maximum)}`;
    case 'too_small':
      return `use a value ≥ ${String(issue.minimum)}`;
    case 'invalid_value':
      return `pick one of the listed values`;
    default:
      return 'see /v1/openapi.json for the accepted shape';
  }
}
