// The event loop on small hand-made traces whose right answers are worked out by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { center, cpuPool, gpuPool, job, network } from './fixtures.js';
import type { JobRecord } from './metrics.js';
import { POLICY_NAMES, type PolicyName } from './policies/index.js';
import { simulate, type SimulateOptions } from './simulate.js';
import type { TraceJob } from './trace/types.js';

const run = (jobs: TraceJob[], o: Partial<SimulateOptions> & Pick<SimulateOptions, 'model'>) =>
  simulate(jobs, { policy: 'isolated', keepRecords: true, ...o });
const byId = (records: readonly JobRecord[] | undefined) => new Map((records ?? []).map((r) => [r.id, r]));
const starts = (records: readonly JobRecord[] | undefined) => Object.fromEntries((records ?? []).map((r) => [r.id, r.startAt]));

const machine = (nodes: number) => network(center('c1', { pools: [cpuPool(nodes)] }));

test('FCFS: jobs that each need the whole machine run in submit order, one after another', async () => {
  // 2 one-core nodes. A [0,100), B waits for A [100,150), C waits for B [150,160).
  const r = await run([job('A', { at: 0, procs: 2, run: 100 }), job('B', { at: 1, procs: 2, run: 50 }), job('C', { at: 2, procs: 2, run: 10 })], { model: machine(2) });
  assert.deepEqual(starts(r.records), { A: 0, B: 100, C: 150 });
  assert.equal(r.metrics.wait.mean, (0 + 99 + 148) / 3);
  assert.equal(r.metrics.completion.mean, (100 + 149 + 158) / 3);
  assert.equal(r.metrics.unplaceable, 0);
});

test('FCFS: a later job that would fit never jumps a waiting job whose reservation it would delay', async () => {
  // 5 nodes. A holds 3 until 100. B needs all 5: reservation at 100.
  // C (1 node, 50 s) fits and ends at 52 <= 100: it backfills at once.
  // D (1 node, 200 s) fits too, but would hold its node past 100 and the reservation leaves nothing
  // over: it waits until B ends (110), although a node is free at 52.
  const r = await run(
    [
      job('A', { at: 0, procs: 3, run: 100 }),
      job('B', { at: 1, procs: 5, run: 10 }),
      job('C', { at: 2, procs: 1, run: 50 }),
      job('D', { at: 3, procs: 1, run: 200 }),
    ],
    { model: machine(5) },
  );
  assert.deepEqual(starts(r.records), { A: 0, B: 100, C: 2, D: 110 });
});

test('EASY: a job backfills on its requested time; the head job starts when the machine is free, never after its reservation', async () => {
  // 5 nodes. A holds 4, asks 200 s, runs 100. B needs 5: reservation at 200 (A's request).
  // D (1 node, asks 150, runs 150) ends by 153 <= 200: backfills at 3.
  // A really ends at 100, but D holds a node until 153: B starts at 153, still before its reservation.
  const r = await run(
    [job('A', { at: 0, procs: 4, run: 100, req: 200 }), job('B', { at: 1, procs: 5, run: 10 }), job('D', { at: 3, procs: 1, run: 150, req: 150 })],
    { model: machine(5) },
  );
  assert.deepEqual(starts(r.records), { A: 0, B: 153, D: 3 });
  // With D asking more than the reservation allows, it may not backfill: it runs after B.
  const late = await run(
    [job('A', { at: 0, procs: 4, run: 100, req: 200 }), job('B', { at: 1, procs: 5, run: 10 }), job('D', { at: 3, procs: 1, run: 150, req: 250 })],
    { model: machine(5) },
  );
  assert.deepEqual(starts(late.records), { A: 0, B: 100, D: 110 });
});

test('utilisation is exact: busy core-seconds over capacity × span, and per bucket', async () => {
  // 2 nodes over [0, 150]: A holds 1 over [0,100), B holds 2 over [100,150): 200 of 300 core-seconds.
  const r = await run([job('A', { at: 0, procs: 1, run: 100 }), job('B', { at: 0, procs: 2, run: 50 })], { model: machine(2), bucketSeconds: 50 });
  assert.deepEqual(starts(r.records), { A: 0, B: 100 });
  assert.equal(r.metrics.utilisation.cores, 2 / 3);
  assert.deepEqual(r.metrics.centers[0]!.series, [0.5, 0.5, 1]);
  assert.equal(r.metrics.centers[0]!.busyUnitSeconds, 200);
});

