import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fairQuotas } from './candidates.js';

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('fairQuotas', { timeout: 10_000 }, () => {
  it('gives a small org all its jobs and the rest of the budget to the big one', () => {
    const q = fairQuotas(new Map([['org-a', 10_000], ['org-b', 10]]), {}, 1000);
    assert.equal(q.get('org-b'), 10);
    assert.equal(q.get('org-a'), 990);
  });

  it('shares by weight when every org wants more than its share', () => {
    const q = fairQuotas(new Map([['org-a', 1_000_000], ['org-b', 1_000_000], ['org-c', 5]]), { 'org-a': 3, 'org-b': 1 }, 1005);
    assert.equal(q.get('org-c'), 5);
    assert.equal(q.get('org-a'), 750);
    assert.equal(q.get('org-b'), 250);
  });

  it('never exceeds the budget nor an org count, and uses the budget when there is enough work', () => {
    for (const budget of [0, 1, 7, 100, 9999]) {
      const queued = new Map([['a', 5000], ['b', 3], ['c', 77], ['d', 100_000]]);
      const q = fairQuotas(queued, { a: 2, b: 1, c: 0.5, d: 1 }, budget);
      assert.ok(sum(q) <= budget, `budget ${budget}`);
      assert.equal(sum(q), Math.min(budget, 5000 + 3 + 77 + 100_000));
      for (const [org, n] of q) assert.ok(n <= queued.get(org)!);
    }
  });

  it('leaves out orgs with nothing queued', () => {
    assert.deepEqual([...fairQuotas(new Map([['a', 0], ['b', 2]]), {}, 10)], [['b', 2]]);
  });
});
