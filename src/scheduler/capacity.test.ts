import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fitsNode, subtractNode, type NodeRequest } from '../core/resources.js';
import { FEWER_THAN_NEEDED, PoolCapacity } from './capacity.js';

const node = (accelerators: number, cores: number, memoryMiB: number): NodeRequest => ({ accelerators, cores, memoryMiB });

describe('PoolCapacity', () => {
  it('counts nodes with room, up to the gang size', () => {
    const pool = new PoolCapacity([node(8, 64, 512), node(2, 64, 512), node(8, 4, 512), node(8, 64, 512)]);
    assert.equal(pool.fitCount(1, node(4, 8, 64)), 1);
    assert.equal(pool.fitCount(2, node(4, 8, 64)), 2);
    assert.equal(pool.fitCount(3, node(4, 8, 64)), 2, 'exact count when short');
    assert.equal(pool.fitCount(3, node(16, 8, 64)), 0, 'beyond every node: no scan needed');
    assert.equal(pool.fitCount(4, node(8, 8, 64)), FEWER_THAN_NEEDED, 'a larger request than a remembered miss');
  });

  it('takes the first nodes with room and leaves the rest, all or nothing', () => {
    const pool = new PoolCapacity([node(8, 64, 512), node(2, 64, 512), node(8, 64, 512)]);
    assert.deepEqual(pool.take(2, node(4, 8, 64)), [0, 2]);
    assert.deepEqual(pool.freeOn(0), node(4, 56, 448));
    assert.deepEqual(pool.freeOn(1), node(2, 64, 512));
    assert.throws(() => pool.take(3, node(4, 8, 64)), RangeError);
    assert.deepEqual(pool.freeOn(0), node(4, 56, 448), 'a failed take changes nothing');
  });

  it('agrees with counting by hand over any sequence of requests', () => {
    const request = fc.record({
      nodes: fc.integer({ min: 1, max: 4 }),
      perNode: fc.record({
        accelerators: fc.integer({ min: 0, max: 8 }),
        cores: fc.integer({ min: 0, max: 64 }),
        memoryMiB: fc.integer({ min: 0, max: 4 }).map((q) => q * 128),
      }),
    });
    const freeNode = fc.record({
      accelerators: fc.integer({ min: 0, max: 8 }),
      cores: fc.integer({ min: 0, max: 64 }),
      memoryMiB: fc.integer({ min: 0, max: 4 }).map((q) => q * 128),
    });
    fc.assert(
      fc.property(fc.array(freeNode, { maxLength: 8 }), fc.array(request, { maxLength: 40 }), (initial, requests) => {
        const pool = new PoolCapacity(initial);
        const model = initial.map((n) => ({ ...n })); // fast-check builds null-prototype records
        for (const r of requests) {
          const fitting = model.flatMap((n, i) => (fitsNode(n, r.perNode) ? [i] : []));
          const got = pool.fitCount(r.nodes, r.perNode);
          if (fitting.length >= r.nodes) {
            assert.equal(got, r.nodes);
            const taken = pool.take(r.nodes, r.perNode);
            assert.deepEqual(taken, fitting.slice(0, r.nodes));
            for (const i of taken) model[i] = subtractNode(model[i]!, r.perNode);
          } else {
            assert.ok(got === fitting.length || got === FEWER_THAN_NEEDED, `${got} for ${fitting.length} < ${r.nodes}`);
          }
          model.forEach((n, i) => assert.deepEqual(pool.freeOn(i), n));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a tree rebuilt in the last pass’s arrays answers as one built afresh, pass after pass', () => {
    const perNode = fc.record({
      accelerators: fc.integer({ min: 0, max: 8 }),
      cores: fc.integer({ min: 0, max: 64 }),
      memoryMiB: fc.integer({ min: 0, max: 4 }).map((q) => q * 128),
    });
    const pass = fc.record({
      // 5 to 8 nodes: the same tree size, so the arrays are reused, padding leaves included.
      free: fc.array(perNode, { minLength: 5, maxLength: 8 }),
      requests: fc.array(fc.record({ nodes: fc.integer({ min: 1, max: 3 }), perNode }), { maxLength: 12 }),
    });
    fc.assert(
      fc.property(fc.array(pass, { minLength: 1, maxLength: 6 }), (passes) => {
        const storage = { acc: [] as number[], cores: [] as number[], mem: [] as number[] };
        for (const { free, requests } of passes) {
          const fresh = new PoolCapacity(free);
          const reused = new PoolCapacity(free, storage);
          for (const r of requests) {
            const got = reused.fitCount(r.nodes, r.perNode);
            assert.equal(got, fresh.fitCount(r.nodes, r.perNode));
            if (got === r.nodes) assert.deepEqual(reused.take(r.nodes, r.perNode), fresh.take(r.nodes, r.perNode));
            else assert.deepEqual(reused.peek(r.nodes, r.perNode), fresh.peek(r.nodes, r.perNode));
          }
          assert.deepEqual(reused.totals(), fresh.totals());
        }
      }),
      { numRuns: 300 },
    );
  });
});