test('a gang waits until one node has room, though the pool has enough GPUs in all', async () => {
  // 2 nodes × 8 GPUs. A takes 6 on node 0 (until 100), B 6 on node 1 (until 50): 2 + 2 GPUs free.
  // C asks 4 GPUs on one node: 4 are free, but on no single node; it starts when B ends at 50.
  // D asks 16 GPUs = 2 whole nodes: it waits for both, then for C (reservation honoured: 100 + C's 10).
  const model = network(center('c1', { pools: [gpuPool('nvidia-v100', 2)] }));
  const r = await run(
    [
      job('A', { at: 0, gpus: 6, run: 100 }),
      job('B', { at: 0, gpus: 6, run: 50 }),
      job('C', { at: 1, gpus: 4, run: 10 }),
      job('D', { at: 2, gpus: 16, run: 10 }),
    ],
    { model },
  );
  assert.deepEqual(starts(r.records), { A: 0, B: 0, C: 50, D: 100 });
  assert.equal(byId(r.records).get('D')!.accelerators, 16);
});

test('a job no center can ever run is unplaceable with the scheduler’s reason', async () => {
  const r = await run([job('big', { at: 0, procs: 3, run: 10 }), job('ok', { at: 0, procs: 1, run: 10 })], { model: machine(2) });
  assert.equal(r.metrics.jobs, 1);
  assert.deepEqual(r.metrics.unplaceableByReason, { 'gang-does-not-fit': 1 });
  assert.match(r.unplaceableExamples[0]!.detail ?? '', /3 nodes/);
});

test('run time scales with the chip: the trace’s reference chip over the chosen one (FP16)', async () => {
  // V100 125 TFLOPS, A100 312: a 312-second V100 run takes 125 s on an A100.
  const model = network(center('c1', { pools: [gpuPool('nvidia-a100', 1)] }));
  const r = await run([job('A', { at: 0, gpus: 8, run: 312 })], { model });
  assert.equal(r.records![0]!.endAt, 125);
  // The reference chip is an option.
  const same = await run([job('A', { at: 0, gpus: 8, run: 312 })], { model, referenceAccelerator: 'nvidia-a100' });
  assert.equal(same.records![0]!.endAt, 312);
});

test('stage-in: a job run away from its data waits for it on the nodes, and its bytes and egress count', async () => {
  // c1 is full for 1000 s; c2 is idle. 10 GB over 10 Gbit/s with 5 ms latency: 8.005 s, 50 fen/GB → 500 fen.
  const model = network(center('c1', { pools: [cpuPool(1)] }), center('c2', { pools: [cpuPool(1)] }));
  const r = await run([job('hog', { at: 0, run: 1000, home: 'c1' }), job('A', { at: 1, run: 100, home: 'c1' })], { model, policy: 'fastest', inputGB: 10 });
  const a = byId(r.records).get('A')!;
  assert.equal(a.centerId, 'c2');
  assert.equal(a.startAt, 1);
  assert.ok(Math.abs(a.endAt - (1 + 8.005 + 100)) < 1e-9, `ends at ${a.endAt}`);
  assert.equal(a.bytesMoved, 10e9);
  assert.equal(byId(r.records).get('hog')!.bytesMoved, 0);
  assert.equal(r.metrics.bytesMoved, 10e9);
  // 100 s of one core at 10 fen/core-hour rounds to 0 fen; the egress is 500.
  assert.equal(a.costFen, 500);
});

// A small federation for the policy tests: three centers, the third cheaper and greener.
const fed = () =>
  network(
    center('c1', { pools: [cpuPool(2)], carbon: 0.8 }),
    center('c2', { pools: [cpuPool(2)], carbon: 0.6 }),
    center('c3', { pools: [cpuPool(2, { fenPerCoreHour: 5 })], carbon: 0.1 }),
  );

test('isolated keeps every job at home; late binding moves them where there is room', async () => {
  const jobs = [0, 1, 2, 3].map((i) => job(`j${i}`, { at: i, run: 100, procs: 2, home: 'c1' }));
  const iso = await run(jobs, { model: fed() });
  assert.deepEqual([...new Set(iso.records!.map((r) => r.centerId))], ['c1']);
  assert.deepEqual(starts(iso.records), { j0: 0, j1: 100, j2: 200, j3: 300 });
  const fast = await run(jobs, { model: fed(), policy: 'fastest' });
  assert.equal(fast.metrics.wait.max, 97, 'three centers take three jobs at once; the fourth waits for the first to end');
  const green = await run(jobs, { model: fed(), policy: 'greenest' });
  assert.equal(byId(green.records).get('j0')!.centerId, 'c3');
});

