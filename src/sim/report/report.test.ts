import { test } from 'node:test';
import assert from 'node:assert/strict';
import { center, cpuPool, gpuPool, job, network } from '../fixtures.js';
import { centerCapacity } from '../network-model.js';
import { pooledNetwork } from '../networks/pooled.js';
import { simulate } from '../simulate.js';
import { downsample, utilisationChart, waitCdfChart } from './charts.js';
import { renderReport } from './markdown.js';
import { progressLine } from './progress.js';
import { checkGoals, summarize, type PolicySummary } from './summary.js';
import { barChart, niceTicks } from './svg.js';

test('the pooled network has the same nodes as the whole network, in one center', () => {
  const model = network(
    center('a', { pools: [gpuPool('nvidia-v100', 3, { fenPerAcceleratorHour: 800 }), cpuPool(4, { cores: 64 })] }),
    center('b', { pools: [gpuPool('nvidia-v100', 1, { fenPerAcceleratorHour: 400 })], carbon: 0.1 }),
  );
  const pooled = pooledNetwork(model);
  assert.equal(pooled.centers.length, 1);
  const total = model.centers.map(centerCapacity).reduce((s, c) => ({ accelerators: s.accelerators + c.accelerators, cores: s.cores + c.cores }));
  assert.deepEqual(centerCapacity(pooled.centers[0]!), total);
  const gpu = pooled.centers[0]!.pools.find((p) => p.accelerator === 'nvidia-v100')!;
  assert.equal(gpu.nodes, 4);
  assert.equal(gpu.fenPerAcceleratorHour, 700, 'node-weighted: (3 × 800 + 400) / 4');
  // Carbon weighted by accelerators: a has 24, b 8.
  assert.ok(Math.abs(pooled.centers[0]!.energy.carbonKgPerKwh[0]! - (0.5 * 24 + 0.1 * 8) / 32) < 1e-9);
});

test('a summary rounds for reading; goals compare the right runs', async () => {
  const r = await simulate([job('A', { at: 0, run: 100 }), job('B', { at: 0, run: 50, procs: 2 })], { model: network(center('c1', { pools: [cpuPool(2)] })), policy: 'isolated' });
  const s = summarize(r, 1.23456);
  assert.equal(s.meanWaitS, 50);
  assert.equal(s.meanCompletionS, 125);
  assert.equal(s.utilisation, 0.6667);
  assert.equal(s.seconds, 1.23);
  assert.equal(s.events, 4);
  const base: PolicySummary = { ...s, meanWaitS: 100, meanCompletionS: 1000, carbonKg: 100 };
  const goals = checkGoals(
    { isolated: base, balanced: { ...base, meanWaitS: 40, meanCompletionS: 1050 }, pooledBound: { ...base, meanCompletionS: 1000 }, greenest: { ...base, carbonKg: 75, meanCompletionS: 1200 } },
    { seconds: 8.5, eventsPerSecond: 47_000, policy: 'isolated' },
  );
  assert.deepEqual(goals.map((g) => g.met), [true, true, false, false, true]);
  assert.match(goals[2]!.measured, /25\.0% less/);
  assert.equal(checkGoals({}, null).every((g) => g.met === null), true);
});

test('charts are well-formed SVG with one path per series, and the report links them', async () => {
  const r = await simulate([job('A', { at: 0, run: 7200 }), job('B', { at: 10, run: 30 })], { model: network(center('c1', { pools: [cpuPool(1)] })), policy: 'isolated' });
  const util = utilisationChart(r, 'utilisation <test>');
  assert.match(util, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(util, /utilisation &lt;test&gt;/);
  assert.equal((util.match(/<path /g) ?? []).length, 1);
  const cdf = waitCdfChart([{ name: 'a', result: r }, { name: 'b', result: r }], 'cdf');
  assert.equal((cdf.match(/<path /g) ?? []).length, 2);
  assert.ok(!/NaN|Infinity/.test(util + cdf));
  const bars = barChart({ title: 't', yLabel: 'y', bars: [{ label: 'x', value: 3 }, { label: 'y', value: 0 }] });
  assert.equal((bars.match(/<rect x=/g) ?? []).length, 2);
  const md = renderReport({ title: 'T', intro: [], goals: [], sections: [{ title: 'S', about: [], network: network(center('c1', { pools: [cpuPool(1)] })), capacities: [], runs: [{ name: 'isolated', summary: summarize(r), result: r }], charts: [{ file: 'x.svg', caption: 'c' }], notes: ['n'] }] });
  assert.match(md, /\| isolated \| 3,595 s \(59\.9 min\)/);
  assert.match(md, /!\[c\]\(x\.svg\)/);
});

test('helpers: downsampling keeps means, ticks are round, the progress line has an ETA', () => {
  assert.deepEqual(downsample([1, 3, 5, 7], 2).map((p) => p.value), [2, 6]);
  assert.deepEqual(downsample([1, 2], 5).map((p) => p.value), [1, 2]);
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(progressLine(0.5, 2000, 'x', 4), '[██░░]  50%  2.0 s, ETA 2.0 s  x');
  assert.equal(progressLine(1, 2000, 'x', 4), '[████] 100%  2.0 s  x');
});
