import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { NodeRequest } from '../core/resources.js';
import { center, GiB, HOUR_MS, job, NOW, pool, snapshot } from './fixtures.js';
import { dominantShare, FairQueue, schedule, weightOf, type PendingJob, type RunningJob } from './index.js';

describe('dominant share', () => {
  const capacity = { accelerators: 100, cores: 1000 };
  const cases: readonly [usage: { accelerators: number; cores: number }, weight: number, share: number][] = [
    [{ accelerators: 0, cores: 0 }, 1, 0],
    [{ accelerators: 10, cores: 50 }, 1, 0.1], // accelerators dominate
    [{ accelerators: 1, cores: 300 }, 1, 0.3], // cores dominate
    [{ accelerators: 30, cores: 0 }, 3, 0.1], // weight 3 counts a third
  ];
  for (const [usage, weight, share] of cases) {
    it(`${usage.accelerators} accelerators and ${usage.cores} cores at weight ${weight} is ${share}`, () => {
      assert.ok(Math.abs(dominantShare(usage, capacity, weight) - share) < 1e-12);
    });
  }

  it('ignores a resource the network has none of', () => {
    assert.equal(dominantShare({ accelerators: 5, cores: 10 }, { accelerators: 0, cores: 100 }, 1), 0.1);
  });

  it('weighs an org 1 unless it has a positive weight of its own', () => {
    const weights = { a: 2, zero: 0, negative: -1, nan: NaN, infinite: Infinity };
    assert.equal(weightOf(weights, 'a'), 2);
    for (const org of ['zero', 'negative', 'nan', 'infinite', 'unlisted', 'constructor', '__proto__']) assert.equal(weightOf(weights, org), 1, org);
  });
});

describe('fair queue', () => {
  const gpuJob = (orgId: string, i: number, spec: { priority?: number; submittedAt?: number } = {}) =>
    job({ id: `${orgId}-${i}`, orgId, gpus: 1, cores: 1, ...spec });

  it('fairShare false: one queue across orgs, in queue order, whatever each org runs', () => {
    const jobs = [gpuJob('a', 0, { submittedAt: NOW - 3 }), gpuJob('a', 1, { submittedAt: NOW - 2 }), gpuJob('b', 0, { submittedAt: NOW - 1 }), gpuJob('b', 1, { submittedAt: NOW })];
    // a already runs 6 of 8 GPUs: under fair share b goes first; without it, the oldest job does.
    const running: RunningJob[] = [{ jobId: 'r', orgId: 'a', centerId: 'c', poolId: 'p', nodeIndices: [0], perNode: { accelerators: 6, cores: 6, memoryMiB: 0 }, startedAt: NOW, endsAt: NOW + HOUR_MS }];
    const drain = (q: FairQueue) => {
      const out: string[] = [];
      for (let j = q.next(); j !== undefined; j = q.next()) {
        q.charge(j);
        out.push(j.id);
      }
      return out;
    };
    assert.equal(drain(new FairQueue(jobs, running, { accelerators: 8, cores: 64 }, {}))[0], 'b-0');
    assert.deepEqual(drain(new FairQueue([...jobs].reverse(), running, { accelerators: 8, cores: 64 }, {}, { fairShare: false })), ['a-0', 'a-1', 'b-0', 'b-1']);
  });

  it('gives the next turn to the org with the smallest weighted dominant share', () => {
    const jobs = [...[0, 1, 2, 3].map((i) => gpuJob('a', i)), ...[0, 1, 2, 3].map((i) => gpuJob('b', i))];
    const queue = new FairQueue(jobs, [], { accelerators: 8, cores: 64 }, { b: 3 });
    const order: string[] = [];
    for (let j = queue.next(); j !== undefined; j = queue.next()) {
      order.push(j.id);
      queue.charge(j);
    }
    // b counts a third: it takes three turns for each of a's, until it runs out.
    assert.deepEqual(order, ['a-0', 'b-0', 'b-1', 'b-2', 'a-1', 'b-3', 'a-2', 'a-3']);
  });

  it('counts running work, and gives an org that placed nothing its turns back', () => {
    const running: RunningJob[] = [
      { jobId: 'r', orgId: 'a', centerId: 'c', poolId: 'p', nodeIndices: [0], perNode: { accelerators: 4, cores: 4, memoryMiB: 0 }, startedAt: 0, endsAt: 1 },
    ];
    const queue = new FairQueue([gpuJob('a', 0), gpuJob('a', 1), gpuJob('b', 0), gpuJob('b', 1)], running, { accelerators: 8, cores: 64 }, {});
    assert.deepEqual([queue.next()!.id, queue.next()!.id, queue.next()!.id, queue.next()!.id], ['b-0', 'b-1', 'a-0', 'a-1']);
    assert.equal(queue.shareOf('a'), 0.5);
    // One org alone: its usage is counted only when asked, and then in full.
    const alone = new FairQueue([gpuJob('a', 0)], running, { accelerators: 8, cores: 64 }, {});
    alone.charge(alone.next()!);
    assert.equal(alone.shareOf('a'), 5 / 8);
  });

  it('orders an org’s own jobs by priority, then age, never another org’s', () => {
    const jobs = [
      gpuJob('a', 0, { submittedAt: 5 }),
      gpuJob('a', 1, { priority: 9, submittedAt: 9 }),
      gpuJob('a', 2, { submittedAt: 1 }),
      gpuJob('b', 0, { submittedAt: 3 }),
    ];
    const queue = new FairQueue(jobs, [], { accelerators: 8, cores: 64 }, {});
    const order: string[] = [];
    for (let j = queue.next(); j !== undefined; j = queue.next()) {
      order.push(j.id);
      queue.charge(j);
    }
    assert.deepEqual(order, ['a-1', 'b-0', 'a-2', 'a-0']);
  });
});

