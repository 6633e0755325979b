/*
 * The scheduler: a pure function of a snapshot and a policy (no I/O, no clock, no randomness).
 *
 *   order.ts        queue order of a pass (priority, age, id)
 *   network.ts      the fixed order of pools that breaks every tie
 *   feasibility.ts  permanent reasons a pool can never run a job; the submission check
 *   capacity.ts     a pool's free capacity during a pass: first-fit gangs, never over-allocated
 *   estimate.ts     run time, cost, energy and carbon of a job on a pool
 *   score.ts        the four objectives as one number, lower is better
 *   explain.ts      the sentences: infeasible details and one-line summaries
 *   schedule.ts     one pass: order, check, estimate, score, take, explain
 *   quote.ts        every option for one job, ignoring load (for quotes)
 */
export * from './types.js';
export { schedule } from './schedule.js';
export { checkFeasible, staticReason } from './feasibility.js';
export { centerHasProgram, programKey } from './commands.js';
export { STATIC_REASONS, TRANSIENT_REASONS, isStaticReason, type StaticReason } from './reasons.js';
export { compareJobs, orderJobs } from './order.js';
export { rankPools, type PoolRef } from './network.js';
export { PoolCapacity, FEWER_THAN_NEEDED } from './capacity.js';
export {
  DEFAULT_BOARD_WATTS,
  WATTS_PER_CORE,
  boardWatts,
  carbonIntensityAt,
  costOf,
  energyKwh,
  estimate,
  hourlyFen,
  jobWatts,
  localHour,
  toOption,
  type Estimate,
} from './estimate.js';
export { rangeOf, relativeTo, scoreEstimates, scoreUnder, secondsToFinish, type FigureRange } from './score.js';
export { quoteOptions } from './quote.js';
export {
  describeOption,
  formatCarbon,
  formatDuration,
  formatMemory,
  infeasibleDetail,
  placedSummary,
  waitingSummary,
} from './explain.js';
