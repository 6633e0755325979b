import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fitsNode, subtractNode, type NodeRequest } from '../core/resources.js';
import { seededRng, randomInt } from '../core/rng.js';
import { center, dataset, GiB, job, link, NOW, pool, snapshot, type RunningSpec } from './fixtures.js';
import {
  checkFeasible,
  cheapestCost,
  DataRoutes,
  estimate,
  isPermanentReason,
  isStaticReason,
  limitReason,
  OBJECTIVES,
  PoolState,
  schedule,
  staticReason,
  type CenterView,
  type JobObjective,
  type PendingJob,
  type Policy,
  type PoolView,
  type ScheduleResult,
  type Snapshot,
} from './index.js';

const CHIPS = ['nvidia-a100', 'ascend-910b', 'hygon-z100', 'cambricon-mlu370-x8'] as const;
const REGIONS = ['east', 'west', 'north'] as const;
const ORGS = ['org-a', 'org-b', 'org-c'] as const;
const PROGRAMS = ['python', 'torchrun', 'bash', 'scripts/torchrun', './python', '/opt/tools/run'] as const;
const DATASETS = [
  dataset('ds-small', { gb: 10, regions: ['east'] }),
  dataset('ds-big', { gb: 2000, regions: ['west', 'north'] }),
  dataset('ds-lost', { gb: 1, regions: ['moon'] }),
];
const HOUR_MS = 3_600_000;

const nodeRunArb = (acc: number, cores: number, memoryGiB: number) =>
  fc.option(
    fc.record({
      accelerators: fc.integer({ min: 0, max: acc }),
      cores: fc.integer({ min: 0, max: cores }),
      memoryMiB: fc.constantFrom(0, (memoryGiB / 2) * GiB, memoryGiB * GiB),
      endsInHours: fc.integer({ min: -1, max: 30 }),
      gang: fc.boolean(),
      orgId: fc.constantFrom(...ORGS),
    }),
    { nil: null, freq: 2 },
  );

const poolArb = fc
  .record({
    accelerator: fc.option(fc.constantFrom(...CHIPS), { nil: null }),
    perNode: fc.constantFrom(1, 4, 8),
    cores: fc.constantFrom(8, 16, 64),
    memoryGiB: fc.constantFrom(64, 256),
    nodes: fc.integer({ min: 0, max: 5 }),
    fenPerAcceleratorHour: fc.integer({ min: 0, max: 4000 }),
    fenPerCoreHour: fc.integer({ min: 0, max: 30 }),
    priceFactorByHour: fc.option(fc.array(fc.constantFrom(0.5, 1, 1.5), { minLength: 24, maxLength: 24 }), { nil: null }),
  })
  .chain((spec) => {
    const acc = spec.accelerator === null ? 0 : spec.perNode;
    return fc.array(nodeRunArb(acc, spec.cores, spec.memoryGiB), { minLength: spec.nodes, maxLength: spec.nodes }).map((runs) => {
      const running: RunningSpec[] = [];
      for (let i = 0; i < runs.length; i++) {
        const r = runs[i];
        if (!r) continue;
        const perNode = { accelerators: r.accelerators, cores: r.cores, memoryMiB: r.memoryMiB };
        const gang = r.gang && i + 1 < runs.length && runs[i + 1] !== null;
        running.push({ nodes: gang ? [i, i + 1] : [i], endsInHours: r.endsInHours, perNode, orgId: r.orgId });
        if (gang) i++;
      }
      return { ...spec, perNode: acc, running };
    });
  });

const centerArb = fc.record({
  state: fc.constantFrom('online', 'online', 'online', 'draining', 'offline' as const),
  region: fc.constantFrom(...REGIONS),
  commands: fc.option(fc.subarray(['python', 'torchrun', 'bash']), { nil: null }),
  carbonKgPerKwh: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 24, maxLength: 24 }),
  pue: fc.double({ min: 1, max: 2, noNaN: true }),
  utcOffsetHours: fc.constantFrom(8, 0, -5, 5.5),
  pools: fc.array(poolArb, { maxLength: 3 }),
});

const objectiveArb: fc.Arbitrary<JobObjective> = fc.oneof(
  fc.constantFrom(...OBJECTIVES),
  fc.record({ cost: fc.integer({ min: 0, max: 3 }), time: fc.integer({ min: 0, max: 3 }), carbon: fc.integer({ min: 0, max: 3 }) }).map((weights) => ({ weights })),
);

