import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../core/rng.js';
import { binderFor, POLICIES, POLICY_NAMES, type BindCandidate, type BindContext } from './index.js';

const candidates: BindCandidate[] = [
  { center: 0, pools: [0] },
  { center: 1, pools: [1, 2] },
];
const ctx = (over: Partial<BindContext> = {}): BindContext => ({
  home: 0,
  candidates,
  load: () => 0,
  capacity: (c) => [1, 3][c]!,
  staticCost: (p) => [30, 20, 10][p]!,
  ...over,
});

test('every policy is described, early ones with a binder, late ones with their objective', () => {
  for (const name of POLICY_NAMES) {
    const spec = POLICIES[name];
    assert.equal(spec.name, name);
    if (spec.binding === 'early') {
      assert.equal(spec.knobs.lookAheadHours, 0, `${name}: a local FCFS + EASY queue never waits for a better hour`);
      assert.equal(typeof binderFor(name, seededRng(1), 2), 'function');
    } else {
      assert.equal(spec.objective, name);
      assert.throws(() => binderFor(name, seededRng(1), 2), /binds late/);
    }
  }
});

test('isolated binds to the home center, or nowhere when home cannot run the job', () => {
  const bind = binderFor('isolated', seededRng(1), 2);
  assert.deepEqual(bind(ctx({ home: 1 })), [1, 2]);
  assert.equal(bind(ctx({ home: 0, candidates: [candidates[1]!] })), null);
});

test('round-robin is smooth and weighted: capacities 1 and 3 give c1, c0, c1, c1 and repeat', () => {
  const bind = binderFor('round-robin', seededRng(1), 2);
  const seq = Array.from({ length: 8 }, () => bind(ctx())![0]);
  assert.deepEqual(seq, [1, 0, 1, 1, 1, 0, 1, 1]);
});

test('random is weighted by capacity and seeded', () => {
  const counts = [0, 0];
  const bind = binderFor('random', seededRng(42), 2);
  for (let i = 0; i < 4000; i++) counts[bind(ctx())![0] === 0 ? 0 : 1]!++;
  assert.ok(Math.abs(counts[0]! / 4000 - 0.25) < 0.03, `center 0 drawn ${counts[0]} times of 4000`);
  const again = binderFor('random', seededRng(42), 2);
  const first = binderFor('random', seededRng(42), 2);
  assert.deepEqual(Array.from({ length: 20 }, () => again(ctx())), Array.from({ length: 20 }, () => first(ctx())));
});

test('least-loaded picks the lowest load, ties to the earlier center; cheapest-static the cheapest pool', () => {
  const ll = binderFor('least-loaded', seededRng(1), 2);
  assert.deepEqual(ll(ctx({ load: (c) => [0.5, 0.2][c]! })), [1, 2]);
  assert.deepEqual(ll(ctx({ load: () => 0.3 })), [0]);
  const cs = binderFor('cheapest-static', seededRng(1), 2);
  assert.deepEqual(cs(ctx()), [2]);
  assert.deepEqual(cs(ctx({ staticCost: () => 5 })), [0], 'ties: the first pool in network order');
  assert.deepEqual(cs(ctx({ staticCost: () => 5, load: (c) => [0.9, 0.1][c]! })), [1], 'equal prices: the less loaded center');
});
