import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedule } from '../scheduler/index.js';
import { DemandProfiler } from './demand.js';
import { traceNetwork } from './networks/trace-network.js';
import { buildSnapshot, jobShape, snapshotLinks, type SimJob } from './snapshot-builder.js';
import type { TraceJob } from './trace/types.js';

const tj = (over: Partial<TraceJob>): TraceJob => ({ id: 'j', submitAt: 0, runSeconds: 60, requestedSeconds: 120, gpus: 0, homeCluster: 'cluster01', status: 'completed', ...over });

test('job shapes: GPUs in whole 8-GPU nodes, cores and memory per GPU unless the trace says', () => {
  assert.deepEqual(jobShape(tj({ gpus: 1 })), { nodes: 1, perNode: { accelerators: 1, cores: 8, memoryMiB: 64 * 1024 }, walltimeSeconds: 120, allowedAccelerators: [] });
  assert.deepEqual(jobShape(tj({ gpus: 64 })).nodes, 8);
  assert.deepEqual(jobShape(tj({ gpus: 64 })).perNode.accelerators, 8);
  assert.deepEqual(jobShape(tj({ gpus: 12 })).perNode.accelerators, 6, '12 GPUs: 2 nodes of 6');
  const pod = jobShape(tj({ gpus: 1, gpuFraction: 0.46, cpus: 6, memoryMiB: 12288, nodes: 1, gpuModels: ['nvidia-t4'] }));
  assert.deepEqual(pod, { nodes: 1, perNode: { accelerators: 1, cores: 6, memoryMiB: 12288 }, walltimeSeconds: 120, allowedAccelerators: ['nvidia-t4'] });
});

test('job shapes: CPU jobs on one node up to its cores, then whole nodes; SWF memory unknown is 0', () => {
  assert.deepEqual(jobShape(tj({ cpus: 30 }), { coresPerNode: 64 }).perNode, { accelerators: 0, cores: 30, memoryMiB: 0 });
  const wide = jobShape(tj({ cpus: 200 }), { coresPerNode: 64 });
  assert.deepEqual([wide.nodes, wide.perNode.cores], [4, 50]);
  const seth = jobShape(tj({ cpus: 30 }), { coresPerNode: 1 });
  assert.deepEqual([seth.nodes, seth.perNode.cores], [30, 1]);
  assert.equal(jobShape(tj({ cpus: 1, requestedSeconds: 0.4, runSeconds: 0 })).walltimeSeconds, 1);
});

test('a snapshot built from the simulator state runs through the production scheduler', () => {
  const p = new DemandProfiler();
  p.add(tj({ homeCluster: 'cluster01', gpus: 8 }));
  p.add(tj({ homeCluster: 'cluster02', gpus: 8 }));
  const { model } = traceNetwork(
    { format: 'elasticflow', source: 't', startEpochS: 0, startEpochSource: 'assumed', requestedTime: 'run-time', clusters: [] },
    p.finish(),
  );
  const full = [{ accelerators: 0, cores: 0, memoryMiB: 0 }];
  const job = tj({ id: 'waiting-at-home', gpus: 4 });
  const pending: SimJob = { trace: job, shape: jobShape(job), submittedAtMs: 0, objective: 'cheapest', orgId: 'cluster01' };
  const snapshot = buildSnapshot({ nowMs: 60_000, model, freeByPool: new Map([['cluster02/gpu', full]]), pending: [pending] });
  assert.equal(snapshot.centers.length, 2);
  assert.equal(snapshot.jobs[0]!.walltimeSeconds, 120);
  // Regions of the two sites, each to itself, plus the link between them.
  assert.equal(snapshotLinks(model).length, 3);
  const result = schedule(snapshot);
  assert.equal(result.placements.length, 1);
  assert.equal(result.placements[0]!.poolId, 'cluster01/gpu', 'cluster02 is full');
  assert.deepEqual(result.placements[0]!.nodeIndices, [0]);
});
