import { acceleratorByKey } from '../core/accelerators.js';
import { fen, type Fen } from '../core/money.js';
import type { CenterView, PendingJob, PlacementOption, PoolView } from './types.js';

/** Board power assumed for an accelerator the table has no figure for (or does not know). */
export const DEFAULT_BOARD_WATTS = 300;
/** Power drawn per allocated CPU core. */
export const WATTS_PER_CORE = 10;

/** What running a job on a pool would take, before scoring. */
export interface Estimate {
  /** Earliest start (epoch ms). */
  readonly startAt: number;
  readonly runSeconds: number;
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

/**
 * The job's price per hour on `pool`, in whole fen: accelerators and cores of every node at the
 * pool's rates. A CPU job on an accelerator pool pays only for cores.
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

/** The job's power draw in watts with `acceleratorWatts` per accelerator (see `boardWatts`). */
export function jobWatts(job: PendingJob, acceleratorWatts: number): number {
  return job.nodes * (job.perNode.accelerators * acceleratorWatts + job.perNode.cores * WATTS_PER_CORE);
}

/** Energy in kWh of drawing `watts` for `seconds` at a center whose PUE is `pue`. */
export function energyKwh(watts: number, seconds: number, pue: number): number {
  return ((watts * seconds) / 3_600_000) * pue;
}

/**
 * The estimate for `job` on `pool` of `center` starting at `startAt`. With no runtime model yet the
 * run is the requested walltime, so cost, energy and carbon are upper bounds.
 */
export function estimate(job: PendingJob, center: CenterView, pool: PoolView, startAt: number): Estimate {
  const runSeconds = job.walltimeSeconds;
  const energy = energyKwh(jobWatts(job, boardWatts(pool.accelerator)), runSeconds, center.energy.pue);
  return {
    startAt,
    runSeconds,
    costFen: costOf(hourlyFen(job, pool), runSeconds),
    energyKwh: energy,
    carbonKg: energy * carbonIntensityAt(center, startAt),
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
    startAt: e.startAt,
    runSeconds: e.runSeconds,
    costFen: e.costFen,
    energyKwh: e.energyKwh,
    carbonKg: e.carbonKg,
    score,
  };
}
