import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fitsNode, subtractNode, type NodeRequest } from '../core/resources.js';
import { center, GiB, job, NOW, pool, snapshot, type RunningSpec } from './fixtures.js';
import { checkFeasible, PoolState, schedule, type PendingJob, type Policy, type PoolView, type ScheduleResult, type Snapshot } from './index.js';

/*
 * Properties under real contention. The general generators of schedule.property.test.ts mostly make
 * jobs that can run nowhere (limits, chips, regions, data), so a pass places almost nothing and a
 * scheduler that forgets to subtract what it placed, or lets a backfilled job delay a reservation,
 * passes them. Here every job fits some pool of an empty network and the network is small and
 * partly busy: many jobs compete for few nodes, each pass places some, reserves for the head of the
 * queue and backfills around it. `generates contention` checks that this stays so.
 */

const CHIPS = ['nvidia-a100', 'ascend-910b'] as const;
const ORGS = ['org-a', 'org-b', 'org-c'] as const;
const HOUR_MS = 3_600_000;
/** Seeded for a reproducible CI run (fast-check prints the seed and path of a failure; put them here to replay). */
const SEED = 20261203;
const RUNS = { numRuns: 250, seed: SEED };

const runningArb = (cap: NodeRequest) =>
  fc.option(
    fc.record({
      share: fc.constantFrom(0.25, 0.5, 1),
      endsInHours: fc.integer({ min: 1, max: 12 }),
      gang: fc.boolean(),
      orgId: fc.constantFrom(...ORGS),
    }),
    { nil: null, freq: 2 },
  ).map((r) => (r === null ? null : { ...r, perNode: { accelerators: Math.floor(cap.accelerators * r.share), cores: Math.floor(cap.cores * r.share), memoryMiB: Math.floor(cap.memoryMiB * r.share) } }));

/** A small pool, some of its nodes partly or wholly taken by running jobs (that end within 12 hours). */
const poolArb = fc
  .record({
    accelerator: fc.constantFrom(...CHIPS),
    perNode: fc.constantFrom(4, 8),
    cores: fc.constantFrom(32, 64),
    nodes: fc.integer({ min: 2, max: 4 }),
    fenPerAcceleratorHour: fc.integer({ min: 500, max: 2000 }),
  })
  .chain((spec) => {
    const cap = { accelerators: spec.perNode, cores: spec.cores, memoryMiB: 256 * GiB };
    return fc.array(runningArb(cap), { minLength: spec.nodes, maxLength: spec.nodes }).map((runs) => {
      const running: RunningSpec[] = [];
      for (let i = 0; i < runs.length; i++) {
        const r = runs[i];
        if (!r) continue;
        const gang = r.gang && i + 1 < runs.length && runs[i + 1] !== null;
        running.push({ nodes: gang ? [i, i + 1] : [i], endsInHours: r.endsInHours, perNode: r.perNode, orgId: r.orgId });
        if (gang) i++;
      }
      return { ...spec, memoryGiB: 256, running };
    });
  });

/** A job that fits any pool of the generator when it is empty (≤ 4 accelerators, ≤ 32 cores, ≤ 2 nodes). */
const jobArb = fc.record({
  orgId: fc.constantFrom(...ORGS),
  nodes: fc.constantFrom(1, 1, 1, 2),
  gpus: fc.constantFrom(0, 1, 2, 4, 4),
  cores: fc.integer({ min: 1, max: 32 }),
  memoryGiB: fc.constantFrom(16, 64, 128),
  hours: fc.integer({ min: 1, max: 8 }),
  objective: fc.constantFrom('cheapest', 'fastest', 'greenest', 'balanced' as const),
  priority: fc.integer({ min: 0, max: 2 }),
  submittedAt: fc.integer({ min: 0, max: 5 }),
});

const contendedSnapshotArb: fc.Arbitrary<Snapshot> = fc
  .record({
    centers: fc.array(fc.array(poolArb, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 2 }),
    jobs: fc.array(jobArb, { minLength: 6, maxLength: 30 }),
    weights: fc.dictionary(fc.constantFrom(...ORGS), fc.constantFrom(1, 2, 4)),
  })
  .map((s) =>
    snapshot({
      centers: s.centers.map((pools, i) => center(`c${i}`, { region: 'east', pools: pools.map((p, k) => pool(p.accelerator, { ...p, name: `p${k}` })) })),
      jobs: s.jobs.map((j, i) => job({ ...j, id: `j${i}`, submittedAt: NOW - 60_000 + j.submittedAt })),
      orgWeights: s.weights,
    }),
  );

const policyArb: fc.Arbitrary<Policy> = fc.record({
  maxAlternatives: fc.constantFrom(0, 3),
  maxReservations: fc.constantFrom(1, 3, 64),
  lookAheadHours: fc.constantFrom(0, 6, 24),
  minSavingToWait: fc.constantFrom(0, 0.1),
  delayPerSaving: fc.constantFrom(0, 2),
});

/** When a placement's nodes come back at the latest: its stage-in and its walltime from now. */
const holdEnd = (snap: Snapshot, j: PendingJob, stageInSeconds: number) => snap.now + (stageInSeconds + j.walltimeSeconds) * 1000;

function poolById(snap: Snapshot): Map<string, PoolView> {
  return new Map(snap.centers.flatMap((c) => c.pools.map((p) => [p.id, p] as const)));
}

