import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileLinearPattern, MAX_PATTERN_LENGTH } from './pattern.js';

function matcher(source: string) {
  const r = compileLinearPattern(source);
  if (!r.ok) assert.fail(`${source}: ${r.error.message}`);
  return r.pattern;
}

/** Patterns of the supported syntax over a small alphabet, printed from a random tree. */
const patternArb: fc.Arbitrary<string> = fc.letrec<{ node: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('a', 'b', 'c', '.', '\\d', '\\w', '\\s', '\\S', '[ab]', '[^a]', '[a-c]', '[-b]', '[\\d\\n]', '\\.', '\\-'.slice(1), '\\n', '\\x61', '\\u0062', '\\u{63}'),
    tie('node').map((n) => `(${n})`),
    tie('node').map((n) => `(?:${n})`),
  ),
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.constantFrom('', '^', '$'),
    fc
      .tuple(
        tie('atom'),
        fc.constantFrom('', '', '*', '+', '?', '{2}', '{0,2}', '{1,}', '*?', '+?', '??', '{1,3}?'),
      )
      .map(([a, q]) => a + q),
    fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map((parts) => parts.join('')),
    fc.tuple(tie('node'), tie('node')).map(([x, y]) => `${x}|${y}`),
  ),
})).node;

describe('linear-time patterns', () => {
  it('agrees with RegExp (flag u) on random patterns and inputs of the supported syntax', () => {
    fc.assert(
      fc.property(patternArb, fc.array(fc.constantFrom('a', 'b', 'c', '1', ' ', '\n', '-', '.', 'é'), { maxLength: 8 }), (source, chars) => {
        const input = chars.join('');
        const compiled = compileLinearPattern(source);
        assert.ok(compiled.ok, `${JSON.stringify(source)} is refused: ${compiled.ok ? '' : compiled.error.message}`);
        assert.equal(compiled.pattern.test(input), new RegExp(source, 'u').test(input), `${JSON.stringify(source)} on ${JSON.stringify(input)}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('matches the documented syntax as ECMAScript does', () => {
    const cases: [string, string, boolean][] = [
      ['^[a-z]+$', 'abc', true],
      ['^[a-z]+$', 'abC', false],
      ['b', 'abc', true], // unanchored, as in JSON Schema
      ['^\\d{3}-\\d{4}$', '555-1234', true],
      ['^\\d{3}-\\d{4}$', '555-12345', false],
      ['^(?:cat|dog)s?$', 'dogs', true],
      ['^.$', '\n', false],
      ['^.$', '算', true],
      ['^.$', '😀', true], // one code point, two UTF-16 units: Unicode mode
      ['^[\\u4e00-\\u9fff]{2}$', '算网', true],
      ['^a{2,3}$', 'aaaa', false],
      ['^\\s*$', ' \t\u3000', true],
      ['^[^\\d]+$', 'ab', true],
      ['^[\\D]$', '5', false],
      ['^\\W$', '_', false],
      ['x*', '', true],
      ['^(a|)+$', 'aaa', true],
      ['^(a*)*$', 'b', false],
    ];
    for (const [source, input, expected] of cases) {
      assert.equal(matcher(source).test(input), expected, `${source} on ${JSON.stringify(input)}`);
      assert.equal(new RegExp(source, 'u').test(input), expected, `the case itself is right: ${source}`);
    }
  });

  it('regression: ^(a+)+$ on a crafted input answers at once (backtracking took 2 s and more)', () => {
    const p = matcher('^(a+)+$');
    // 4096 characters, the longest a parameter value may be; a backtracking engine never finishes.
    assert.equal(p.test(`${'a'.repeat(4095)}b`), false);
    assert.equal(p.test('a'.repeat(4096)), true);
    const nested = matcher('^((a|aa)*)*(b|c)?x$');
    assert.equal(nested.test('a'.repeat(4096)), false);
  });

  it('refuses what it does not support, with the position where it starts', () => {
    const cases: [string, string, number][] = [
      ['^(a)\\1$', 'backreferences', 4],
      ['(?<n>a)\\k<n>', 'named groups', 0],
      ['a(?=b)', 'lookahead', 1],
      ['(?<!a)b', 'lookbehind', 0],
      ['\\bword', 'word boundaries', 0],
      ['\\p{L}+', 'property', 0],
      ['a{1000}', 'above 100', 1],
      ['(a{100}){100}', 'too large', 0],
      ['(a', 'unclosed "("', 0],
      ['a)', 'unmatched', 1],
      ['[a', 'unclosed "["', 0],
      ['*a', 'nothing to repeat', 0],
      ['a**', 'nothing to repeat', 2],
      ['a{2,1}', 'backwards', 1],
      ['[z-a]', 'backwards', 1],
      ['a]', 'lone', 1],
      ['\\q', 'not an escape', 0],
      ['^*', 'anchor', 0],
      ['x'.repeat(MAX_PATTERN_LENGTH + 1), 'at most', MAX_PATTERN_LENGTH],
    ];
    for (const [source, says, index] of cases) {
      const r = compileLinearPattern(source);
      assert.ok(!r.ok, `${source} is refused`);
      assert.ok(r.error.message.includes(says), `${source}: ${r.error.message}`);
      assert.equal(r.error.index, index, `${source}: where`);
    }
  });
});
