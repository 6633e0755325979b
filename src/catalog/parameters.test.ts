import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParametersSchema, parametersJsonSchema, validateParameters, type ParameterValue } from './parameters.js';

const schema = ParametersSchema.parse({
  properties: {
    steps: { type: 'integer', default: 100, minimum: 1, maximum: 100000 },
    tol: { type: 'number', default: 1e-6, minimum: 0, maximum: 0.1 },
    method: { type: 'string', enum: ['sor', 'jacobi'], default: 'sor' },
    name: { type: 'string', minLength: 3, maxLength: 8, pattern: '^[a-z]+$' },
    verbose: { type: 'boolean', default: false },
  },
  required: ['name'],
});

function errorsOf(given: Record<string, ParameterValue>): string[] {
  const r = validateParameters(schema, given);
  return r.ok ? [] : r.errors.map((e) => e.message);
}

describe('validateParameters', () => {
  it('coerces CLI strings by the declared type and applies defaults', () => {
    const r = validateParameters(schema, { name: 'abc', steps: '250', tol: '1e-8', verbose: 'yes' });
    assert.deepEqual(r, { ok: true, values: { steps: 250, tol: 1e-8, method: 'sor', name: 'abc', verbose: true } });
  });
  it('accepts JSON scalars from the API as they are', () => {
    const r = validateParameters(schema, { name: 'abc', steps: 7, verbose: false, method: 'jacobi' });
    assert.ok(r.ok && r.values['steps'] === 7 && r.values['method'] === 'jacobi');
  });

  const CASES: readonly [string, Record<string, ParameterValue>, string][] = [
    ['below the minimum', { name: 'abc', steps: '0' }, 'steps: 0 is below the minimum 1'],
    ['above the maximum', { name: 'abc', steps: 100001 }, 'steps: 100001 is above the maximum 100000'],
    ['not an integer', { name: 'abc', steps: '1.5' }, 'steps: "1.5" is not an integer'],
    ['an integer in exponent form', { name: 'abc', steps: '1e3' }, 'steps: "1e3" is not an integer'],
    ['a fractional number as an integer', { name: 'abc', steps: 2.5 }, 'steps: 2.5 is not an integer'],
    ['not a number', { name: 'abc', tol: 'small' }, 'tol: "small" is not a number'],
    ['a number that is not finite', { name: 'abc', tol: 'Infinity' }, 'tol: "Infinity" is not a number'],
    ['outside the enum', { name: 'abc', method: 'gauss' }, 'method: "gauss" is not one of "sor", "jacobi"'],
    ['too short', { name: 'ab' }, 'name: "ab" is shorter than 3 characters'],
    ['too long', { name: 'abcdefghi' }, 'name: "abcdefghi" is longer than 8 characters'],
    ['against the pattern', { name: 'ABC' }, 'name: "ABC" does not match the pattern ^[a-z]+$'],
    ['not a boolean', { name: 'abc', verbose: 'maybe' }, 'verbose: "maybe" is not a boolean'],
    ['a number for a string', { name: 5 }, 'name: 5 is not a string'],
    ['a NUL character', { name: 'a\0b' }, 'name: "a\\u0000b" contains a NUL character'],
    ['missing and required', {}, 'name: required (a string of 3 to 8 characters matching ^[a-z]+$)'],
    ['unknown', { name: 'abc', stepz: '3' }, 'stepz: no such parameter'],
  ];
  for (const [what, given, message] of CASES) {
    it(`rejects a value ${what}`, () => assert.deepEqual(errorsOf(given), [message]));
  }

  it('names the rule and the value, and hints at a typo', () => {
    const r = validateParameters(schema, { name: 'abc', stepz: '3', steps: '0' });
    assert.ok(!r.ok);
    assert.deepEqual(
      r.errors.map((e) => [e.parameter, e.value, e.rule]),
      [
        ['steps', '0', 'minimum'],
        ['stepz', '3', 'unknown'],
      ],
    );
    assert.equal(r.errors[1]!.hint, 'did you mean steps? parameters: steps, tol, method, name, verbose');
  });
  it('reports every error at once', () => {
    assert.equal(errorsOf({ steps: 'x', tol: '-1', extra: 1 }).length, 4); // steps, tol, name missing, extra
  });
  it('ignores inherited names (no prototype tricks)', () => {
    const given = JSON.parse('{"__proto__": {"steps": 5}, "name": "abc"}') as Record<string, ParameterValue>;
    const r = validateParameters(schema, given);
    assert.ok(!r.ok && r.errors[0]!.parameter === '__proto__' && r.errors[0]!.rule === 'unknown');
  });
});

describe('parametersJsonSchema', () => {
  it('is a closed JSON Schema object for a form renderer', () => {
    const js = parametersJsonSchema(schema);
    assert.equal(js['type'], 'object');
    assert.equal(js['additionalProperties'], false);
    assert.deepEqual(js['required'], ['name']);
  });
});
