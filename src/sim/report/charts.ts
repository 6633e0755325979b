/*
 * The report's charts from simulation results: utilisation over time per center (one chart per
 * run), the wait CDF of every policy (one chart), and cost and carbon per policy (bars).
 */
import type { SimulationResult } from '../simulate.js';
import { barChart, lineChart, shortDuration, shortNumber, type Series } from './svg.js';

/** At most `max` points: the mean of each run of consecutive values (keeps the integral). */
export function downsample(values: readonly number[], max: number): { index: number; value: number }[] {
  if (values.length <= max) return values.map((value, index) => ({ index, value }));
  const step = values.length / max;
  const out: { index: number; value: number }[] = [];
  for (let k = 0; k < max; k++) {
    const a = Math.floor(k * step);
    const b = Math.max(a + 1, Math.floor((k + 1) * step));
    let sum = 0;
    for (let i = a; i < b; i++) sum += values[i]!;
    out.push({ index: (a + b - 1) / 2, value: sum / (b - a) });
  }
  return out;
}

/** Utilisation of each center over the run, in days from the first submit (points are bucket means, downsampled). */
export function utilisationChart(result: SimulationResult, title: string, maxPoints = 300): string {
  const m = result.metrics;
  const days = m.bucketSeconds / 86400;
  const series: Series[] = m.centers.map((c) => ({
    name: `${c.id} (${shortNumber(c.capacity)} ${c.unit === 'accelerators' ? 'acc' : 'cores'})`,
    points: downsample(c.series, maxPoints).map((p) => [(p.index + 0.5) * days, p.value] as const),
  }));
  return lineChart({
    title,
    xLabel: 'days since the first submit',
    yLabel: 'utilisation',
    series,
    yMin: 0,
    yMax: 1,
    yFormat: (y) => `${Math.round(y * 100)}%`,
  });
}

/** The wait CDF of each run: fraction of jobs that waited at most x seconds (log x; zero waits at the left edge). */
export function waitCdfChart(runs: readonly { name: string; result: SimulationResult }[], title: string): string {
  const longest = Math.max(10, ...runs.map(({ result }) => result.waitQuantiles[result.waitQuantiles.length - 1] ?? 0));
  const series: Series[] = runs.map(({ name, result }) => {
    const q = result.waitQuantiles;
    const points: (readonly [number, number])[] = [];
    // Waits under a second collapse into one point at 1 s: each curve starts at its share of jobs
    // that hardly waited, instead of a vertical stroke up the axis hiding the others.
    for (let k = 0; k < q.length; k++) {
      if (q[k]! <= 1 && k + 1 < q.length && q[k + 1]! <= 1) continue;
      points.push([Math.max(1, q[k]!), k / (q.length - 1)]);
    }
    // On to the right edge at 100%, so a policy whose jobs never waited still shows as a line.
    if (points.length > 0 && points[points.length - 1]![0] < longest) points.push([longest, 1]);
    return { name, points };
  });
  return lineChart({
    title,
    xLabel: 'wait (log scale; waits under 1 s drawn at 1 s)',
    yLabel: 'fraction of jobs',
    series,
    xLog: true,
    yMin: 0,
    yMax: 1,
    xFormat: shortDuration,
    yFormat: (y) => `${Math.round(y * 100)}%`,
  });
}

/** One bar per run: `pick` of its summary (cost in yuan, carbon in tonnes, ...). */
export function perPolicyBars(runs: readonly { name: string; value: number; highlight?: boolean }[], title: string, yLabel: string, format?: (y: number) => string): string {
  return barChart({ title, yLabel, bars: runs.map((r) => ({ label: r.name, value: r.value, ...(r.highlight ? { highlight: true } : {}) })), ...(format ? { yFormat: format } : {}) });
}
