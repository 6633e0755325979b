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
 * With `byWork` (the policy's `agingByWork`) the estimate counts the job's whole work instead: run
 * time × its units (accelerators, or cores for a job without any, over all its nodes), so that of
 * two equally long jobs the narrower goes first (smallest work first is what minimises the mean
 * completion of a busy machine; measured in docs/simulator.md).
 */
export function compareJobs(a: PendingJob, b: PendingJob, runtimeAging = 0, byWork = false): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const ka = queueTime(a, runtimeAging, byWork);
  const kb = queueTime(b, runtimeAging, byWork);
  if (ka !== kb) return ka - kb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The time (epoch ms) a job is ordered by within its priority: its submit, plus `runtimeAging` × its
 * run-time estimate (with `byWork`, × its units too).
 */
export function queueTime(job: PendingJob, runtimeAging = 0, byWork = false): number {
  if (!(runtimeAging > 0)) return job.submittedAt;
  const estimate = (job.runtimeSeconds ?? job.walltimeSeconds) * 1000;
  return job.submittedAt + runtimeAging * estimate * (byWork ? jobUnits(job) : 1);
}

/** A job's units for `agingByWork`: its accelerators over all its nodes, or its cores when it uses no accelerator. */
function jobUnits(job: PendingJob): number {
  return job.nodes * (job.perNode.accelerators > 0 ? job.perNode.accelerators : job.perNode.cores);
}

/** A new array of `jobs` in `compareJobs` order (the input is left alone). */
export function orderJobs(jobs: readonly PendingJob[], runtimeAging = 0, byWork = false): PendingJob[] {
  return [...jobs].sort((a, b) => compareJobs(a, b, runtimeAging, byWork));
}
