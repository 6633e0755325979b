import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fitsNode, type NodeRequest } from '../core/resources.js';
import { center, HOUR_MS, NOW, pool, runningOn } from './fixtures.js';
import { PoolState, WOULD_DELAY_RESERVATION, type RunningJob } from './index.js';

const node = (accelerators: number, cores = 8, memoryMiB = 1024): NodeRequest => ({ accelerators, cores, memoryMiB });

/** A pool of `nodes` 8-GPU nodes with `running` jobs (node indices, hours to go), as the pass sees it. */
function poolWith(nodes: number, running: readonly { nodes: number[]; endsInHours: number; gpus?: number }[]) {
  const c = center('c', {
    pools: [pool('nvidia-a100', { nodes, running: running.map((r) => ({ nodes: r.nodes, endsInHours: r.endsInHours, perNode: r.gpus === undefined ? undefined : { accelerators: r.gpus } })) })],
  });
  return { view: c.pools[0]!, running: runningOn([c]) };
}

describe('PoolState', () => {
  it('finds the earliest time a gang fits, and the first nodes then', () => {
    const { view, running } = poolWith(4, [
      { nodes: [0, 1], endsInHours: 2 },
      { nodes: [2], endsInHours: 1 },
    ]);
    const s = new PoolState(view, running, NOW);
    assert.deepEqual(s.earliestFit(1, node(8)), { startAt: NOW, nodeIndices: [3] });
    assert.deepEqual(s.earliestFit(2, node(8)), { startAt: NOW + HOUR_MS, nodeIndices: [2, 3] });
    assert.deepEqual(s.earliestFit(4, node(8)), { startAt: NOW + 2 * HOUR_MS, nodeIndices: [0, 1, 2, 3] });
    assert.equal(s.earliestFit(5, node(8)), null, 'more nodes than the pool has');
    assert.equal(s.earliestFit(1, node(9)), null, 'more than a node has');
  });

  it('counts an overdue end as now, and this pass’s placements as they end', () => {
    const { view, running } = poolWith(2, [{ nodes: [0], endsInHours: -1 }]);
    const s = new PoolState(view, running, NOW);
    s.take(1, node(8), NOW + 3 * HOUR_MS); // node 1, for three hours
    assert.deepEqual(s.earliestFit(2, node(8)), { startAt: NOW + 3 * HOUR_MS, nodeIndices: [0, 1] });
    assert.deepEqual(s.earliestFit(1, node(8)), { startAt: NOW, nodeIndices: [0] });
  });

  it('never gives a node back more than it has, should releases overlap', () => {
    const view = pool('nvidia-a100', { nodes: 1, freeByNode: [node(4)] });
    const twice: RunningJob = { jobId: 'x', orgId: 'o', centerId: 'c', poolId: 'p', nodeIndices: [0], perNode: node(8), startedAt: 0, endsAt: NOW + HOUR_MS };
    const s = new PoolState({ ...view, id: 'p', centerId: 'c' }, [twice, { ...twice, jobId: 'y' }], NOW);
    s.reserve({ jobId: 'r', startAt: NOW + HOUR_MS, nodeIndices: [0], perNode: node(8) });
    assert.equal(s.fitCount(1, node(1), NOW + 2 * HOUR_MS), WOULD_DELAY_RESERVATION, 'no GPU spare at the reservation: 8 come back, not 20');
    assert.equal(s.fitCount(1, node(0), NOW + 2 * HOUR_MS), 1, 'cores and memory to spare');
    assert.equal(s.fitCount(1, node(1), NOW + HOUR_MS), 1, 'gone by the time it starts');
  });

  it('guards a reservation against every later placement (property)', () => {
    // Random pools, running jobs and requests: after a reservation, whatever is placed, the reserved
    // nodes still have room at its start, counting every release and every placement still running.
    const request = fc.record({
      nodes: fc.integer({ min: 1, max: 3 }),
      perNode: fc.record({ accelerators: fc.integer({ min: 0, max: 8 }), cores: fc.integer({ min: 0, max: 64 }), memoryMiB: fc.constantFrom(0, 1024, 64 * 1024) }),
      hours: fc.integer({ min: 1, max: 8 }),
    });
    const job = fc.record({ node: fc.integer({ min: 0, max: 4 }), gpus: fc.integer({ min: 1, max: 8 }), endsInHours: fc.integer({ min: 0, max: 6 }) });
    fc.assert(
      fc.property(fc.array(job, { maxLength: 6 }), request, fc.array(request, { maxLength: 12 }), (jobs, head, later) => {
        const used = new Set<number>();
        const run = jobs.filter((j) => !used.has(j.node) && used.add(j.node)).map((j) => ({ nodes: [j.node], endsInHours: j.endsInHours, gpus: j.gpus }));
        const { view, running } = poolWith(5, run);
        const s = new PoolState(view, running, NOW);
        const fit = s.earliestFit(head.nodes, head.perNode);
        if (fit === null || fit.startAt === NOW) return;
        s.reserve({ jobId: 'head', startAt: fit.startAt, nodeIndices: fit.nodeIndices, perNode: head.perNode });
        const placed: { nodes: number[]; perNode: NodeRequest; until: number }[] = [];
        for (const r of later) {
          const until = NOW + r.hours * HOUR_MS;
          if (s.fitCount(r.nodes, r.perNode, until) === r.nodes) placed.push({ nodes: s.take(r.nodes, r.perNode, until), perNode: r.perNode, until });
        }
        for (const i of fit.nodeIndices) {
          let free = view.freeByNode[i]!;
          const add = (d: NodeRequest, sign: number) =>
            (free = { accelerators: free.accelerators + sign * d.accelerators, cores: free.cores + sign * d.cores, memoryMiB: free.memoryMiB + sign * d.memoryMiB });
          for (const r of running) if (r.nodeIndices.includes(i) && r.endsAt <= fit.startAt) add(r.perNode, 1);
          for (const p of placed) if (p.nodes.includes(i) && p.until > fit.startAt) add(p.perNode, -1);
          assert.ok(fitsNode(free, head.perNode), `node ${i} at the reservation: ${JSON.stringify(free)}`);
        }
        // And the head's own earliest start, asked again with everything placed, is not later.
        const again = new PoolState(view, [...running, ...placed.map((p, k) => ({ ...running[0]!, jobId: `p${k}`, nodeIndices: p.nodes, perNode: p.perNode, endsAt: p.until }))], NOW);
        for (const p of placed) again.free.takeAt(p.nodes, p.perNode);
        assert.ok(again.earliestFit(head.nodes, head.perNode)!.startAt <= fit.startAt);
      }),
      { numRuns: 500 },
    );
  });
});

describe('PoolState releases read on demand', () => {
  it('reads the running jobs once, only when a walk needs them, in the order they would have had', () => {
    const { view, running } = poolWith(3, [
      { nodes: [0], endsInHours: 2 },
      { nodes: [1], endsInHours: 1 },
    ]);
    let reads = 0;
    const lazy = new PoolState(view, () => (reads++, running), NOW);
    const eager = new PoolState(view, running, NOW);
    // Placing on free nodes needs no release.
    assert.deepEqual(lazy.take(1, node(8), NOW + HOUR_MS), eager.take(1, node(8), NOW + HOUR_MS));
    assert.equal(reads, 0);
    // The first walk reads them in, before this pass's placement (ties keep that order).
    assert.deepEqual(lazy.earliestFit(2, node(8)), eager.earliestFit(2, node(8)));
    assert.deepEqual(lazy.earliestFit(3, node(8)), { startAt: NOW + 2 * HOUR_MS, nodeIndices: [0, 1, 2] });
    assert.equal(lazy.heldAt(NOW + HOUR_MS, false), eager.heldAt(NOW + HOUR_MS, false));
    assert.equal(reads, 1);
  });
});
