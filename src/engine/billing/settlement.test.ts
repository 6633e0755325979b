import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeOf } from './settlement.js';

const row = (state: 'submitted' | 'queued' | 'placed' | 'running' | 'succeeded' | 'failed' | 'cancelled', over: Partial<{ attempt: number; started_at: Date | null; reason: string | null }> = {}) => ({
  state,
  attempt: 1,
  started_at: new Date(0) as Date | null,
  reason: null as string | null,
  ...over,
});

describe('outcomeOf: how an attempt ended, for billing', { timeout: 5_000 }, () => {
  it('names every ending, and none while the attempt is placed or running', () => {
    const cases: [ReturnType<typeof row> | undefined, number, boolean, string | null][] = [
      [row('placed'), 1, false, null],
      [row('running'), 1, false, null],
      [row('succeeded'), 1, false, 'succeeded'],
      [row('failed', { reason: 'exited with code 1' }), 1, false, 'failed-by-program'],
      [row('failed', { reason: 'walltime exceeded: stopped at its time limit' }), 1, false, 'timed-out'],
      [row('failed', { started_at: null }), 1, false, 'cancelled-before-start'],
      [row('cancelled'), 1, false, 'cancelled-while-running'],
      [row('cancelled', { started_at: null }), 1, false, 'cancelled-before-start'],
      [row('queued'), 1, false, 'requeued'],
      // Placed again: the earlier attempt's hold is released, whatever the new attempt does.
      [row('running', { attempt: 2 }), 1, false, 'requeued'],
      [undefined, 1, false, 'requeued'],
      // The platform's failure is never charged, even for a job that had started.
      [row('failed'), 1, true, 'infrastructure-failure'],
    ];
    for (const [job, attempt, platform, want] of cases) assert.equal(outcomeOf(job, attempt, platform), want, JSON.stringify({ job, attempt, platform }));
  });
});
