/*
 * A run's figures in the shape of the benchmark's JSON line, and the goals checked against
 * them. Rounded for reading: seconds to 0.1, slowdown to 0.01, utilisation to 0.0001, money to a
 * whole fen, energy to 0.1 kWh, carbon to 0.1 kg.
 */
import type { SimulationResult } from '../simulate.js';

export interface PolicySummary {
  readonly meanWaitS: number | null;
  readonly p50WaitS: number | null;
  readonly p95WaitS: number | null;
  readonly p99WaitS: number | null;
  readonly meanCompletionS: number | null;
  readonly p50CompletionS: number | null;
  readonly p95CompletionS: number | null;
  readonly p99CompletionS: number | null;
  /** Mean bounded slowdown (τ = 10 s). */
  readonly boundedSlowdown: number | null;
  /** Accelerator utilisation of the whole network when it has accelerators, else core utilisation. */
  readonly utilisation: number | null;
  readonly costFen: number;
  readonly energyKwh: number;
  readonly carbonKg: number;
  readonly bytesMoved: number;
  readonly unplaceable: number;
  readonly jobs: number;
  /** Wall seconds of the replay, and events handled. */
  readonly seconds?: number;
  readonly events?: number;
}

const r = (x: number | null, digits: number): number | null => (x === null ? null : Number(x.toFixed(digits)));

/** The summary of one run; `seconds` when it was timed. */
export function summarize(result: SimulationResult, seconds?: number): PolicySummary {
  const m = result.metrics;
  return {
    meanWaitS: r(m.wait.mean, 1),
    p50WaitS: r(m.wait.p50, 1),
    p95WaitS: r(m.wait.p95, 1),
    p99WaitS: r(m.wait.p99, 1),
    meanCompletionS: r(m.completion.mean, 1),
    p50CompletionS: r(m.completion.p50, 1),
    p95CompletionS: r(m.completion.p95, 1),
    p99CompletionS: r(m.completion.p99, 1),
    boundedSlowdown: r(m.boundedSlowdown.mean, 2),
    utilisation: r(m.utilisation.accelerators ?? m.utilisation.cores, 4),
    costFen: Math.round(m.costFen),
    energyKwh: r(m.energyKwh, 1)!,
    carbonKg: r(m.carbonKg, 1)!,
    bytesMoved: m.bytesMoved,
    unplaceable: m.unplaceable,
    jobs: m.jobs,
    ...(seconds === undefined ? {} : { seconds: r(seconds, 2)!, events: result.counters.events }),
  };
}

export interface GoalCheck {
  readonly goal: string;
  /** The measured figure, in words with numbers. */
  readonly measured: string;
  /** null when the runs it needs are missing. */
  readonly met: boolean | null;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * The goals: on the ElasticFlow comparison (`ef`, by policy, with `pooledBound`), and the
 * HPC2N replay time (`hpc2nSeconds`, with its events per second).
 */
export function checkGoals(ef: Readonly<Record<string, PolicySummary>>, hpc2n: { seconds: number; eventsPerSecond: number; policy: string } | null): GoalCheck[] {
  const out: GoalCheck[] = [];
  const iso = ef['isolated'];
  const bal = ef['balanced'];
  const pooled = ef['pooledBound'];
  const green = ef['greenest'];
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || b === 0 ? null : a / b);
  const waitRatio = ratio(bal?.meanWaitS, iso?.meanWaitS);
  out.push({
    goal: 'balanced cuts mean wait to ≤ ½ of isolated',
    measured: waitRatio === null ? 'not run' : `${bal!.meanWaitS} s vs ${iso!.meanWaitS} s: ${pct(waitRatio)} of isolated`,
    met: waitRatio === null ? null : waitRatio <= 0.5,
  });
  const complRatio = ratio(bal?.meanCompletionS, pooled?.meanCompletionS);
  out.push({
    goal: 'balanced mean completion within 1.1× the pooled bound',
    measured: complRatio === null ? 'not run' : `${bal!.meanCompletionS} s vs ${pooled!.meanCompletionS} s: ${complRatio.toFixed(3)}×`,
    met: complRatio === null ? null : complRatio <= 1.1,
  });
  const carbonRatio = ratio(green?.carbonKg, iso?.carbonKg);
  out.push({
    goal: 'greenest cuts carbon ≥ 30% vs isolated',
    measured: carbonRatio === null ? 'not run' : `${green!.carbonKg} kg vs ${iso!.carbonKg} kg: ${pct(1 - carbonRatio)} less`,
    met: carbonRatio === null ? null : carbonRatio <= 0.7,
  });
  const greenCompl = ratio(green?.meanCompletionS, iso?.meanCompletionS);
  out.push({
    goal: 'greenest mean completion ≤ 1.1× isolated',
    measured: greenCompl === null ? 'not run' : `${green!.meanCompletionS} s vs ${iso!.meanCompletionS} s: ${greenCompl.toFixed(3)}×`,
    met: greenCompl === null ? null : greenCompl <= 1.1,
  });
  out.push({
    goal: 'HPC2N (202,876 jobs) simulated in < 10 s',
    measured: hpc2n === null ? 'not run' : `${hpc2n.seconds.toFixed(2)} s (${hpc2n.policy}), ${Math.round(hpc2n.eventsPerSecond).toLocaleString('en-US')} events/s`,
    met: hpc2n === null ? null : hpc2n.seconds < 10,
  });
  return out;
}
