import type { PendingJob } from './types.js';

/**
 * The order of one org's jobs: higher priority first, then older (earlier `submittedAt`), then id,
 * so the order is total and independent of how the snapshot listed the jobs. Across orgs, weighted
 * fair share decides whose turn it is (`FairQueue`); priority never reaches across orgs.
 *
 * With `runtimeAging` r > 0 (the policy knob), "older" is measured from a job's *queue time*
 * `submittedAt + r × its run-time estimate` (`runtimeSeconds`, else its walltime): a job estimated
 * at one hour queues as if submitted r hours later, so shorter jobs go first among jobs of similar
 * age, and every job's turn still comes (its queue time is fixed, so later arrivals overtake it
 * only when they are shorter by more than they are younger ÷ r). 0: first come, first served.
 */
export function compareJobs(a: PendingJob, b: PendingJob, runtimeAging = 0): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const ka = queueTime(a, runtimeAging);
  const kb = queueTime(b, runtimeAging);
  if (ka !== kb) return ka - kb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The time (epoch ms) a job is ordered by within its priority: its submit, plus `runtimeAging` × its run-time estimate. */
export function queueTime(job: PendingJob, runtimeAging = 0): number {
  if (!(runtimeAging > 0)) return job.submittedAt;
  return job.submittedAt + runtimeAging * (job.runtimeSeconds ?? job.walltimeSeconds) * 1000;
}

/** A new array of `jobs` in `compareJobs` order (the input is left alone). */
export function orderJobs(jobs: readonly PendingJob[], runtimeAging = 0): PendingJob[] {
  return [...jobs].sort((a, b) => compareJobs(a, b, runtimeAging));
}
