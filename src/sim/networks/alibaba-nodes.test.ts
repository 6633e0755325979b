// Issue 16: a GPU trace with model constraints on the network of its own node list places every job
// the real cluster ran; the single-model network built from demand alone could not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DemandProfiler } from '../demand.js';
import { job } from '../fixtures.js';
import { simulate } from '../simulate.js';
import { AlibabaNodeParser } from '../trace/alibaba.js';
import { alibabaNetwork, traceNetwork } from './trace-network.js';

// An excerpt in the shape of openb_node_list_all_node.csv (sn,cpu_milli,memory_mib,gpu,model).
const NODES = [
  'sn,cpu_milli,memory_mib,gpu,model',
  'n0,96000,786432,8,V100M16',
  'n1,96000,786432,8,V100M16',
  'n2,64000,262144,2,P100',
  'n3,96000,393216,2,T4',
  'n4,96000,393216,2,T4',
  'n5,128000,786432,8,G2',
  'n6,32000,262144,0,',
];

test('Alibaba: pools per node model from the node list; model-constrained tasks all place', async () => {
  const parser = new AlibabaNodeParser('excerpt');
  for (const line of NODES) parser.line(line);
  const { model } = alibabaNetwork(parser.groups());
  const accelerators = model.centers[0]!.pools.map((p) => p.accelerator);
  assert.deepEqual(accelerators, ['nvidia-v100-16gb', 'nvidia-p100', 'nvidia-t4', 'alibaba-g2', null]);
  const jobs = [
    job('t4', { at: 0, run: 100, gpus: 1, models: ['nvidia-t4'], home: 'alibaba-pai' }),
    job('t4-pair', { at: 1, run: 100, gpus: 2, models: ['nvidia-t4'], home: 'alibaba-pai' }),
    job('v100-or-p100', { at: 2, run: 100, gpus: 2, models: ['nvidia-v100-16gb', 'nvidia-p100'], home: 'alibaba-pai' }),
    job('g2', { at: 3, run: 100, gpus: 8, models: ['alibaba-g2'], home: 'alibaba-pai' }),
    job('any', { at: 4, run: 100, gpus: 8, home: 'alibaba-pai' }),
    job('cpu', { at: 5, run: 100, procs: 16, home: 'alibaba-pai' }),
  ];
  for (const policy of ['isolated', 'fastest'] as const) {
    const r = await simulate(jobs, { model, policy, keepRecords: true, clusters: ['alibaba-pai'] });
    assert.equal(r.metrics.unplaceable, 0, `${policy}: ${JSON.stringify(r.unplaceableExamples)}`);
    assert.equal(r.metrics.jobs, jobs.length);
  }
  // The network built from demand alone (one V100 pool) cannot run the T4 tasks: the flaw the issue found.
  const p = new DemandProfiler();
  for (const j of jobs) p.add(j);
  const single = traceNetwork({ format: 'alibaba', source: 'x', startEpochS: null, startEpochSource: 'unknown', requestedTime: 'run-time', clusters: ['alibaba-pai'] }, p.finish()).model;
  const r = await simulate(jobs, { model: single, policy: 'isolated', clusters: ['alibaba-pai'] });
  assert.ok(r.metrics.unplaceable >= 3);
  assert.match(r.unplaceableExamples[0]?.detail ?? '', /nvidia-t4/);
});
