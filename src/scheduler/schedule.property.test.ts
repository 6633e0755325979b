import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fitsNode, subtractNode, type NodeRequest } from '../core/resources.js';
import { seededRng, randomInt } from '../core/rng.js';
import { center, GiB, job, NOW, pool, snapshot } from './fixtures.js';
import {
  checkFeasible,
  OBJECTIVES,
  schedule,
  staticReason,
  type CenterView,
  type Policy,
  type PoolView,
  type Snapshot,
} from './index.js';

const CHIPS = ['nvidia-a100', 'ascend-910b', 'hygon-z100'] as const;
const PROGRAMS = ['python', 'torchrun', 'bash', 'scripts/torchrun', './python', '/opt/tools/run'] as const;

const poolArb = fc
  .record({
    accelerator: fc.option(fc.constantFrom(...CHIPS), { nil: null }),
    perNode: fc.constantFrom(1, 4, 8),
    cores: fc.constantFrom(8, 16, 64),
    memoryGiB: fc.constantFrom(64, 256),
    nodes: fc.integer({ min: 0, max: 5 }),
    fenPerAcceleratorHour: fc.integer({ min: 0, max: 4000 }),
    fenPerCoreHour: fc.integer({ min: 0, max: 30 }),
  })
  .chain((spec) => {
    const acc = spec.accelerator === null ? 0 : spec.perNode;
    const free = fc.record({
      accelerators: fc.integer({ min: 0, max: acc }),
      cores: fc.integer({ min: 0, max: spec.cores }),
      memoryMiB: fc.constantFrom(0, (spec.memoryGiB / 2) * GiB, spec.memoryGiB * GiB),
    });
    return fc
      .array(free, { minLength: spec.nodes, maxLength: spec.nodes })
      .map((freeByNode) => ({ ...spec, perNode: acc, freeByNode }));
  });

const centerArb = fc.record({
  state: fc.constantFrom('online', 'online', 'online', 'draining', 'offline' as const),
  commands: fc.option(fc.subarray(['python', 'torchrun', 'bash']), { nil: null }),
  carbonKgPerKwh: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 24, maxLength: 24 }),
  pue: fc.double({ min: 1, max: 2, noNaN: true }),
  utcOffsetHours: fc.constantFrom(8, 0, -5),
  pools: fc.array(poolArb, { maxLength: 3 }),
});

const jobArb = fc.record({
  nodes: fc.integer({ min: 1, max: 3 }),
  gpus: fc.constantFrom(0, 0, 1, 2, 4, 8),
  cores: fc.integer({ min: 1, max: 64 }),
  memoryGiB: fc.constantFrom(1, 16, 64, 256),
  hours: fc.integer({ min: 1, max: 8 }),
  allow: fc.subarray([...CHIPS], { maxLength: 2 }),
  program: fc.constantFrom(...PROGRAMS),
  objective: fc.constantFrom(...OBJECTIVES),
  priority: fc.integer({ min: 0, max: 2 }),
  submittedAt: fc.integer({ min: 0, max: 3 }),
});

const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .record({
    now: fc.integer({ min: NOW, max: NOW + 86_400_000 }),
    centers: fc.array(centerArb, { maxLength: 4 }),
    jobs: fc.array(jobArb, { maxLength: 25 }),
  })
  .map((s) =>
    snapshot({
      now: s.now,
      centers: s.centers.map((c, i) =>
        center(`c${i}`, { ...c, pools: c.pools.map((p, k) => pool(p.accelerator, { ...p, name: `p${k}` })) }),
      ),
      jobs: s.jobs.map((j, i) => job({ ...j, id: `j${i}` })),
    }),
  );

const policyArb: fc.Arbitrary<Policy> = fc.record({ maxAlternatives: fc.integer({ min: 0, max: 4 }) });

const RUNS = { numRuns: 300 };

function poolsOf(snap: Snapshot): Map<string, { center: CenterView; pool: PoolView }> {
  const out = new Map<string, { center: CenterView; pool: PoolView }>();
  for (const c of snap.centers) for (const p of c.pools) out.set(p.id, { center: c, pool: p });
  return out;
}

/** Free capacity per pool after the placements of a pass, computed from scratch. */
function freeAfter(snap: Snapshot, result: ReturnType<typeof schedule>): Map<string, NodeRequest[]> {
  const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
  const free = new Map<string, NodeRequest[]>();
  for (const c of snap.centers) for (const p of c.pools) free.set(p.id, [...p.freeByNode]);
  for (const placed of result.placements) {
    const nodes = free.get(placed.poolId)!;
    for (const i of placed.nodeIndices) nodes[i] = subtractNode(nodes[i]!, jobs.get(placed.jobId)!.perNode);
  }
  return free;
}

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const rng = seededRng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const k = randomInt(rng, i + 1);
    [out[i], out[k]] = [out[k]!, out[i]!];
  }
  return out;
}

