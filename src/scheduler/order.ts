import type { PendingJob } from './types.js';

/**
 * The queue order of a pass: higher priority first, then older (earlier `submittedAt`), then id, so
 * the order is total and independent of how the snapshot listed the jobs. Fair share will refine
 * this; everything downstream only relies on it being a total order.
 */
export function compareJobs(a: PendingJob, b: PendingJob): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.submittedAt !== b.submittedAt) return a.submittedAt - b.submittedAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A new array of `jobs` in queue order (the input is left alone). */
export function orderJobs(jobs: readonly PendingJob[]): PendingJob[] {
  return [...jobs].sort(compareJobs);
}
