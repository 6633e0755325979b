import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DemandProfiler } from '../demand.js';
import type { TraceHeader, TraceJob } from '../trace/types.js';
import { alibabaNetwork, capacityFor, siteFor, traceNetwork } from './trace-network.js';
import { HUB_SITES } from './china-hubs.js';

const job = (cluster: string, submitAt: number, runSeconds: number, gpus: number, cpus?: number): TraceJob => ({
  id: `${cluster}-${submitAt}`, submitAt, runSeconds, requestedSeconds: runSeconds, gpus, homeCluster: cluster, status: 'completed', ...(cpus === undefined ? {} : { cpus }),
});
const header = (over: Partial<TraceHeader> = {}): TraceHeader => ({
  format: 'elasticflow', source: 'test', startEpochS: 0, startEpochSource: 'assumed', requestedTime: 'run-time', clusters: [], ...over,
});

test('capacity rule: the quantile rounded up to whole 8-GPU nodes, never below the largest job', () => {
  const p = new DemandProfiler();
  // 10 GPUs for 99 s of 100, then 20 GPUs for 1 s: p99 = 10 → 2 nodes; peak 20 → 3 nodes.
  p.add(job('c', 0, 100, 10));
  p.add(job('c', 99, 1, 10));
  const [d] = p.finish();
  const q = capacityFor(d!, { kind: 'quantile', q: 0.99 }, 8);
  assert.deepEqual({ rule: q.ruleUnits, nodes: q.nodes, units: q.units }, { rule: 10, nodes: 2, units: 16 });
  assert.equal(q.why, 'p99 of concurrent demand 10 GPUs → 2 nodes of 8');
  const peak = capacityFor(d!, { kind: 'peak' }, 8);
  assert.equal(peak.nodes, 3);
  const big = new DemandProfiler();
  big.add(job('g', 0, 1000, 1));
  big.add(job('g', 5, 1, 64)); // one short 64-GPU job: p99 is 1 GPU, but it must fit
  const c = capacityFor(big.finish()[0]!, { kind: 'quantile', q: 0.99 }, 8);
  assert.equal(c.nodes, 8);
  assert.match(c.why, /raised to 8 for the largest job \(64 GPUs\)/);
});

test('clusters alternate east and west sites; western centers are priced lower', () => {
  const p = new DemandProfiler();
  for (let i = 1; i <= 10; i++) p.add(job(`cluster${String(i).padStart(2, '0')}`, 0, 100, 8));
  const { model, capacities } = traceNetwork(header(), p.finish());
  assert.equal(model.centers.length, 10);
  assert.deepEqual(model.centers.map((c) => c.tags[0]), ['east', 'west', 'east', 'west', 'east', 'west', 'east', 'west', 'east', 'west']);
  assert.equal(model.centers[0]!.id, 'cluster01');
  assert.equal(siteFor(0, HUB_SITES).id, 'jjj-zhangjiakou');
  assert.equal(siteFor(1, HUB_SITES).id, 'cy-tianfu');
  assert.equal(siteFor(6, HUB_SITES).id, 'jjj-zhangjiakou', 'the fourth east cluster wraps to the first east hub');
  assert.deepEqual(capacities.map((c) => c.units), Array(10).fill(8));
  const price = (i: number) => model.centers[i]!.pools[0]!.fenPerAcceleratorHour;
  assert.equal(price(0), 800);
  assert.equal(price(1), 640);
  assert.equal(model.centers[0]!.pools[0]!.accelerator, 'nvidia-v100');
  // Every pair of distinct regions used is linked.
  const regions = new Set(model.centers.map((c) => c.region));
  assert.equal(model.links.length, (regions.size * (regions.size - 1)) / 2);
});

test('an SWF machine keeps its size: MaxProcs cores on MaxNodes nodes, or one node', () => {
  const p = new DemandProfiler();
  p.add(job('hpc2n', 0, 100, 0, 200));
  const demands = p.finish();
  const seth = traceNetwork(header({ format: 'swf', maxProcs: 240, maxNodes: 240 }), demands);
  assert.deepEqual(seth.model.centers[0]!.pools[0]!.perNode, { accelerators: 0, cores: 1, memoryMiB: 256 * 1024 });
  assert.equal(seth.model.centers[0]!.pools[0]!.nodes, 240);
  assert.match(seth.capacities[0]!.why, /MaxProcs 240/);
  const odd = traceNetwork(header({ format: 'swf', maxProcs: 100 }), demands);
  assert.equal(odd.model.centers[0]!.pools[0]!.nodes, 1);
  assert.equal(odd.model.centers[0]!.pools[0]!.perNode.cores, 100);
});

test('the Alibaba cluster from its node groups: one pool per group, models as accelerators', () => {
  const { model } = alibabaNetwork([
    { accelerator: 'nvidia-p100', traceModel: 'P100', gpusPerNode: 2, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 },
    { accelerator: 'alibaba-g2', traceModel: 'G2', gpusPerNode: 8, coresPerNode: 96, memoryMiBPerNode: 786432, nodes: 3 },
  ]);
  const pools = model.centers[0]!.pools;
  assert.deepEqual(pools.map((p) => [p.name, p.accelerator, p.nodes, p.perNode.accelerators]), [
    ['p100-2x64c-256g', 'nvidia-p100', 2, 2],
    ['g2-8x96c-768g', 'alibaba-g2', 3, 8],
  ]);
});