describe('schedule properties', () => {
  it('decides every job exactly once', () => {
    fc.assert(
      fc.property(snapshotArb, (snap) => {
        const result = schedule(snap);
        const decided = [...result.placements.map((p) => p.jobId), ...result.waiting.map((w) => w.jobId)];
        assert.deepEqual([...decided].sort(), snap.jobs.map((j) => j.id).sort());
      }),
      RUNS,
    );
  });

  it('never over-allocates any node of any pool', () => {
    fc.assert(
      fc.property(snapshotArb, (snap) => {
        for (const nodes of freeAfter(snap, schedule(snap)).values()) {
          for (const n of nodes) assert.ok(n.accelerators >= 0 && n.cores >= 0 && n.memoryMiB >= 0, JSON.stringify(n));
        }
      }),
      RUNS,
    );
  });

  it('places a gang on exactly its number of distinct nodes, each with room for it', () => {
    fc.assert(
      fc.property(snapshotArb, (snap) => {
        const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
        const pools = poolsOf(snap);
        const free = new Map([...pools].map(([id, p]) => [id, [...p.pool.freeByNode]]));
        for (const placed of schedule(snap).placements) {
          const j = jobs.get(placed.jobId)!;
          const nodes = free.get(placed.poolId)!;
          assert.equal(placed.nodeIndices.length, j.nodes);
          assert.equal(new Set(placed.nodeIndices).size, j.nodes);
          for (const i of placed.nodeIndices) {
            assert.ok(Number.isInteger(i) && i >= 0 && i < nodes.length);
            assert.ok(fitsNode(nodes[i]!, j.perNode));
            nodes[i] = subtractNode(nodes[i]!, j.perNode);
          }
        }
      }),
      RUNS,
    );
  });

  it('honours allowed accelerators, commands and center state', () => {
    fc.assert(
      fc.property(snapshotArb, (snap) => {
        const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
        const pools = poolsOf(snap);
        for (const placed of schedule(snap).placements) {
          const j = jobs.get(placed.jobId)!;
          const { center: c, pool: p } = pools.get(placed.poolId)!;
          assert.equal(placed.centerId, c.id);
          assert.equal(c.state, 'online');
          if (j.allowedAccelerators.length > 0) assert.ok(p.accelerator !== null && j.allowedAccelerators.includes(p.accelerator));
          if (j.perNode.accelerators > 0) assert.notEqual(p.accelerator, null);
          if (c.commands !== null && !j.program.startsWith('/')) {
            assert.ok(c.commands.has(j.program.split('/').at(-1)!), `${j.program} at ${[...c.commands].join(',')}`);
          }
          assert.equal(staticReason(j, c, p), null);
        }
      }),
      RUNS,
    );
  });

  it('leaves a job waiting only when no pool could take it, even after the pass', () => {
    fc.assert(
      fc.property(snapshotArb, (snap) => {
        const result = schedule(snap);
        const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
        const pools = poolsOf(snap);
        const free = freeAfter(snap, result);
        for (const w of result.waiting) {
          const j = jobs.get(w.jobId)!;
          assert.equal(w.explanation.infeasible.length, pools.size, 'every pool is accounted for');
          for (const i of w.explanation.infeasible) {
            const { center: c, pool: p } = pools.get(i.poolId!)!;
            const reason = staticReason(j, c, p);
            if (i.reason === 'center-offline') assert.ok(reason === null && c.state !== 'online');
            else if (i.reason === 'insufficient-capacity') {
              // Capacity only shrinks during a pass, so a pool too full then is too full at the end.
              assert.ok(reason === null && c.state === 'online');
              assert.ok(free.get(p.id)!.filter((n) => fitsNode(n, j.perNode)).length < j.nodes);
            } else assert.equal(i.reason, reason);
          }
          if (!checkFeasible(j, snap.centers).feasible && pools.size > 0) {
            assert.match(w.explanation.summary, /^can never run as asked: /);
          }
        }
      }),
      RUNS,
    );
  });

  it('explains each placement: the chosen option first, the best few others, the rest infeasible', () => {
    fc.assert(
      fc.property(snapshotArb, policyArb, (snap, policy) => {
        const pools = poolsOf(snap);
        for (const placed of schedule(snap, policy).placements) {
          const e = placed.explanation;
          assert.deepEqual(e.chosen, placed.option);
          assert.equal(placed.option.poolId, placed.poolId);
          assert.ok(e.alternatives.length <= policy.maxAlternatives);
          for (const alt of e.alternatives) assert.ok(alt.score >= placed.option.score);
          assert.ok(1 + e.alternatives.length + e.infeasible.length <= pools.size);
          assert.equal(new Set([placed.poolId, ...e.alternatives.map((o) => o.poolId), ...e.infeasible.map((i) => i.poolId)]).size, 1 + e.alternatives.length + e.infeasible.length);
          assert.ok(Number.isSafeInteger(placed.option.costFen) && placed.option.costFen >= 0);
          assert.equal(placed.option.startAt, snap.now);
          assert.ok(e.summary.length > 0 && !e.summary.includes('\n'));
        }
      }),
      RUNS,
    );
  });

  it('is deterministic and independent of the order of jobs, centers and pools', () => {
    fc.assert(
      fc.property(snapshotArb, policyArb, fc.integer(), (snap, policy, seed) => {
        const expected = schedule(snap, policy);
        assert.deepEqual(schedule(snap, policy), expected);
        const reordered: Snapshot = {
          now: snap.now,
          jobs: shuffle(snap.jobs, seed),
          centers: shuffle(snap.centers, seed + 1).map((c, i) => ({ ...c, pools: shuffle(c.pools, seed + 2 + i) })),
        };
        assert.deepEqual(schedule(reordered, policy), expected);
      }),
      RUNS,
    );
  });
});
