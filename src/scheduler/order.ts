import type { PendingJob } from './types.js';

/**
 * The order of one org's jobs: higher priority first, then older (earlier `submittedAt`), then id,
 * so the order is total and independent of how the snapshot listed the jobs. Across orgs, weighted
 * fair share decides whose turn it is (`FairQueue`); priority never reaches across orgs.
 */
export function compareJobs(a: PendingJob, b: PendingJob): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.submittedAt !== b.submittedAt) return a.submittedAt - b.submittedAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A new array of `jobs` in `compareJobs` order (the input is left alone). */
export function orderJobs(jobs: readonly PendingJob[]): PendingJob[] {
  return [...jobs].sort(compareJobs);
}
