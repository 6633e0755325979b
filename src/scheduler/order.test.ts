import { test } from 'node:test';
import assert from 'node:assert/strict';
import { center, cpuPool, job, NOW, snapshot } from './fixtures.js';
import { compareJobs, orderJobs, queueTime } from './order.js';
import { schedule } from './schedule.js';

const MIN = 60_000;

test('runtimeAging: a job queues as if submitted later by aging × its run-time estimate; 0 is FCFS', () => {
  const long = job({ id: 'long', submittedAt: NOW - 30 * MIN, runtimeHours: 4 });
  const short = job({ id: 'short', submittedAt: NOW - 10 * MIN, runtimeSeconds: 600 });
  const unknown = job({ id: 'unknown', submittedAt: NOW - 20 * MIN, hours: 2 }); // no estimate: its walltime counts
  assert.deepEqual(orderJobs([short, unknown, long]).map((j) => j.id), ['long', 'unknown', 'short']);
  assert.equal(queueTime(long, 0.5), NOW - 30 * MIN + 2 * 60 * MIN);
  assert.equal(queueTime(unknown, 0.5), NOW - 20 * MIN + 60 * MIN);
  assert.deepEqual(orderJobs([long, unknown, short], 0.5).map((j) => j.id), ['short', 'unknown', 'long']);
  // Priority still comes first, and ties fall to the id.
  const urgent = job({ id: 'urgent', submittedAt: NOW, runtimeHours: 10, priority: 5 });
  assert.deepEqual(orderJobs([short, urgent], 0.5).map((j) => j.id), ['urgent', 'short']);
  assert.ok(compareJobs(job({ id: 'a', submittedAt: NOW }), job({ id: 'b', submittedAt: NOW }), 1) < 0);
});

test('runtimeAging reaches the pass: the short job of an org takes the one free node first', () => {
  const centers = [center('c1', { pools: [cpuPool({ nodes: 1, cores: 4 })] })];
  const long = job({ id: 'long', submittedAt: NOW - 30 * MIN, runtimeHours: 4, hours: 4, objective: 'fastest' });
  const short = job({ id: 'short', submittedAt: NOW - 10 * MIN, runtimeSeconds: 600, objective: 'fastest' });
  const fcfs = schedule(snapshot({ centers, jobs: [long, short] }), { lookAheadHours: 0 });
  assert.deepEqual(fcfs.placements.map((p) => p.jobId), ['long']);
  const aged = schedule(snapshot({ centers, jobs: [long, short] }), { lookAheadHours: 0, runtimeAging: 1 });
  assert.deepEqual(aged.placements.map((p) => p.jobId), ['short']);
});

test('agingByWork: of two equally long jobs the narrower queues first; a CPU job counts its cores', () => {
  const wide = job({ id: 'wide', submittedAt: NOW - 30 * MIN, runtimeHours: 1, gpus: 8, nodes: 2 });
  const narrow = job({ id: 'narrow', submittedAt: NOW - 10 * MIN, runtimeHours: 1, gpus: 1 });
  const cpu = job({ id: 'cpu', submittedAt: NOW, runtimeHours: 1, cores: 4 });
  // By run time alone the older goes first; by work (run time × units) 16 GPU-hours queue behind 1 and 4.
  assert.deepEqual(orderJobs([narrow, wide], 1).map((j) => j.id), ['wide', 'narrow']);
  assert.deepEqual(orderJobs([wide, narrow, cpu], 1, true).map((j) => j.id), ['narrow', 'cpu', 'wide']);
  assert.equal(queueTime(wide, 1, true), NOW - 30 * MIN + 16 * 60 * MIN);
  assert.equal(queueTime(cpu, 0.5, true), NOW + 2 * 60 * MIN);
  assert.equal(queueTime(wide, 0, true), NOW - 30 * MIN, 'no aging: first come, first served');
});
