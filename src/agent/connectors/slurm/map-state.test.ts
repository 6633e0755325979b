import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StopReason } from '../../run-io.js';
import { decodeExitStatus, mapSlurmState, mapVanished } from './map-state.js';

/** A Slurm job as v0.0.38 reports it: state word, state reason, raw wait status. */
const job = (state: string, exitStatus: number | null = 0, stateReason = 'None') => ({ state, stateReason, exitStatus });

describe('mapSlurmState', () => {
  const cases: [string, ReturnType<typeof job> & { restartCount?: number }, StopReason | null, { state: string; exitCode: number | null; reason: string | null; pending?: boolean }][] = [
    ['PENDING is running (the platform placed it), marked pending', job('PENDING'), null, { state: 'running', exitCode: null, reason: null, pending: true }],
    ['RUNNING', job('RUNNING'), null, { state: 'running', exitCode: null, reason: null }],
    ['COMPLETING (being killed) is still running', job('COMPLETING', 15), 'cancelled', { state: 'running', exitCode: null, reason: null }],
    ['CONFIGURING', job('CONFIGURING'), null, { state: 'running', exitCode: null, reason: null }],
    ['SUSPENDED', job('SUSPENDED'), null, { state: 'running', exitCode: null, reason: null }],
    ['an unknown state is still running', job('SOMETHING_NEW'), null, { state: 'running', exitCode: null, reason: null }],
    ['COMPLETED', job('COMPLETED', 0), null, { state: 'succeeded', exitCode: 0, reason: null }],
    ['FAILED with exit 3 (raw 768)', job('FAILED', 768, 'NonZeroExitCode'), null, { state: 'failed', exitCode: 3, reason: null }],
    ['FAILED with exit 127', job('FAILED', 127 << 8, 'NonZeroExitCode'), null, { state: 'failed', exitCode: 127, reason: 'command-not-found' }],
    ['FAILED with exit 126', job('FAILED', 126 << 8, 'NonZeroExitCode'), null, { state: 'failed', exitCode: 126, reason: 'command-not-executable' }],
    ['FAILED to launch (raw 4021, a Slurm error number)', job('FAILED', 4021, 'JobLaunchFailure'), null, { state: 'failed', exitCode: null, reason: 'launch-failed' }],
    ['CANCELLED after our cancel', job('CANCELLED', 15), 'cancelled', { state: 'cancelled', exitCode: 143, reason: 'cancelled' }],
    ['CANCELLED after our walltime stop', job('CANCELLED', 15), 'walltime-exceeded', { state: 'failed', exitCode: 143, reason: 'walltime-exceeded' }],
    ['CANCELLED by an operator', job('CANCELLED', 9), null, { state: 'cancelled', exitCode: 137, reason: 'cancelled-at-center' }],
    ['COMPLETED wins over a late cancel', job('COMPLETED', 0), 'cancelled', { state: 'succeeded', exitCode: 0, reason: null }],
    ['TIMEOUT', job('TIMEOUT', 15), null, { state: 'failed', exitCode: 143, reason: 'walltime-exceeded' }],
    ['NODE_FAIL', job('NODE_FAIL', 9), null, { state: 'failed', exitCode: 137, reason: 'node-failure' }],
    ['BOOT_FAIL', job('BOOT_FAIL', 0), null, { state: 'failed', exitCode: null, reason: 'node-failure' }],
    ['PREEMPTED', job('PREEMPTED', 15), null, { state: 'failed', exitCode: 143, reason: 'preempted' }],
    ['OUT_OF_MEMORY', job('OUT_OF_MEMORY', 9), null, { state: 'failed', exitCode: 137, reason: 'out-of-memory' }],
    ['DEADLINE', job('DEADLINE', 0), null, { state: 'failed', exitCode: null, reason: 'deadline-exceeded' }],
    ['requeued by Slurm (node failure)', { ...job('PENDING'), restartCount: 1 }, null, { state: 'failed', exitCode: null, reason: 'node-failure' }],
    ['requeued by Slurm (preemption)', { ...job('REQUEUED', 0, 'Preempted'), restartCount: 1 }, null, { state: 'failed', exitCode: null, reason: 'preempted' }],
    ['lower case from a later API version', job('completed', 0), null, { state: 'succeeded', exitCode: 0, reason: null }],
  ];
  for (const [name, input, stop, want] of cases) {
    it(name, () => {
      const got = mapSlurmState(input, stop);
      assert.deepEqual({ state: got.state, exitCode: got.exitCode, reason: got.reason }, { state: want.state, exitCode: want.exitCode, reason: want.reason });
      assert.equal(got.pending, want.pending ?? false);
    });
  }
});

describe('mapVanished', () => {
  it('takes the exit file when there is one', () => {
    assert.deepEqual(mapVanished(0, null), { state: 'succeeded', exitCode: 0, reason: null, pending: false });
    assert.deepEqual(mapVanished(2, null), { state: 'failed', exitCode: 2, reason: null, pending: false });
  });
  it('a job gone without a trace is process-vanished (the control plane requeues it)', () => {
    assert.deepEqual(mapVanished(null, null), { state: 'failed', exitCode: null, reason: 'process-vanished', pending: false });
  });
  it('our stop explains a job killed before it wrote its exit file', () => {
    assert.equal(mapVanished(null, 'cancelled').state, 'cancelled');
    assert.equal(mapVanished(null, 'walltime-exceeded').reason, 'walltime-exceeded');
  });
});

describe('decodeExitStatus', () => {
  it('decodes wait statuses as a shell reports them', () => {
    assert.equal(decodeExitStatus(0), 0);
    assert.equal(decodeExitStatus(768), 3);
    assert.equal(decodeExitStatus(9), 137);
    assert.equal(decodeExitStatus(9 | 0x80), 137, 'core dumped');
    assert.equal(decodeExitStatus(null), null);
    assert.equal(decodeExitStatus(-2), null);
  });
});
