import type { Estimate } from './estimate.js';
import type { Objective } from './types.js';

/** Seconds from `now` until the estimated run ends: what "fastest" minimises. */
export function secondsToFinish(e: Pick<Estimate, 'startAt' | 'runSeconds'>, now: number): number {
  return (e.startAt - now) / 1000 + e.runSeconds;
}

/** The best (lowest) and worst value of each figure among a job's options: balanced scoring's yardstick. */
export interface FigureRange {
  readonly bestCost: number;
  readonly worstCost: number;
  readonly bestSeconds: number;
  readonly worstSeconds: number;
  readonly bestCarbon: number;
  readonly worstCarbon: number;
}

/**
 * `value` relative to the best value of its figure: 1 for the best, 2 for twice as much. When the
 * best is 0 (a free pool, carbon-free power) a ratio is undefined, so the figure is measured
 * against its worst value instead, in [1, 2].
 */
export function relativeTo(value: number, best: number, worst: number): number {
  if (best > 0) return value / best;
  return worst > 0 ? 1 + value / worst : 1;
}

/**
 * The score (lower is better) of one option under `objective`: cost in fen, seconds to finish, kg
 * of carbon, or for `balanced` the sum of the three figures each relative to the best among the
 * job's options (so 3 is an option best in every respect).
 */
export function scoreUnder(
  objective: Objective,
  costFen: number,
  seconds: number,
  carbonKg: number,
  range: FigureRange,
): number {
  switch (objective) {
    case 'cheapest':
      return costFen;
    case 'fastest':
      return seconds;
    case 'greenest':
      return carbonKg;
    case 'balanced':
      return (
        relativeTo(costFen, range.bestCost, range.worstCost) +
        relativeTo(seconds, range.bestSeconds, range.worstSeconds) +
        relativeTo(carbonKg, range.bestCarbon, range.worstCarbon)
      );
  }
}

/** The range of each figure over the first `n` entries of three parallel arrays (n > 0). */
export function rangeOf(
  n: number,
  cost: ArrayLike<number>,
  seconds: ArrayLike<number>,
  carbon: ArrayLike<number>,
): FigureRange {
  let bestCost = Infinity;
  let worstCost = -Infinity;
  let bestSeconds = Infinity;
  let worstSeconds = -Infinity;
  let bestCarbon = Infinity;
  let worstCarbon = -Infinity;
  for (let o = 0; o < n; o++) {
    bestCost = Math.min(bestCost, cost[o]!);
    worstCost = Math.max(worstCost, cost[o]!);
    bestSeconds = Math.min(bestSeconds, seconds[o]!);
    worstSeconds = Math.max(worstSeconds, seconds[o]!);
    bestCarbon = Math.min(bestCarbon, carbon[o]!);
    worstCarbon = Math.max(worstCarbon, carbon[o]!);
  }
  return { bestCost, worstCost, bestSeconds, worstSeconds, bestCarbon, worstCarbon };
}

/** Scores of `estimates` under `objective`, each judged against the others (for `balanced`). */
export function scoreEstimates(objective: Objective, estimates: readonly Estimate[], now: number): number[] {
  if (estimates.length === 0) return [];
  const seconds = estimates.map((e) => secondsToFinish(e, now));
  const range = rangeOf(
    estimates.length,
    estimates.map((e) => e.costFen),
    seconds,
    estimates.map((e) => e.carbonKg),
  );
  return estimates.map((e, i) => scoreUnder(objective, e.costFen, seconds[i]!, e.carbonKg, range));
}
