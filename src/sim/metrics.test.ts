import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundedSlowdown, computeMetrics, percentile, summarize, type JobRecord } from './metrics.js';

const rec = (id: string, submitAt: number, startAt: number, endAt: number, over: Partial<JobRecord> = {}): JobRecord => ({
  id, submitAt, startAt, endAt, centerId: 'c', accelerators: 1, cores: 8, costFen: 0, energyKwh: 0, carbonKg: 0, bytesMoved: 0, ...over,
});

test('nearest-rank percentiles: the value at rank ⌈p·N/100⌉, always an observed value', () => {
  const xs = Float64Array.from({ length: 20 }, (_, i) => i + 1); // 1..20
  assert.equal(percentile(xs, 50), 10);
  assert.equal(percentile(xs, 95), 19, 'rank 19 exactly, not 20 through rounding error');
  assert.equal(percentile(xs, 99), 20);
  assert.equal(percentile(xs, 0), 1);
  assert.equal(percentile(xs, 100), 20);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([], 50), null);
  assert.equal(percentile([15, 20, 35, 40, 50], 40), 20); // the textbook example: rank 2
  assert.throws(() => percentile([1], 101), /between 0 and 100/);
  assert.deepEqual(summarize([3, 1, 2, 4]), { count: 4, mean: 2.5, p50: 2, p95: 4, p99: 4, max: 4 });
  assert.deepEqual(summarize([]), { count: 0, mean: null, p50: null, p95: null, p99: null, max: null });
});

test('bounded slowdown with τ = 10 s', () => {
  assert.equal(boundedSlowdown(0, 100), 1);
  assert.equal(boundedSlowdown(100, 100), 2);
  assert.equal(boundedSlowdown(20, 1), 2.1, 'a 1-second job that waited 20 s: (20 + 1) / 10');
  assert.equal(boundedSlowdown(5, 1), 1, 'never below 1');
});

test('utilisation of two jobs on a 2-GPU center, exactly, overall and per 50-second bucket', () => {
  // A holds 1 GPU over [0, 100), B holds 1 GPU over [50, 150): 200 GPU-seconds of 2 × 150.
  const m = computeMetrics(
    [rec('A', 0, 0, 100, { centerId: 'gpu2' }), rec('B', 0, 50, 150, { centerId: 'gpu2' })],
    [],
    { centers: [{ id: 'gpu2', unit: 'accelerators', capacity: 2 }], bucketSeconds: 50 },
  );
  const c = m.centers[0]!;
  assert.equal(m.from, 0);
  assert.equal(m.to, 150);
  assert.equal(c.busyUnitSeconds, 200);
  assert.equal(c.utilisation, 2 / 3);
  assert.deepEqual(c.series, [0.5, 1, 0.5]);
  assert.equal(m.utilisation.accelerators, 2 / 3);
  assert.equal(m.utilisation.cores, null);
});

test('utilisation buckets: a job spanning many buckets, partial ends, a short last bucket, a window that clips', () => {
  // 3 GPUs over [25, 275) on a 4-GPU center; buckets of 100 over [0, 250] (the last is 50 s long).
  const m = computeMetrics([rec('long', 0, 25, 275, { accelerators: 3 })], [], {
    centers: [{ id: 'c', unit: 'accelerators', capacity: 4 }],
    bucketSeconds: 100,
    from: 0,
    to: 250,
  });
  const c = m.centers[0]!;
  assert.equal(c.busyUnitSeconds, 3 * 225);
  assert.equal(c.utilisation, 675 / 1000);
  assert.deepEqual(c.series, [(3 * 75) / 400, 3 / 4, 3 / 4]);
});

test('a CPU center counts cores; jobs at other centers do not count', () => {
  const m = computeMetrics(
    [rec('cpu', 0, 0, 10, { centerId: 'hpc', cores: 30 }), rec('gpu', 0, 0, 10, { centerId: 'g', accelerators: 2 })],
    [],
    { centers: [{ id: 'hpc', unit: 'cores', capacity: 60 }, { id: 'g', unit: 'accelerators', capacity: 8 }] },
  );
  assert.equal(m.centers[0]!.utilisation, 0.5);
  assert.equal(m.centers[1]!.utilisation, 0.25);
  assert.equal(m.utilisation.cores, 0.5);
  assert.throws(
    () => computeMetrics([rec('x', 0, 0, 1, { centerId: 'nowhere' })], [], { centers: [] }),
    /job x ran at center "nowhere", which is not among the centers/,
  );
});

test('waits, completions, slowdowns, totals and unplaceable jobs by reason', () => {
  const m = computeMetrics(
    [
      rec('a', 0, 0, 100, { costFen: 120, energyKwh: 1.5, carbonKg: 0.75, bytesMoved: 1e9 }),
      rec('b', 10, 30, 40, { costFen: 30, energyKwh: 0.5, carbonKg: 0.25 }),
      rec('c', 20, 120, 220, { runSeconds: 90, costFen: 50, energyKwh: 1, carbonKg: 0.5, bytesMoved: 5e8 }),
    ],
    [
      { id: 'u1', submitAt: 5, reason: 'no-adapted-accelerator' },
      { id: 'u2', submitAt: 6, reason: 'gang-does-not-fit', detail: '64 GPUs in one gang; the largest pool has 32' },
      { id: 'u3', submitAt: 7, reason: 'no-adapted-accelerator' },
    ],
    { centers: [{ id: 'c', unit: 'accelerators', capacity: 4 }] },
  );
  assert.equal(m.jobs, 3);
  assert.deepEqual(m.wait, { count: 3, mean: 40, p50: 20, p95: 100, p99: 100, max: 100 });
  assert.deepEqual(m.completion, { count: 3, mean: 110, p50: 100, p95: 200, p99: 200, max: 200 });
  // a: 1; b: (20 + 10) / 10 = 3; c: (100 + 90) / 90
  assert.deepEqual([m.boundedSlowdown.p50, m.boundedSlowdown.max], [190 / 90, 3]);
  assert.equal(m.costFen, 200);
  assert.equal(m.energyKwh, 3);
  assert.equal(m.carbonKg, 1.5);
  assert.equal(m.bytesMoved, 1.5e9);
  assert.equal(m.unplaceable, 3);
  assert.deepEqual(m.unplaceableByReason, { 'no-adapted-accelerator': 2, 'gang-does-not-fit': 1 });
  assert.equal(m.from, 0);
  assert.equal(m.to, 220);
  assert.equal(m.centers[0]!.costFen, 200);
});

test('no records: null summaries and zero utilisation, not errors', () => {
  const m = computeMetrics([], [], { centers: [{ id: 'c', unit: 'accelerators', capacity: 8 }] });
  assert.equal(m.wait.mean, null);
  assert.equal(m.centers[0]!.utilisation, 0);
  assert.deepEqual(m.centers[0]!.series, [0]);
});
