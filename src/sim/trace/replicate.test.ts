import { test } from 'node:test';
import assert from 'node:assert/strict';
import { job } from '../fixtures.js';
import { copyCluster, replicate } from './replicate.js';

const base = [
  job('a', { at: 0, run: 10, home: 'c1' }),
  job('b', { at: 5, run: 20, home: 'c2' }),
  job('c', { at: 5, run: 30, home: 'c1' }),
  job('d', { at: 9, run: 40, home: 'c2' }),
];

test('replicate: every copy has every job once, shifted and wrapped within the span, merged in submit order', () => {
  const out = [...replicate(base, { copies: 3, shiftS: 4 })];
  assert.equal(out.length, 12);
  for (let i = 1; i < out.length; i++) assert.ok(out[i]!.submitAt >= out[i - 1]!.submitAt, `sorted at ${i}`);
  for (let k = 0; k < 3; k++) {
    const mine = out.filter((j) => j.id.endsWith(`#${k}`));
    assert.deepEqual(mine.map((j) => j.id.split('#')[0]).sort(), ['a', 'b', 'c', 'd']);
    assert.ok(mine.every((j) => j.homeCluster.endsWith(`-k0${k}`)));
    for (const j of mine) assert.ok(j.submitAt >= 0 && j.submitAt < 10, `${j.id} at ${j.submitAt}`);
  }
  // Copy 1 is shifted by 4 s in a 10 s span: d (9) wraps to 3, a to 4, b and c to 9.
  const copy1 = out.filter((j) => j.id.endsWith('#1')).map((j) => [j.id, j.submitAt]);
  assert.deepEqual(copy1, [['d#1', 3], ['a#1', 4], ['b#1', 9], ['c#1', 9]]);
  assert.equal(copyCluster('cluster04', 7), 'cluster04-k07');
});

test('replicate: stops after the limit; one copy with no shift is the trace itself', () => {
  assert.equal([...replicate(base, { copies: 5, shiftS: 3, limit: 7 })].length, 7);
  assert.deepEqual([...replicate(base, { copies: 1, shiftS: 0 })].map((j) => [j.id, j.submitAt, j.runSeconds]), [['a#0', 0, 10], ['b#0', 5, 20], ['c#0', 5, 30], ['d#0', 9, 40]]);
  assert.throws(() => [...replicate([base[1]!, base[0]!], { copies: 1, shiftS: 0 })], /sorted by submit/);
});
