// Preparing and replaying a trace file: a small SWF written here, so every figure is known.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { prepareTrace, runPolicy } from './run-trace.js';
import { writeFiles } from './write-files.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'suanwang-sim-run-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

// 4 processors. A: 4 procs [0,100). B: 2 procs, waits for A. C: 2 procs, waits for A, runs beside B.
const SWF = [
  '; MaxProcs: 4',
  '; MaxNodes: 4',
  '; UnixStartTime: 1000000000',
  '1   0 -1 100 4 -1 -1 4 100 -1 1 1 1 -1 -1 1 -1 -1',
  '2  10 -1  50 2 -1 -1 2  60 -1 1 1 1 -1 -1 1 -1 -1',
  '3  20 -1  30 2 -1 -1 2  60 -1 1 2 1 -1 -1 1 -1 -1',
  '',
].join('\n');

test('a trace file is read once to size the network, then replayed; the clock passed in times it', async () => {
  const path = join(dir, 'TINY-2024-1.swf.gz');
  writeFileSync(path, gzipSync(SWF));
  const prepared = await prepareTrace(path);
  assert.equal(prepared.jobs, 3);
  assert.equal(prepared.networkSource, 'trace');
  assert.equal(prepared.epochMs, 1_000_000_000_000);
  assert.deepEqual(prepared.model.centers.map((c) => [c.id, c.pools[0]!.nodes, c.pools[0]!.perNode.cores]), [['tiny', 4, 1]]);
  let t = 0;
  const clock = { now: () => (t += 250) };
  const fractions: number[] = [];
  const run = await runPolicy(prepared, 'isolated', clock, { onProgress: (_p, f) => fractions.push(f), progressEvery: 2 });
  assert.equal(run.seconds, 0.25);
  assert.equal(run.result.counters.events, 6);
  assert.equal(run.eventsPerSecond, 24);
  assert.deepEqual(fractions.slice(-1), [1]);
  assert.equal(run.result.metrics.wait.mean, (0 + 90 + 80) / 3);
  assert.equal(run.report.jobs, 3);
  const bound = await runPolicy(prepared, 'pooledBound', clock);
  assert.equal(bound.policy, 'pooledBound');
  assert.equal(bound.result.metrics.wait.mean, run.result.metrics.wait.mean, 'one center pooled is itself');
});

test('china-hubs or a network file instead of the trace network; reports written to a folder', async () => {
  const path = join(dir, 'TINY-2024-2.swf');
  writeFileSync(path, SWF);
  const hubs = await prepareTrace(path, { network: 'china-hubs' });
  assert.equal(hubs.model.centers.length, 8);
  const file = join(dir, 'net.yaml');
  writeFileSync(file, 'name: one\ncenters:\n  - id: c\n    region: r\n    energy: { priceFenPerKwh: 30, pue: 1.2, carbonKgPerKwh: 0.5 }\n    pools:\n      - { name: cpu, nodes: 2, perNode: { accelerators: 0, cores: 2, memoryGiB: 8 }, fenPerAcceleratorHour: 0, fenPerCoreHour: 10 }\n');
  const own = await prepareTrace(path, { network: file });
  assert.equal(own.model.name, 'one');
  const written = writeFiles(join(dir, 'out'), { 'a.md': '# a\n' });
  assert.equal(readFileSync(written[0]!, 'utf8'), '# a\n');
});
