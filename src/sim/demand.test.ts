import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DemandProfiler } from './demand.js';
import type { TraceJob } from './trace/types.js';

const gpuJob = (cluster: string, submitAt: number, runSeconds: number, gpus: number, extra: Partial<TraceJob> = {}): TraceJob => ({
  id: `${cluster}-${submitAt}-${gpus}`, submitAt, runSeconds, requestedSeconds: runSeconds, gpus, homeCluster: cluster, status: 'completed', ...extra,
});

test('concurrent demand by hand: levels, time-weighted quantiles, peak, mean', () => {
  const p = new DemandProfiler();
  // [0,50): 2 · [50,100): 6 · [100,150): 4 · [150,300): 0 · [300,400): 1   (span 400 s)
  p.add(gpuJob('x', 0, 100, 2));
  p.add(gpuJob('x', 50, 100, 4));
  p.add(gpuJob('x', 300, 100, 1));
  const [d] = p.finish();
  assert.ok(d);
  assert.equal(d.unit, 'gpu');
  assert.equal(d.jobs, 3);
  assert.equal(d.peakUnits, 6);
  assert.equal(d.maxJobUnits, 4);
  assert.equal(d.firstSubmitAt, 0);
  assert.equal(d.lastEndAt, 400);
  assert.equal(d.lastSubmitAt, 300);
  assert.equal(d.arrivalUnits, 700 / 300); // the work offered per second of the arrival window [0, 300]
  assert.equal(d.unitSeconds, 700);
  assert.equal(d.meanUnits, 1.75);
  // Seconds at each level: 0 → 150, 1 → 100, 2 → 50, 4 → 50, 6 → 50: cumulative .375 .625 .75 .875 1
  assert.equal(d.quantile(0), 0);
  assert.equal(d.quantile(0.375), 0);
  assert.equal(d.quantile(0.5), 1);
  assert.equal(d.quantile(0.75), 2);
  assert.equal(d.quantile(0.8), 4);
  assert.equal(d.quantile(0.99), 6);
  assert.equal(d.quantile(1), 6);
});

test('a job ending as another starts is not overlap; clusters are kept apart, in name order', () => {
  const p = new DemandProfiler();
  p.add(gpuJob('b', 0, 10, 8));
  p.add(gpuJob('b', 10, 10, 8));
  p.add(gpuJob('a', 0, 10, 1));
  const ds = p.finish();
  assert.deepEqual(ds.map((d) => d.cluster), ['a', 'b']);
  assert.equal(ds[1]!.peakUnits, 8);
});

test('a cluster without GPU jobs is measured in cores, rounded up per job', () => {
  const p = new DemandProfiler();
  p.add({ ...gpuJob('hpc', 0, 100, 0), cpus: 3.2 });
  p.add({ ...gpuJob('hpc', 0, 100, 0), cpus: 2 });
  const [d] = p.finish();
  assert.equal(d!.unit, 'cpu');
  assert.equal(d!.peakUnits, 6);
  assert.equal(d!.maxJobUnits, 4);
});
