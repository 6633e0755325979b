import type { JobRow } from '../store/schema.js';
import { transitionJob } from '../store/jobs.js';
import type { Queryable } from '../store/transaction.js';
import { settleJobs } from './billing/settlement.js';

/**
 * What happens to a job whose center lost it (agent gone, run vanished): back to the global queue for
 * another attempt while attempts remain, else failed, and cancelled if its owner had asked for that.
 * Returns the updated row, or undefined when the job had already moved on.
 */
export async function requeueOrFail(q: Queryable, job: JobRow, why: string, at: Date): Promise<JobRow | undefined> {
  const row = await requeueOrFailUnbilled(q, job, why, at);
  // Billing: the platform's failure is never charged; the attempt's hold is released.
  if (row) await settleJobs(q, [job.id], at, { operatorFeeBps: 0, platformFailure: true });
  return row;
}

async function requeueOrFailUnbilled(q: Queryable, job: JobRow, why: string, at: Date): Promise<JobRow | undefined> {
  const event = { at, message: '', attempt: job.attempt };
  if (job.cancel_requested_at) {
    return transitionJob(q, job.id, 'cancelled', { finished_at: at, reason: `cancelled; ${why}` }, { ...event, message: `cancelled (${why})` });
  }
  if (job.attempt < job.max_attempts) {
    return transitionJob(
      q,
      job.id,
      'queued',
      { center_id: null, pool_id: null, node_indices: JSON.stringify(null), started_at: null, placed_at: null, reason: why },
      { ...event, message: `requeued after attempt ${job.attempt} of ${job.max_attempts}: ${why}` },
    );
  }
  return transitionJob(
    q,
    job.id,
    'failed',
    { finished_at: at, reason: `${why} (attempt ${job.attempt} of ${job.max_attempts}; no attempts left)` },
    { ...event, message: `failed: ${why}; no attempts left` },
  );
}

/** Reasons a run ends that are the center's fault, not the job's: the job deserves another attempt. */
export const INFRASTRUCTURE_REASONS: ReadonlySet<string> = new Set(['process-vanished', 'node-failure', 'preempted', 'launch-failed']);

/** True for a reason that blames the center (`center-unavailable: …` is how a connector says its scheduler is down). */
export function isInfrastructureFailure(reason: string | null): boolean {
  return reason !== null && (INFRASTRUCTURE_REASONS.has(reason) || reason.startsWith('center-unavailable'));
}