test('early binding: round-robin cycles, least-loaded fills the idle center, cheapest-static binds to the cheapest spec', async () => {
  const jobs = [0, 1, 2, 3].map((i) => job(`j${i}`, { at: i, run: 100, procs: 1, home: 'c1' }));
  const rr = await run(jobs, { model: fed(), policy: 'round-robin' });
  assert.deepEqual(rr.records!.map((r) => `${r.id}@${r.centerId}`).sort(), ['j0@c1', 'j1@c2', 'j2@c3', 'j3@c1']);
  const ll = await run(jobs, { model: fed(), policy: 'least-loaded' });
  // Loads: all 0 → c1; then c1 at 1/2 → c2; then c3; then all at 1/2 → c1.
  assert.deepEqual(ll.records!.map((r) => `${r.id}@${r.centerId}`).sort(), ['j0@c1', 'j1@c2', 'j2@c3', 'j3@c1']);
  const cs = await run(jobs, { model: fed(), policy: 'cheapest-static' });
  assert.deepEqual([...new Set(cs.records!.map((r) => r.centerId))], ['c3'], 'c3 is cheapest, so every job queues there');
  assert.deepEqual(starts(cs.records), { j0: 0, j1: 1, j2: 100, j3: 101 });
});

test('the same seed gives the same result, to the last byte of JSON', async () => {
  const jobs = Array.from({ length: 60 }, (_, i) => job(`j${i}`, { at: i * 7, run: 50 + ((i * 37) % 200), procs: 1 + (i % 2), home: ['c1', 'c2', 'c3'][i % 3]! }));
  const a = await run(jobs, { model: fed(), policy: 'random', seed: 7 });
  const b = await run(jobs, { model: fed(), policy: 'random', seed: 7 });
  const c = await run(jobs, { model: fed(), policy: 'random', seed: 8 });
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  assert.notEqual(JSON.stringify(a.records), JSON.stringify(c.records));
});

// A pseudo-random trace from a linear congruential generator (no Math.random in pure code).
function randomTrace(n: number, seed: number, homes: readonly string[], gpus: boolean): TraceJob[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out: TraceJob[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += Math.floor(next() * 40);
    const run = 1 + Math.floor(next() * 400);
    const req = run + Math.floor(next() * 300);
    const size = gpus ? [1, 1, 2, 4, 8, 16][Math.floor(next() * 6)]! : 1 + Math.floor(next() * 4);
    out.push(job(`j${i}`, { at: t, run, req, home: homes[Math.floor(next() * homes.length)]!, ...(gpus ? { gpus: size } : { procs: size }) }));
  }
  return out;
}

test('the pass filter changes no decision: every policy, filtered or given the whole queue, runs every job the same', async () => {
  const cpu = network(
    center('c1', { pools: [cpuPool(4), cpuPool(2, { name: 'fat', cores: 2 })], region: 'east' }),
    center('c2', { pools: [cpuPool(3)], region: 'east', carbon: 0.2 }),
    center('c3', { pools: [cpuPool(5, { fenPerCoreHour: 6 })], carbon: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9] }),
  );
  const gpu = network(
    center('c1', { pools: [gpuPool('nvidia-v100', 2), gpuPool('nvidia-a100', 1)] }),
    center('c2', { pools: [gpuPool('ascend-910b', 3)], carbon: 0.1 }),
  );
  for (const [model, jobs] of [
    [cpu, randomTrace(150, 11, ['c1', 'c2', 'c3'], false)],
    [gpu, randomTrace(120, 5, ['c1', 'c2'], true)],
  ] as const) {
    for (const policy of POLICY_NAMES as readonly PolicyName[]) {
      const filtered = await run(jobs, { model, policy, epochMs: Date.UTC(2024, 0, 1) });
      const whole = await run(jobs, { model, policy, epochMs: Date.UTC(2024, 0, 1), filterPasses: false });
      assert.deepEqual(filtered.records, whole.records, `${policy}: the same runs`);
      assert.ok(filtered.counters.jobsInPasses <= whole.counters.jobsInPasses);
    }
    // The bench's other queue: one queue for every org (no fair share), aged by work.
    const scheduler = { runtimeAging: 4, agingByWork: true, fairShare: false, lookAheadHours: 0 };
    for (const policy of ['balanced', 'greenest'] as const) {
      const filtered = await run(jobs, { model, policy, epochMs: Date.UTC(2024, 0, 1), scheduler });
      const whole = await run(jobs, { model, policy, epochMs: Date.UTC(2024, 0, 1), scheduler, filterPasses: false });
      assert.deepEqual(filtered.records, whole.records, `${policy} in one queue: the same runs`);
    }
  }
});

test('a cap on the pass cadence batches events: fewer passes, jobs start at the next pass', async () => {
  const jobs = [job('A', { at: 0, run: 100 }), job('B', { at: 1, run: 10 }), job('C', { at: 2, run: 10 })];
  const r = await run(jobs, { model: machine(3), minPassIntervalS: 30 });
  assert.deepEqual(starts(r.records), { A: 0, B: 30, C: 30 });
  assert.equal(r.counters.passes, 2);
});
