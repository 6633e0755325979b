import { acceleratorByKey } from '../core/accelerators.js';
import { fen, type Fen } from '../core/money.js';
import { DataRoutes } from './data.js';
import { HourlyCurve } from './hourly.js';
import { efficiencyOn, referenceOf, runSeconds, speedRatio } from './runtime.js';
import type { CenterView, Link, DatasetView, PendingJob, PlacementOption, PoolView, StartKind } from './types.js';

/** Board power assumed for an accelerator the table has no figure for (or does not know). */
export const DEFAULT_BOARD_WATTS = 300;
/** Power drawn per allocated CPU core. */
export const WATTS_PER_CORE = 10;

/** What running a job on a pool would take, before scoring (a `PlacementOption` without names and score). */
export interface Estimate {
  readonly start: StartKind;
  /** When the job takes its nodes (epoch ms). */
  readonly startAt: number;
  readonly stageInSeconds: number;
  readonly runSeconds: number;
  readonly completionAt: number;
  readonly efficiency: number | null;
  readonly computeFen: Fen;
  readonly egressFen: Fen;
  readonly costFen: Fen;
  readonly energyKwh: number;
  readonly carbonKg: number;
}

/** The board power of accelerator `key`, falling back to `DEFAULT_BOARD_WATTS` when unknown. */
export function boardWatts(key: string | null): number {
  if (key === null) return 0;
  return acceleratorByKey(key)?.boardWatts ?? DEFAULT_BOARD_WATTS;
}

/** The hour of day (0–23) at `epochMs` on a clock `utcOffsetHours` ahead of UTC. */
export function localHour(epochMs: number, utcOffsetHours: number): number {
  const hours = Math.floor(epochMs / 3_600_000 + utcOffsetHours);
  return ((hours % 24) + 24) % 24;
}

/** Grid carbon intensity (kg CO2e per kWh) at `center` at `epochMs` local time; 0 when not given. */
export function carbonIntensityAt(center: CenterView, epochMs: number): number {
  return center.energy.carbonKgPerKwh[localHour(epochMs, center.energy.utcOffsetHours)] ?? 0;
}

/** The center's hourly carbon intensity as a curve (a missing hour counts as carbon-free). */
export function carbonCurve(center: CenterView): HourlyCurve {
  return new HourlyCurve(center.energy.carbonKgPerKwh, center.energy.utcOffsetHours, 0);
}

/** The pool's time-of-use price factors as a curve, or null for one price around the clock. */
export function priceCurve(center: CenterView, pool: PoolView): HourlyCurve | null {
  if (pool.priceFactorByHour === null) return null;
  const curve = new HourlyCurve(pool.priceFactorByHour, center.energy.utcOffsetHours, 1);
  return curve.flat && curve.min === 1 ? null : curve;
}

/**
 * The job's price per hour on `pool` at the base rates, in whole fen: accelerators and cores of
 * every node. A CPU job on an accelerator pool pays only for cores.
 */
export function hourlyFen(job: PendingJob, pool: PoolView): number {
  return job.nodes * (job.perNode.accelerators * pool.fenPerAcceleratorHour + job.perNode.cores * pool.fenPerCoreHour);
}

/**
 * `hourlyRate` fen per hour for `seconds`, rounded half up to a whole fen, as `priceOf` does. The
 * hours are not formed first: `rate × (seconds / 3600)` can land a hair under an exact half fen and
 * round down, while `rate × seconds / 3600` divides one exact integer once.
 */
export function costOf(hourlyRate: number, seconds: number): Fen {
  return fen(Math.round((hourlyRate * seconds) / 3600));
}

/**
 * Compute cost of a run of `seconds` from `runStartAt` at `hourlyRate` (base fen per hour), each
 * hour at its time-of-use factor; `costOf` when the price does not vary.
 */
export function computeCost(hourlyRate: number, prices: HourlyCurve | null, runStartAt: number, seconds: number): Fen {
  if (prices === null) return costOf(hourlyRate, seconds);
  if (prices.flat) return costOf(hourlyRate * prices.min, seconds);
  return fen(Math.round(hourlyRate * prices.integral(runStartAt, runStartAt + seconds * 1000)));
}

