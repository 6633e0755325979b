/*
 * The goals of issue 16, checked on the figures of `npm run bench:sim`. Every check names the
 * figures it compared; `met: null` means the runs it needs were not made (a partial run), which the
 * benchmark does not count as missed.
 */
import type { GoalCheck, PolicySummary } from './summary.js';

/** The naive baselines `balanced` is measured against (issue 16). */
export const NAIVE_BASELINES = ['round-robin', 'least-loaded', 'random', 'cheapest-static'] as const;

/** What one operating point (a federation at one load) gave: every policy's summary and the bound. */
export interface OperatingPoint {
  readonly set: string;
  /** Target utilisation of the isolated centers (0.5, 0.7, 0.9). */
  readonly load: number;
  readonly runs: Readonly<Record<string, PolicySummary>>;
  /** The proven lower bound on mean completion (s). */
  readonly boundS: number;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const at = (p: OperatingPoint) => `${p.set} at ${Math.round(p.load * 100)}%`;

/** The best (lowest mean wait) naive baseline of a point, or null when none ran. */
export function bestNaive(runs: Readonly<Record<string, PolicySummary>>): { name: string; meanWaitS: number } | null {
  let best: { name: string; meanWaitS: number } | null = null;
  for (const name of NAIVE_BASELINES) {
    const w = runs[name]?.meanWaitS;
    if (w == null) continue;
    if (best === null || w < best.meanWaitS) best = { name, meanWaitS: w };
  }
  return best;
}

/** The goals at one operating point: balanced's wait and completion, greenest's carbon and completion. */
export function pointGoals(p: OperatingPoint): GoalCheck[] {
  const out: GoalCheck[] = [];
  const bal = p.runs['balanced'];
  const naive = bestNaive(p.runs);
  if (bal?.meanWaitS == null || naive === null) {
    out.push({ goal: `${at(p)}: balanced mean wait ≤ 0.5× the best naive baseline`, measured: 'not run', met: null });
  } else {
    const r = naive.meanWaitS > 0 ? bal.meanWaitS / naive.meanWaitS : bal.meanWaitS === 0 ? 0 : Infinity;
    out.push({
      goal: `${at(p)}: balanced mean wait ≤ 0.5× the best naive baseline`,
      measured: `${bal.meanWaitS} s vs ${naive.name} ${naive.meanWaitS} s: ${r.toFixed(3)}×`,
      met: r <= 0.5,
    });
  }
  if (bal?.meanCompletionS == null) {
    out.push({ goal: `${at(p)}: balanced mean completion ≤ 1.1× the lower bound`, measured: 'not run', met: null });
  } else {
    const r = bal.meanCompletionS / p.boundS;
    out.push({
      goal: `${at(p)}: balanced mean completion ≤ 1.1× the lower bound`,
      measured: `${bal.meanCompletionS} s vs bound ${p.boundS.toFixed(1)} s: ${r.toFixed(3)}×`,
      met: r <= 1.1,
    });
  }
  const green = p.runs['greenest'];
  const cs = p.runs['cheapest-static'];
  if (green?.meanCompletionS == null || cs?.meanCompletionS == null) {
    out.push({ goal: `${at(p)}: greenest carbon ≥ 15% below cheapest-static at ≤ +10% mean completion`, measured: 'not run', met: null });
  } else {
    const cut = cs.carbonKg > 0 ? 1 - green.carbonKg / cs.carbonKg : 0;
    const compl = green.meanCompletionS / cs.meanCompletionS;
    out.push({
      goal: `${at(p)}: greenest carbon ≥ 15% below cheapest-static at ≤ +10% mean completion`,
      measured: `${green.carbonKg} kg vs ${cs.carbonKg} kg: ${pct(cut)} less; completion ${green.meanCompletionS} s vs ${cs.meanCompletionS} s: ${compl.toFixed(3)}×`,
      met: cut >= 0.15 && compl <= 1.1,
    });
  }
  return out;
}

/** Whether every goal that ran was met (a goal not run is not a miss). */
export function allMet(goals: readonly GoalCheck[]): boolean {
  return goals.every((g) => g.met !== false);
}