describe('fair share in a pass', () => {
  // One node of 8 A100s.
  const one = (running: readonly { orgId: string; gpus: number }[] = []) =>
    center('east', {
      pools: [pool('nvidia-a100', { nodes: 1, running: running.map((r) => ({ nodes: [0], endsInHours: 5, orgId: r.orgId, perNode: { accelerators: r.gpus, cores: 0, memoryMiB: 0 } })) })],
    });

  it('serves the org that uses less first, whatever the other’s priority and age', () => {
    const centers = [one([{ orgId: 'a', gpus: 4 }])];
    const jobs = [job({ id: 'a-urgent', orgId: 'a', gpus: 4, priority: 100, submittedAt: 0 }), job({ id: 'b-new', orgId: 'b', gpus: 4, submittedAt: 9 })];
    const result = schedule(snapshot({ centers, jobs }), { maxReservations: 0 });
    assert.deepEqual(
      result.placements.map((p) => p.jobId),
      ['b-new'],
    );
  });

  it('lets a heavier weight carry more use', () => {
    const centers = [one([{ orgId: 'a', gpus: 2 }, { orgId: 'b', gpus: 2 }])];
    const jobs = [job({ id: 'a-1', orgId: 'a', gpus: 4 }), job({ id: 'b-1', orgId: 'b', gpus: 4 })];
    const picked = (orgWeights: Record<string, number>) =>
      schedule(snapshot({ centers, jobs, orgWeights }), { maxReservations: 0 }).placements.map((p) => p.jobId);
    assert.deepEqual(picked({ a: 2 }), ['a-1']);
    assert.deepEqual(picked({ b: 2 }), ['b-1']);
    assert.deepEqual(picked({}), ['a-1'], 'equal shares: by org id');
  });

  it('splits free capacity by weight within one pass', () => {
    const jobs = ['a', 'b'].flatMap((org) => Array.from({ length: 8 }, (_, i) => job({ id: `${org}-${i}`, orgId: org, gpus: 1, cores: 1 })));
    const count = (orgWeights: Record<string, number>) => {
      const placed = schedule(snapshot({ centers: [one()], jobs, orgWeights })).placements;
      return ['a', 'b'].map((org) => placed.filter((p) => p.jobId.startsWith(org)).length);
    };
    assert.deepEqual(count({}), [4, 4]);
    assert.deepEqual(count({ b: 3 }), [2, 6]);
  });
});

/**
 * Passes an hour apart on one pool of 4 nodes × 8 GPUs, every org with a standing backlog of
 * 1-GPU, 4-hour jobs; placed jobs run their walltime. Org `first` starts holding the whole pool.
 * Returns each org's mean share of the GPUs over the last `measure` passes.
 */