/** The job's power draw in watts with `acceleratorWatts` per accelerator (see `boardWatts`). */
export function jobWatts(job: PendingJob, acceleratorWatts: number): number {
  return job.nodes * (job.perNode.accelerators * acceleratorWatts + job.perNode.cores * WATTS_PER_CORE);
}

/** Energy in kWh of drawing `watts` for `seconds` at a center whose PUE is `pue`. */
export function energyKwh(watts: number, seconds: number, pue: number): number {
  return ((watts * seconds) / 3_600_000) * pue;
}

/** Carbon (kg) of drawing `watts` (× `pue`) from `runStartAt` for `seconds`, hour by hour of `grid`. */
export function carbonOf(watts: number, pue: number, grid: HourlyCurve, runStartAt: number, seconds: number): number {
  return ((watts * pue) / 1000) * grid.integral(runStartAt, runStartAt + seconds * 1000);
}

/** When the run starts: once the job holds its nodes and its inputs have arrived (staging starts `now`). */
export function runStartOf(now: number, startAt: number, stageInSeconds: number): number {
  return Math.max(startAt, now + stageInSeconds * 1000);
}

/** What `estimate` needs besides the job and the pool. */
export interface EstimateContext {
  /** The time of the decision: staging starts then. */
  readonly now: number;
  /** Links and datasets; without them a job with inputs cannot stage in. */
  readonly routes?: DataRoutes;
}

const NO_DATA = new DataRoutes([] as readonly Link[], [] as readonly DatasetView[]);

/**
 * The estimate for `job` on `pool` of `center` taking its nodes at `startAt`: run time from the
 * reference estimate, chip speed and adaptation; stage-in and egress of its inputs; compute at the
 * pool's price over the run's hours; energy with PUE; carbon over the hours the run spans. It
 * assumes the pool can run the job (an unadapted chip counts at efficiency 1, unreachable data as
 * an endless stage-in): `staticReason` and `limitReason` say whether it can.
 */
export function estimate(
  job: PendingJob,
  center: CenterView,
  pool: PoolView,
  ctx: EstimateContext,
  startAt: number = ctx.now,
  start: StartKind = 'now',
): Estimate {
  const usesChip = job.perNode.accelerators > 0 && pool.accelerator !== null;
  const efficiency = usesChip ? (efficiencyOn(job, pool.accelerator!) ?? 1) : null;
  const ratio = usesChip ? speedRatio(referenceOf(job), pool.accelerator!, job.speedMetric) : 1;
  const run = runSeconds(job, ratio, efficiency ?? 1);
  const stage = (ctx.routes ?? NO_DATA).stageIn(job.inputs, center.region);
  const runStart = runStartOf(ctx.now, startAt, stage.seconds);
  const compute = computeCost(hourlyFen(job, pool), priceCurve(center, pool), runStart, run);
  const watts = jobWatts(job, boardWatts(pool.accelerator));
  return {
    start,
    startAt,
    stageInSeconds: stage.seconds,
    runSeconds: run,
    completionAt: runStart + run * 1000,
    efficiency,
    computeFen: compute,
    egressFen: fen(stage.egressFen),
    costFen: fen(compute + stage.egressFen),
    energyKwh: energyKwh(watts, run, center.energy.pue),
    carbonKg: carbonOf(watts, center.energy.pue, carbonCurve(center), runStart, run),
  };
}

/** `estimate` as a `PlacementOption` on `pool` of `center`, with the `score` it earned among its peers. */
export function toOption(center: CenterView, pool: PoolView, e: Estimate, score: number): PlacementOption {
  return {
    centerId: center.id,
    centerName: center.name,
    poolId: pool.id,
    poolName: pool.name,
    accelerator: pool.accelerator,
    start: e.start,
    startAt: e.startAt,
    stageInSeconds: e.stageInSeconds,
    runSeconds: e.runSeconds,
    completionAt: e.completionAt,
    efficiency: e.efficiency,
    computeFen: e.computeFen,
    egressFen: e.egressFen,
    costFen: e.costFen,
    energyKwh: e.energyKwh,
    carbonKg: e.carbonKg,
    score,
  };
}