const jobArb = fc.record({
  orgId: fc.constantFrom(...ORGS),
  nodes: fc.integer({ min: 1, max: 3 }),
  gpus: fc.constantFrom(0, 0, 1, 2, 4, 8),
  cores: fc.integer({ min: 1, max: 64 }),
  memoryGiB: fc.constantFrom(1, 16, 64, 256),
  hours: fc.integer({ min: 1, max: 8 }),
  runtimeHours: fc.option(fc.constantFrom(0.25, 0.5, 1, 2, 4, 6), { nil: undefined }),
  reference: fc.option(fc.constantFrom(...CHIPS), { nil: undefined }),
  speedMetric: fc.constantFrom('fp16', 'fp16', 'fp32' as const),
  adaptation: fc.option(fc.dictionary(fc.constantFrom(...CHIPS), fc.constantFrom(0, 0.5, 1, 1.2)), { nil: null }),
  allow: fc.subarray([...CHIPS], { maxLength: 2 }),
  forbid: fc.subarray([...CHIPS], { maxLength: 1 }),
  regions: fc.oneof(fc.constant([] as string[]), fc.subarray([...REGIONS], { minLength: 1 })),
  deadlineInHours: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
  budgetFen: fc.option(fc.integer({ min: 0, max: 50_000 }), { nil: undefined }),
  inputs: fc.subarray(['ds-small', 'ds-big', 'ds-lost', 'ds-unknown']),
  program: fc.constantFrom(...PROGRAMS),
  objective: objectiveArb,
  priority: fc.integer({ min: 0, max: 2 }),
  submittedAt: fc.integer({ min: 0, max: 3 }),
});

const linkArb = fc.record({
  pair: fc.constantFrom<[string, string]>(['east', 'west'], ['west', 'north'], ['east', 'north'], ['moon', 'east'], ['west', 'west']),
  mbps: fc.constantFrom(100, 1000, 10_000),
  latencyMs: fc.integer({ min: 0, max: 50 }),
  fenPerGB: fc.integer({ min: 0, max: 50 }),
});

const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .record({
    now: fc.integer({ min: NOW, max: NOW + 86_400_000 }),
    centers: fc.array(centerArb, { maxLength: 4 }),
    jobs: fc.array(jobArb, { maxLength: 25 }),
    links: fc.array(linkArb, { maxLength: 4 }),
    weights: fc.dictionary(fc.constantFrom(...ORGS), fc.constantFrom(1, 2, 4)),
  })
  .map((s) => {
    const centers = s.centers.map((c, i) => center(`c${i}`, { ...c, pools: c.pools.map((p, k) => pool(p.accelerator, { ...p, name: `p${k}` })) }));
    const base = snapshot({
      centers,
      jobs: s.jobs.map((j, i) => job({ ...j, id: `j${i}` })),
      links: s.links.map((l) => link(l.pair[0], l.pair[1], l)),
      datasets: DATASETS,
      orgWeights: s.weights,
    });
    // The fixtures' running jobs end relative to the fixtures' NOW; move them with the snapshot's now.
    return { ...base, now: s.now, running: base.running.map((r) => ({ ...r, endsAt: r.endsAt - NOW + s.now })) };
  });

const policyArb: fc.Arbitrary<Policy> = fc.record({
  maxAlternatives: fc.integer({ min: 0, max: 4 }),
  maxReservations: fc.constantFrom(0, 1, 3, 64),
  lookAheadHours: fc.constantFrom(0, 6, 24),
  minSavingToWait: fc.constantFrom(0, 0.1, 0.5),
  delayPerSaving: fc.constantFrom(0, 1, 1000),
});

const RUNS = { numRuns: 300 };

function poolsOf(snap: Snapshot): Map<string, { center: CenterView; pool: PoolView }> {
  const out = new Map<string, { center: CenterView; pool: PoolView }>();
  for (const c of snap.centers) for (const p of c.pools) out.set(p.id, { center: c, pool: p });
  return out;
}

/** Free capacity per pool after the placements of a pass, computed from scratch. */
function freeAfter(snap: Snapshot, result: ScheduleResult): Map<string, NodeRequest[]> {
  const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
  const free = new Map<string, NodeRequest[]>();
  for (const c of snap.centers) for (const p of c.pools) free.set(p.id, [...p.freeByNode]);
  for (const placed of result.placements) {
    const nodes = free.get(placed.poolId)!;
    for (const i of placed.nodeIndices) nodes[i] = subtractNode(nodes[i]!, jobs.get(placed.jobId)!.perNode);
  }
  return free;
}