function simulate(orgWeights: Record<string, number>, steps: number, measure: number): Record<string, number> {
  const orgs = Object.keys(orgWeights).sort();
  const perNode: NodeRequest = { accelerators: 8, cores: 64, memoryMiB: 256 * GiB };
  const poolId = 'ctr-sim/a100';
  let now = NOW;
  let serial = 0;
  let running: RunningJob[] = Array.from({ length: 32 }, (_, k) => ({
    jobId: `init-${k}`,
    orgId: orgs[0]!,
    centerId: 'ctr-sim',
    poolId,
    nodeIndices: [k % 4],
    perNode: { accelerators: 1, cores: 1, memoryMiB: GiB },
    startedAt: NOW - HOUR_MS,
    endsAt: NOW + (1 + (k % 4)) * HOUR_MS,
  }));
  const backlog = new Map<string, PendingJob[]>(orgs.map((o) => [o, []]));
  const totals = new Map<string, number>(orgs.map((o) => [o, 0]));
  for (let step = 0; step < steps; step++) {
    for (const o of orgs) {
      const queue = backlog.get(o)!;
      while (queue.length < 40) queue.push(job({ id: `${o}-${serial++}`, orgId: o, gpus: 1, cores: 1, memoryGiB: 1, hours: 4, submittedAt: now }));
    }
    const free = Array.from({ length: 4 }, () => ({ ...perNode }));
    for (const r of running) {
      for (const i of r.nodeIndices) {
        const f = free[i]!;
        free[i] = { accelerators: f.accelerators - r.perNode.accelerators, cores: f.cores - r.perNode.cores, memoryMiB: f.memoryMiB - r.perNode.memoryMiB };
      }
    }
    const centers = [center('sim', { pools: [pool('nvidia-a100', { name: 'a100', nodes: 4, freeByNode: free })] })];
    const jobs = orgs.flatMap((o) => backlog.get(o)!);
    const result = schedule(snapshot({ centers, jobs, running, orgWeights, now }));
    const byId = new Map(jobs.map((j) => [j.id, j]));
    for (const p of result.placements) {
      const j = byId.get(p.jobId)!;
      running.push({ jobId: j.id, orgId: j.orgId, centerId: p.centerId, poolId: p.poolId, nodeIndices: p.nodeIndices, perNode: j.perNode, startedAt: now, endsAt: now + j.walltimeSeconds * 1000 });
      const queue = backlog.get(j.orgId)!;
      queue.splice(queue.indexOf(j), 1);
    }
    if (step >= steps - measure) {
      for (const o of orgs) totals.set(o, totals.get(o)! + running.filter((r) => r.orgId === o).reduce((n, r) => n + r.perNode.accelerators * r.nodeIndices.length, 0) / 32);
    }
    now += HOUR_MS;
    running = running.filter((r) => r.endsAt > now);
  }
  return Object.fromEntries(orgs.map((o) => [o, totals.get(o)! / measure]));
}

describe('fair shares over time', () => {
  const cases: readonly [weights: Record<string, number>, expected: Record<string, number>][] = [
    [{ a: 1, b: 3 }, { a: 0.25, b: 0.75 }],
    [{ a: 1, b: 1 }, { a: 0.5, b: 0.5 }],
    [{ a: 2, b: 1, c: 1 }, { a: 0.5, b: 0.25, c: 0.25 }],
  ];
  for (const [weights, expected] of cases) {
    it(`converge to the weights ${Object.values(weights).join(':')} from an unfair start`, () => {
      const shares = simulate(weights, 24, 8);
      for (const [org, share] of Object.entries(expected)) {
        assert.ok(Math.abs(shares[org]! - share) < 0.05, `${org}: ${shares[org]} vs ${share} (${JSON.stringify(shares)})`);
      }
    });
  }

  it('converge to any weights (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), (wa, wb) => {
        const shares = simulate({ a: wa, b: wb }, 20, 6);
        const want = wa / (wa + wb);
        // A pool of 32 GPUs splits in steps of 1/32; allow two of them.
        assert.ok(Math.abs(shares.a! - want) <= 2 / 32 + 1e-9, `${wa}:${wb} gave ${JSON.stringify(shares)}`);
        assert.ok(Math.abs(shares.a! + shares.b! - 1) < 1e-9, 'the pool stays full');
      }),
      { numRuns: 16 },
    );
  });
});
