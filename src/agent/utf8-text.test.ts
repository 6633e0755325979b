import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8TextOf } from './utf8-text.js';

describe('utf8TextOf keeps the byte length of output', () => {
  const cases: readonly [string, number[], string][] = [
    ['ASCII as is', [0x68, 0x69], 'hi'],
    ['Chinese as is', [...Buffer.from('中文')], '中文'],
    ['GBK bytes become ?', [0xd6, 0xd0, 0xce, 0xc4], '????'],
    ['a lone continuation byte', [0x61, 0x80, 0x62], 'a?b'],
    ['an overlong form', [0xc0, 0xaf], '??'],
    ['a surrogate', [0xed, 0xa0, 0x80], '???'],
    ['an emoji', [...Buffer.from('😀')], '😀'],
  ];
  for (const [name, bytes, text] of cases) {
    it(name, () => {
      const out = utf8TextOf(Uint8Array.from(bytes));
      assert.equal(out, text);
      assert.equal(Buffer.byteLength(out), bytes.length);
    });
  }
});