/** Every plan of a pass: placements, reservations and deferred starts, with their job. */
function plansOf(snap: Snapshot, result: ScheduleResult) {
  const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
  return [
    ...result.placements.map((p) => ({ job: jobs.get(p.jobId)!, option: p.option })),
    ...result.waiting.filter((w) => w.explanation.chosen !== null).map((w) => ({ job: jobs.get(w.jobId)!, option: w.explanation.chosen! })),
  ];
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

/** When a placement's nodes come back at the latest: its stage-in and its walltime from now. */
const holdEnd = (snap: Snapshot, j: PendingJob, stageInSeconds: number) => snap.now + (stageInSeconds + j.walltimeSeconds) * 1000;

describe('schedule properties', () => {
  it('decides every job exactly once; every reservation is a waiting job’s plan', () => {
    fc.assert(
      fc.property(snapshotArb, policyArb, (snap, policy) => {
        const result = schedule(snap, policy);
        const decided = [...result.placements.map((p) => p.jobId), ...result.waiting.map((w) => w.jobId)];
        assert.deepEqual([...decided].sort(), snap.jobs.map((j) => j.id).sort());
        assert.ok(result.reservations.length <= policy.maxReservations);
        assert.equal(new Set(result.reservations.map((r) => r.poolId)).size, result.reservations.length, 'one per pool');
        for (const r of result.reservations) {
          const w = result.waiting.find((x) => x.jobId === r.jobId)!;
          assert.deepEqual(w.explanation.wait, { kind: 'capacity', reservedAt: r.startAt });
          assert.deepEqual(w.explanation.chosen, r.option);
          assert.ok(r.startAt >= snap.now);
        }
      }),
      RUNS,
    );
  });

  it('never over-allocates any node of any pool', () => {
    fc.assert(
      fc.property(snapshotArb, policyArb, (snap, policy) => {
        for (const nodes of freeAfter(snap, schedule(snap, policy)).values()) {
          for (const n of nodes) assert.ok(n.accelerators >= 0 && n.cores >= 0 && n.memoryMiB >= 0, JSON.stringify(n));
        }
      }),
      RUNS,
    );
  });

  it('places a gang on exactly its number of distinct nodes, each with room for it, all or nothing', () => {
    fc.assert(
      fc.property(snapshotArb, (snap) => {
        const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
        const pools = poolsOf(snap);
        const free = new Map([...pools].map(([id, p]) => [id, [...p.pool.freeByNode]]));
        const result = schedule(snap);
        for (const placed of [...result.placements, ...result.reservations]) {
          const j = jobs.get(placed.jobId)!;
          assert.equal(placed.nodeIndices.length, j.nodes);
          assert.equal(new Set(placed.nodeIndices).size, j.nodes);
          for (const i of placed.nodeIndices) assert.ok(Number.isInteger(i) && i >= 0 && i < free.get(placed.poolId)!.length);
        }
        for (const placed of result.placements) {
          const j = jobs.get(placed.jobId)!;
          const nodes = free.get(placed.poolId)!;
          for (const i of placed.nodeIndices) {
            assert.ok(fitsNode(nodes[i]!, j.perNode));
            nodes[i] = subtractNode(nodes[i]!, j.perNode);
          }
        }
      }),
      RUNS,
    );
  });

  it('honours hard limits and adaptation in every plan, with the figures `estimate` gives', () => {
    fc.assert(
      fc.property(snapshotArb, policyArb, (snap, policy) => {
        const pools = poolsOf(snap);
        const routes = new DataRoutes(snap.links, snap.datasets);
        for (const { job: j, option: o } of plansOf(snap, schedule(snap, policy))) {
          const { center: c, pool: p } = pools.get(o.poolId)!;
          assert.equal(o.centerId, c.id);
          assert.equal(c.state, 'online');
          assert.equal(staticReason(j, c, p), null);
          if (j.allowedRegions.length > 0) assert.ok(j.allowedRegions.includes(c.region));
          if (j.allowedAccelerators.length > 0) assert.ok(p.accelerator !== null && j.allowedAccelerators.includes(p.accelerator));
          if (p.accelerator !== null) assert.ok(!j.forbiddenAccelerators.includes(p.accelerator));
          if (j.perNode.accelerators > 0) {
            assert.notEqual(p.accelerator, null);
            if (j.adaptation !== null) assert.ok((j.adaptation[p.accelerator!] ?? 0) > 0, `${p.accelerator} is adapted`);
          }
          if (c.commands !== null && !j.program.includes('/')) {
            assert.ok(c.commands.has(j.program), `${j.program} at ${[...c.commands].join(',')}`);
          }
          assert.ok(o.runSeconds <= j.walltimeSeconds);
          if (j.deadline !== null) assert.ok(o.completionAt <= j.deadline, 'meets its deadline');
          if (j.budgetFen !== null) assert.ok(o.costFen <= j.budgetFen, 'within its budget');
          assert.ok(Number.isSafeInteger(o.costFen) && o.costFen >= 0);
          assert.equal(o.costFen, o.computeFen + o.egressFen);
          const e = estimate(j, c, p, { now: snap.now, routes }, o.startAt, o.start);
          assert.deepEqual(
            [o.stageInSeconds, o.runSeconds, o.completionAt, o.efficiency, o.computeFen, o.egressFen, o.energyKwh, o.carbonKg],
            [e.stageInSeconds, e.runSeconds, e.completionAt, e.efficiency, e.computeFen, e.egressFen, e.energyKwh, e.carbonKg],
          );
          if (o.start === 'deferred') assert.ok(o.startAt - snap.now <= policy.lookAheadHours * HOUR_MS);
        }
      }),
      RUNS,
    );
  });

  it('explains each decision: the chosen option first, the best few others, the rest infeasible, each pool once', () => {
    fc.assert(
      fc.property(snapshotArb, policyArb, (snap, policy) => {
        const pools = poolsOf(snap);
        const result = schedule(snap, policy);
        const decisions = [
          ...result.placements.map((p) => ({ e: p.explanation, poolId: p.poolId as string | null, placed: p })),
          ...result.waiting.map((w) => ({ e: w.explanation, poolId: w.explanation.chosen?.poolId ?? null, placed: null })),
        ];
        for (const { e, poolId, placed } of decisions) {
          if (placed !== null) {
            assert.deepEqual(e.chosen, placed.option);
            assert.equal(placed.option.start, 'now');
            assert.equal(placed.option.startAt, snap.now);
            assert.equal(e.wait, null);
          } else {
            assert.notEqual(e.wait, null);
            if (e.chosen !== null) assert.notEqual(e.chosen.start, 'now');
          }
          if (e.chosen === null) assert.deepEqual(e.alternatives, []);
          assert.ok(e.alternatives.length <= policy.maxAlternatives);
          const scores = e.alternatives.map((o) => o.score);
          assert.deepEqual(scores, [...scores].sort((a, b) => a - b), 'alternatives best first');
          // The chosen option scores best, except that with nothing to start now a plan much later
          // than the soonest one must save enough to be chosen (then all options are plans).
          if (e.chosen?.start === 'now' || e.alternatives.some((o) => o.start === 'now')) {
            for (const alt of e.alternatives) assert.ok(alt.score >= e.chosen!.score);
          }
          const listed = [...(poolId === null ? [] : [poolId]), ...e.alternatives.map((o) => o.poolId), ...e.infeasible.map((i) => i.poolId)];
          assert.equal(new Set(listed).size, listed.length, 'each pool at most once');
          assert.ok(listed.length <= pools.size);
          assert.ok(e.summary.length > 0 && !e.summary.includes('\n'));
        }
      }),
      RUNS,
    );
  });

  it('gives every infeasible pool its true reason, and a job that can run nowhere all of them', () => {
    fc.assert(
      fc.property(snapshotArb, policyArb, (snap, policy) => {
        const result = schedule(snap, policy);
        const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
        const pools = poolsOf(snap);
        const free = freeAfter(snap, result);
        const routes = new DataRoutes(snap.links, snap.datasets);
        const network = { now: snap.now, links: snap.links, datasets: snap.datasets };
        const decisions = [...result.placements, ...result.waiting].map((d) => ({ jobId: d.jobId, e: d.explanation }));
        for (const { jobId, e: explanation } of decisions) {
          const j = jobs.get(jobId)!;
          for (const i of explanation.infeasible) {
            const { center: c, pool: p } = pools.get(i.poolId!)!;
            const structural = staticReason(j, c, p);
            if (isStaticReason(i.reason)) {
              assert.equal(i.reason, structural);
              continue;
            }
            assert.equal(structural, null, `${i.reason} on a pool that can never run it (${structural})`);
            const e = estimate(j, c, p, { now: snap.now, routes });
            const limit = limitReason(j, e, cheapestCost(j, c, p, e));
            if (i.reason === 'over-budget') assert.ok(limit === 'over-budget' || (limit === null && e.costFen > j.budgetFen!), 'over budget now');
            else if (isPermanentReason(i.reason)) assert.equal(i.reason, limit);
            else if (i.reason === 'center-offline') assert.ok(limit === null && c.state !== 'online');
            else {
              assert.ok(limit === null && c.state === 'online');
              // Capacity only shrinks during a pass: too full then is too full at the end, unless a
              // reservation there (which this job would have outlasted) kept the room.
              const room = free.get(p.id)!.filter((n) => fitsNode(n, j.perNode)).length;
              const r = result.reservations.find((x) => x.poolId === p.id);
              assert.ok(room < j.nodes || (r !== undefined && holdEnd(snap, j, e.stageInSeconds) > r.startAt), `${room} nodes have room`);
            }
          }
          if (explanation.chosen === null) {
            assert.equal(explanation.infeasible.length, pools.size, 'with no plan, every pool is accounted for');
            const permanent = explanation.infeasible.every((i) => isPermanentReason(i.reason));
            assert.equal(explanation.wait?.kind, permanent && pools.size > 0 ? 'never' : 'capacity');
          }
          if (!checkFeasible(j, snap.centers, network).feasible && pools.size > 0) {
            assert.deepEqual(explanation.wait, { kind: 'never' });
            assert.match(explanation.summary, /^can never run as asked: /);
          }
        }
      }),
      RUNS,
    );
  });

  it('never lets a job placed in the same pass delay a reservation', () => {
    fc.assert(
      fc.property(snapshotArb, policyArb, (snap, policy) => {
        const result = schedule(snap, policy);
        const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
        const pools = poolsOf(snap);
        for (const r of result.reservations) {
          const head = jobs.get(r.jobId)!;
          const { pool: p } = pools.get(r.poolId)!;
          const here = result.placements.filter((x) => x.poolId === r.poolId);
          const running = snap.running.filter((x) => x.poolId === r.poolId);
          // Directly: at its start, every reserved node has room, counting what comes back by then
          // and every job placed in the pass that may still be running.
          for (const i of r.nodeIndices) {
            let free = p.freeByNode[i]!;
            for (const x of running) if (x.nodeIndices.includes(i) && Math.max(x.endsAt, snap.now) <= r.startAt) free = subtractNode(free, { accelerators: -x.perNode.accelerators, cores: -x.perNode.cores, memoryMiB: -x.perNode.memoryMiB });
            for (const x of here) if (x.nodeIndices.includes(i) && holdEnd(snap, jobs.get(x.jobId)!, x.option.stageInSeconds) > r.startAt) free = subtractNode(free, jobs.get(x.jobId)!.perNode);
            assert.ok(fitsNode(free, head.perNode), `node ${i} at ${r.startAt}: ${JSON.stringify(free)}`);
          }
          // And as a new reservation: with all of the pass's placements running, the head's earliest
          // start on its pool is no later than the one it holds.
          const asRunning = here.map((x) => ({
            jobId: x.jobId,
            orgId: jobs.get(x.jobId)!.orgId,
            centerId: x.centerId,
            poolId: x.poolId,
            nodeIndices: x.nodeIndices,
            perNode: jobs.get(x.jobId)!.perNode,
            startedAt: snap.now,
            endsAt: holdEnd(snap, jobs.get(x.jobId)!, x.option.stageInSeconds),
          }));
          const after = new PoolState(p, [...running, ...asRunning], snap.now);
          for (const x of asRunning) after.free.takeAt(x.nodeIndices, x.perNode);
          const again = after.earliestFit(head.nodes, head.perNode);
          assert.ok(again !== null && again.startAt <= r.startAt, `${again?.startAt} > ${r.startAt}`);
        }
      }),
      RUNS,
    );
  });

  it('is deterministic and independent of the order of every list in the snapshot', () => {
    fc.assert(
      fc.property(snapshotArb, policyArb, fc.integer(), (snap, policy, seed) => {
        // As plain data (JSON): explanations read their summaries and infeasible lists lazily.
        const plain = (s: Snapshot) => JSON.parse(JSON.stringify(schedule(s, policy))) as unknown;
        const expected = plain(snap);
        assert.deepEqual(plain(snap), expected);
        const reordered: Snapshot = {
          now: snap.now,
          jobs: shuffle(snap.jobs, seed),
          centers: shuffle(snap.centers, seed + 1).map((c, i) => ({ ...c, pools: shuffle(c.pools, seed + 2 + i) })),
          links: shuffle(snap.links, seed + 3),
          datasets: shuffle(snap.datasets, seed + 4),
          running: shuffle(snap.running, seed + 5),
          orgWeights: Object.fromEntries(shuffle(Object.entries(snap.orgWeights), seed + 6)),
        };
        assert.deepEqual(plain(reordered), expected);
      }),
      RUNS,
    );
  });
});
