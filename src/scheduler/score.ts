import type { JobObjective, ObjectiveWeights } from './types.js';

/** Seconds from `now` until the estimated run ends: what "fastest" minimises. */
export function secondsToFinish(e: { readonly completionAt: number }, now: number): number {
  return (e.completionAt - now) / 1000;
}

/** The best (lowest) and worst value of each figure among a job's options: weighted scoring's yardstick. */
export interface FigureRange {
  readonly bestCost: number;
  readonly worstCost: number;
  readonly bestSeconds: number;
  readonly worstSeconds: number;
  readonly bestCarbon: number;
  readonly worstCarbon: number;
}

export const BALANCED_WEIGHTS: ObjectiveWeights = Object.freeze({ cost: 1, time: 1, carbon: 1 });

/**
 * The weights an objective scores by: `balanced` is 1, 1, 1; explicit weights as given, a negative
 * or non-finite one counting as 0 and all zeros as balanced. The single-figure objectives have
 * none (null): they rank by their figure alone.
 */
export function weightsOf(objective: JobObjective): ObjectiveWeights | null {
  if (objective === 'cheapest' || objective === 'fastest' || objective === 'greenest') return null;
  if (objective === 'balanced') return BALANCED_WEIGHTS;
  const clean = (w: number) => (Number.isFinite(w) && w > 0 ? w : 0);
  const w = { cost: clean(objective.weights.cost), time: clean(objective.weights.time), carbon: clean(objective.weights.carbon) };
  return w.cost + w.time + w.carbon > 0 ? w : BALANCED_WEIGHTS;
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
 * of carbon, or with weights (`balanced` among them) the weighted sum of the three figures each
 * relative to the best among the job's options (so 3 is a balanced option best in every respect).
 */
export function scoreUnder(objective: JobObjective, costFen: number, seconds: number, carbonKg: number, range: FigureRange): number {
  switch (objective) {
    case 'cheapest':
      return costFen;
    case 'fastest':
      return seconds;
    case 'greenest':
      return carbonKg;
    default: {
      const w = weightsOf(objective)!;
      return weighted(w.cost, w.time, w.carbon, costFen, seconds, carbonKg, range);
    }
  }
}

/** The weighted score of one option (weights already cleaned by `weightsOf`); a zero weight skips its figure. */
export function weighted(
  wCost: number,
  wTime: number,
  wCarbon: number,
  costFen: number,
  seconds: number,
  carbonKg: number,
  r: FigureRange,
): number {
  let s = 0;
  if (wCost > 0) s += wCost * relativeTo(costFen, r.bestCost, r.worstCost);
  if (wTime > 0) s += wTime * relativeTo(seconds, r.bestSeconds, r.worstSeconds);
  if (wCarbon > 0) s += wCarbon * relativeTo(carbonKg, r.bestCarbon, r.worstCarbon);
  return s;
}

/** The range of each figure over the first `n` entries of three parallel arrays (n > 0). */
export function rangeOf(n: number, cost: ArrayLike<number>, seconds: ArrayLike<number>, carbon: ArrayLike<number>): FigureRange {
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

/** Scores of `estimates` under `objective`, each judged against the others (for weights). */
export function scoreEstimates(
  objective: JobObjective,
  estimates: readonly { readonly costFen: number; readonly completionAt: number; readonly carbonKg: number }[],
  now: number,
): number[] {
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
