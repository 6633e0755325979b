/*
 * The scheduler: a pure function of a snapshot and a policy (no I/O, no clock, no randomness).
 *
 *   order.ts        the order of one org's jobs (priority, age, id)
 *   fairshare.ts    weighted DRF across orgs: which org's job comes next
 *   candidates.ts   how many queued jobs of each org a pass looks at (weighted water-filling)
 *   network.ts      the fixed order of pools that breaks every tie; per-pool facts of a pass
 *   runtime.ts      run time on a chip: reference time, chip speed, adaptation efficiency
 *   data.ts         stage-in time and egress price of a job's inputs, from the nearest replica
 *   hourly.ts       hourly prices and carbon, integrated over the hours a run spans
 *   estimate.ts     one option's figures: stage-in, run, completion, cost, energy, carbon
 *   feasibility.ts  permanent reasons a pool can never run a job; limits; the submission check
 *   capacity.ts     a pool's free capacity during a pass: first-fit gangs, never over-allocated
 *   pool-state.ts   a pool's releases over time, earliest fits, and its reservation (EASY backfill)
 *   score.ts        the objectives as one number, lower is better
 *   explain.ts      the sentences: infeasible details and one-line summaries
 *   schedule.ts     one pass: order, check, estimate, score, plan (now, reservation, later hour), explain
 *   quote.ts        every option for one job, ignoring load (for quotes)
 */
export * from './types.js';
export { schedule } from './schedule.js';
export { checkFeasible, cheapestCost, limitReason, staticReason, type NetworkFacts } from './feasibility.js';
export { centerHasProgram, programKey } from './commands.js';
export {
  LIMIT_REASONS,
  STATIC_REASONS,
  TRANSIENT_REASONS,
  isPermanentReason,
  isStaticReason,
  type LimitReason,
  type StaticReason,
} from './reasons.js';
export { compareJobs, orderJobs } from './order.js';
export { FairQueue, dominantShare, networkCapacity, weightOf, type Usage } from './fairshare.js';
export { fairQuotas } from './candidates.js';
export { Network, rankPools, type PoolRef } from './network.js';
export { PoolCapacity, FEWER_THAN_NEEDED } from './capacity.js';
export { PoolState, WOULD_DELAY_RESERVATION, type EarliestFit, type PoolReservation } from './pool-state.js';
export { HourlyCurve } from './hourly.js';
export { BYTES_PER_GB, DataRoutes, SAME_REGION_LINK, transferSeconds, type Route, type StageIn } from './data.js';
export { chipSpeed, efficiencyOn, referenceOf, runSeconds, speedRatio } from './runtime.js';
export {
  DEFAULT_BOARD_WATTS,
  WATTS_PER_CORE,
  boardWatts,
  carbonCurve,
  carbonIntensityAt,
  carbonOf,
  computeCost,
  costOf,
  energyKwh,
  estimate,
  hourlyFen,
  jobWatts,
  localHour,
  priceCurve,
  runStartOf,
  toOption,
  type Estimate,
  type EstimateContext,
} from './estimate.js';
export {
  BALANCED_WEIGHTS,
  rangeOf,
  relativeTo,
  scoreEstimates,
  scoreUnder,
  secondsToFinish,
  weightsOf,
  type FigureRange,
} from './score.js';
export { quoteOptions } from './quote.js';
export {
  deferredSummary,
  describeOption,
  figureOf,
  formatCarbon,
  formatClock,
  formatDuration,
  formatMemory,
  formatWhen,
  infeasibleDetail,
  objectiveWords,
  placedSummary,
  reservedSummary,
  waitingSummary,
  type DetailFacts,
} from './explain.js';
