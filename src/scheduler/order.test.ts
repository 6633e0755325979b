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