/** What the pass placed, as running jobs (held until the end of their stage-in and walltime). */
function placedAsRunning(snap: Snapshot, result: ScheduleResult, poolId: string) {
  const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
  return result.placements
    .filter((x) => x.poolId === poolId)
    .map((x) => ({ jobId: x.jobId, orgId: jobs.get(x.jobId)!.orgId, centerId: x.centerId, poolId: x.poolId, nodeIndices: x.nodeIndices, perNode: jobs.get(x.jobId)!.perNode, startedAt: snap.now, endsAt: holdEnd(snap, jobs.get(x.jobId)!, x.option.stageInSeconds) }));
}

describe('schedule properties under contention', { timeout: 120_000 }, () => {
  it('generates contention: every job fits an empty network, a pass places some but not all, reserves and backfills', () => {
    const samples = fc.sample(fc.tuple(contendedSnapshotArb, policyArb), { numRuns: 300, seed: SEED });
    let jobs = 0;
    let feasible = 0;
    let placed = 0;
    let withReservation = 0;
    let backfilled = 0;
    for (const [snap, policy] of samples) {
      const result = schedule(snap, policy);
      jobs += snap.jobs.length;
      placed += result.placements.length;
      const empty = { now: snap.now, links: snap.links, datasets: snap.datasets };
      feasible += snap.jobs.filter((j) => checkFeasible(j, snap.centers, empty).feasible).length;
      if (result.reservations.length > 0) withReservation++;
      // A placement on a pool that also holds a reservation: backfill around it.
      if (result.reservations.some((r) => result.placements.some((p) => p.poolId === r.poolId))) backfilled++;
    }
    const share = (n: number, of: number) => Math.round((1000 * n) / of) / 10;
    console.log(`# contention: ${jobs} jobs in ${samples.length} passes; ${share(feasible, jobs)}% can run somewhere, ${share(placed, jobs)}% placed; ${share(withReservation, samples.length)}% of passes reserve, ${share(backfilled, samples.length)}% backfill on a reserved pool`);
    assert.equal(feasible, jobs, 'every job can run on some pool');
    assert.ok(placed / jobs > 0.2 && placed / jobs < 0.8, `placed ${share(placed, jobs)}%: capacity should be scarce, not absent`);
    assert.ok(withReservation / samples.length > 0.5, 'most passes make a reservation');
    assert.ok(backfilled / samples.length > 0.2, 'many passes backfill around a reservation');
  });

  it('never over-commits a node: running jobs and the pass placements together fit its capacity', () => {
    fc.assert(
      fc.property(contendedSnapshotArb, policyArb, (snap, policy) => {
        const result = schedule(snap, policy);
        const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
        for (const p of poolById(snap).values()) {
          // From the pool's capacity, not from its free list: what runs there and what the pass put there.
          const used: NodeRequest[] = p.freeByNode.map(() => ({ accelerators: 0, cores: 0, memoryMiB: 0 }));
          const add = (i: number, r: NodeRequest) => (used[i] = { accelerators: used[i]!.accelerators + r.accelerators, cores: used[i]!.cores + r.cores, memoryMiB: used[i]!.memoryMiB + r.memoryMiB });
          for (const r of snap.running) if (r.poolId === p.id) for (const i of r.nodeIndices) add(i, r.perNode);
          for (const x of result.placements) if (x.poolId === p.id) for (const i of x.nodeIndices) add(i, jobs.get(x.jobId)!.perNode);
          used.forEach((u, i) =>
            assert.ok(u.accelerators <= p.perNode.accelerators && u.cores <= p.perNode.cores && u.memoryMiB <= p.perNode.memoryMiB, `${p.id} node ${i}: ${JSON.stringify(u)} > ${JSON.stringify(p.perNode)}`),
          );
        }
      }),
      RUNS,
    );
  });

  it('EASY backfill never delays a reservation: its nodes have room at its start with every placement of the pass', () => {
    fc.assert(
      fc.property(contendedSnapshotArb, policyArb, (snap, policy) => {
        const result = schedule(snap, policy);
        const jobs = new Map(snap.jobs.map((j) => [j.id, j]));
        const pools = poolById(snap);
        for (const r of result.reservations) {
          const head = jobs.get(r.jobId)!;
          const p = pools.get(r.poolId)!;
          const running = snap.running.filter((x) => x.poolId === r.poolId);
          const placedHere = placedAsRunning(snap, result, r.poolId);
          // Directly, per reserved node at the reserved start: free now, plus what running jobs give
          // back by then, less every placement of the pass still holding the node then.
          for (const i of r.nodeIndices) {
            let free = p.freeByNode[i]!;
            for (const x of running) if (x.nodeIndices.includes(i) && Math.max(x.endsAt, snap.now) <= r.startAt) free = subtractNode(free, { accelerators: -x.perNode.accelerators, cores: -x.perNode.cores, memoryMiB: -x.perNode.memoryMiB });
            for (const x of placedHere) if (x.nodeIndices.includes(i) && x.endsAt > r.startAt) free = subtractNode(free, x.perNode);
            assert.ok(fitsNode(free, head.perNode), `${r.jobId} reserved ${r.poolId} node ${i} at +${(r.startAt - snap.now) / HOUR_MS} h, but the pass's placements leave ${JSON.stringify(free)}`);
          }
          // And as a re-run: planning the head again with the pass's placements running, it can still
          // start no later than its reservation.
          const after = new PoolState(p, [...running, ...placedHere], snap.now);
          for (const x of placedHere) after.free.takeAt(x.nodeIndices, x.perNode);
          const again = after.earliestFit(head.nodes, head.perNode);
          assert.ok(again !== null && again.startAt <= r.startAt, `the head ${r.jobId} now starts at ${again ? `+${(again.startAt - snap.now) / HOUR_MS} h` : 'never'}, later than its reservation at +${(r.startAt - snap.now) / HOUR_MS} h`);
        }
      }),
      RUNS,
    );
  });
});

