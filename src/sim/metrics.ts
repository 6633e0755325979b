/*
 * The figures of a simulation run, from the record of every finished job and every job that could
 * not be placed. Definitions (times in seconds):
 *
 *   wait        = start − submit
 *   completion  = end − submit                      (turnaround, response time)
 *   bounded slowdown = max(1, (wait + run) / max(run, τ)), τ = 10 s   (Feitelson & Rudolph;
 *                 `run` is the job's run time, so a job that waited nothing has slowdown 1)
 *   percentiles: nearest rank — the p-th percentile of N sorted values is the value at rank
 *                ⌈p·N/100⌉ (1-based; the smallest value for p = 0). Always an observed value.
 *   utilisation of a center over [from, to] = ∫ busy units dt / (capacity × (to − from)), exactly:
 *                each job adds units × (the overlap of [start, end] with the window). Units are
 *                accelerators on a center that has any, else cores. The time series is the same
 *                integral per bucket of `bucketSeconds` (the last bucket may be shorter and is
 *                divided by its own length).
 *   window:      [earliest submit, latest end] over all records unless given.
 *
 * Summaries of no values (no jobs) are null rather than a misleading 0.
 */

/** One finished job: where and when it ran and what it took. */
export interface JobRecord {
  readonly id: string;
  readonly submitAt: number;
  /** When it started holding its resources (after any stage-in that holds them). */
  readonly startAt: number;
  readonly endAt: number;
  readonly centerId: string;
  /** Accelerators and cores held from start to end, all nodes together. */
  readonly accelerators: number;
  readonly cores: number;
  /** The job's run time for slowdown (defaults to end − start). */
  readonly runSeconds?: number;
  readonly costFen: number;
  readonly energyKwh: number;
  readonly carbonKg: number;
  readonly bytesMoved: number;
}

/** A job that never ran, with the scheduler's reason (`no-adapted-accelerator`, ...). */
export interface UnplaceableRecord {
  readonly id: string;
  readonly submitAt: number;
  readonly reason: string;
  readonly detail?: string;
}

export interface CenterCapacity {
  readonly id: string;
  /** Accelerators when the center has any, else cores. */
  readonly unit: 'accelerators' | 'cores';
  readonly capacity: number;
}

export interface MetricsOptions {
  readonly centers: readonly CenterCapacity[];
  /** Width of a utilisation bucket (default: one hour). */
  readonly bucketSeconds?: number;
  readonly from?: number;
  readonly to?: number;
  /** τ of bounded slowdown (default 10 s). */
  readonly slowdownThresholdS?: number;
}

export interface Summary {
  readonly count: number;
  readonly mean: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export interface CenterMetrics {
  readonly id: string;
  readonly unit: 'accelerators' | 'cores';
  readonly capacity: number;
  readonly jobs: number;
  /** ∫ busy units dt over the window (unit-seconds). */
  readonly busyUnitSeconds: number;
  readonly utilisation: number;
  /** Utilisation per bucket, from `from`. */
  readonly series: readonly number[];
  readonly costFen: number;
  readonly energyKwh: number;
  readonly carbonKg: number;
}

export interface Metrics {
  readonly jobs: number;
  readonly wait: Summary;
  readonly completion: Summary;
  readonly boundedSlowdown: Summary;
  readonly costFen: number;
  readonly energyKwh: number;
  readonly carbonKg: number;
  readonly bytesMoved: number;
  readonly unplaceable: number;
  readonly unplaceableByReason: Readonly<Record<string, number>>;
  readonly from: number;
  readonly to: number;
  readonly bucketSeconds: number;
  readonly centers: readonly CenterMetrics[];
  /** Busy over capacity of all centers of each unit together. */
  readonly utilisation: { readonly accelerators: number | null; readonly cores: number | null };
}

/** The nearest-rank p-th percentile (0 ≤ p ≤ 100) of `sorted` (ascending); null when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`a percentile is between 0 and 100, got ${p}`);
  // p·N is exact for whole p and N, and so is the division when the rank is whole.
  const rank = Math.max(1, Math.ceil((p * n) / 100));
  return sorted[rank - 1]!;
}

/** Count, mean, p50, p95, p99 and max of `values` (any order; not modified). */
export function summarize(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) return { count: 0, mean: null, p50: null, p95: null, p99: null, max: null };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return { count: n, mean: sum / n, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[n - 1]! };
}

/** max(1, (wait + run) / max(run, τ)). */
export function boundedSlowdown(waitS: number, runS: number, thresholdS = 10): number {
  return Math.max(1, (waitS + runS) / Math.max(runS, thresholdS));
}

/**
 * Adds `units` busy over [start, end] into `buckets` (bucket k covers [from + k·w, from + (k+1)·w)),
 * clipped to [from, to], exactly: the partial first and last buckets get their overlap, the ones
 * between a whole `units × w` through the difference array `diff`.
 */
function addBusy(buckets: Float64Array, diff: Float64Array, from: number, to: number, w: number, start: number, end: number, units: number): void {
  const s = Math.max(start, from);
  const e = Math.min(end, to);
  if (!(e > s) || units === 0) return;
  const last = buckets.length - 1;
  const i = Math.min(last, Math.floor((s - from) / w));
  const j = Math.min(last, Math.floor((e - from) / w));
  if (i === j) {
    buckets[i]! += units * (e - s);
    return;
  }
  buckets[i]! += units * (from + (i + 1) * w - s);
  buckets[j]! += units * (e - (from + j * w));
  if (j > i + 1) {
    diff[i + 1]! += units * w;
    diff[j]! -= units * w;
  }
}

/** The figures of a run (definitions at the top of this file). Records of unknown centers throw. */
export function computeMetrics(records: readonly JobRecord[], unplaceable: readonly UnplaceableRecord[], options: MetricsOptions): Metrics {
  const tau = options.slowdownThresholdS ?? 10;
  const w = options.bucketSeconds ?? 3600;
  if (!(w > 0)) throw new RangeError(`bucketSeconds must be positive, got ${w}`);

  let from = options.from ?? Infinity;
  let to = options.to ?? -Infinity;
  if (options.from === undefined) {
    for (const r of records) from = Math.min(from, r.submitAt);
    for (const u of unplaceable) from = Math.min(from, u.submitAt);
  }
  if (options.to === undefined) for (const r of records) to = Math.max(to, r.endAt);
  if (!Number.isFinite(from)) from = 0;
  if (!Number.isFinite(to) || to < from) to = from;
  const span = to - from;
  const nBuckets = Math.max(1, Math.ceil(span / w));

  const waits = new Float64Array(records.length);
  const completions = new Float64Array(records.length);
  const slowdowns = new Float64Array(records.length);
  let costFen = 0;
  let energy = 0;
  let carbon = 0;
  let bytes = 0;

  const byCenter = new Map<string, { cap: CenterCapacity; jobs: number; cost: number; energy: number; carbon: number; buckets: Float64Array; diff: Float64Array }>();
  for (const c of options.centers) {
    byCenter.set(c.id, { cap: c, jobs: 0, cost: 0, energy: 0, carbon: 0, buckets: new Float64Array(nBuckets), diff: new Float64Array(nBuckets + 1) });
  }

  records.forEach((r, k) => {
    const wait = r.startAt - r.submitAt;
    const run = r.runSeconds ?? r.endAt - r.startAt;
    waits[k] = wait;
    completions[k] = r.endAt - r.submitAt;
    slowdowns[k] = boundedSlowdown(wait, run, tau);
    costFen += r.costFen;
    energy += r.energyKwh;
    carbon += r.carbonKg;
    bytes += r.bytesMoved;
    const c = byCenter.get(r.centerId);
    if (c === undefined) throw new Error(`job ${r.id} ran at center "${r.centerId}", which is not among the centers given to computeMetrics`);
    c.jobs++;
    c.cost += r.costFen;
    c.energy += r.energyKwh;
    c.carbon += r.carbonKg;
    const units = c.cap.unit === 'accelerators' ? r.accelerators : r.cores;
    addBusy(c.buckets, c.diff, from, to, w, r.startAt, r.endAt, units);
  });

  const totals = { accelerators: { busy: 0, cap: 0 }, cores: { busy: 0, cap: 0 } };
  const centers: CenterMetrics[] = [...byCenter.values()].map((c) => {
    let run = 0;
    let busy = 0;
    const series = new Array<number>(nBuckets);
    for (let k = 0; k < nBuckets; k++) {
      run += c.diff[k]!;
      const b = c.buckets[k]! + run;
      busy += b;
      const width = Math.min(w, span - k * w);
      series[k] = width > 0 && c.cap.capacity > 0 ? b / (c.cap.capacity * width) : 0;
    }
    totals[c.cap.unit].busy += busy;
    totals[c.cap.unit].cap += c.cap.capacity * span;
    return {
      id: c.cap.id,
      unit: c.cap.unit,
      capacity: c.cap.capacity,
      jobs: c.jobs,
      busyUnitSeconds: busy,
      utilisation: span > 0 && c.cap.capacity > 0 ? busy / (c.cap.capacity * span) : 0,
      series,
      costFen: c.cost,
      energyKwh: c.energy,
      carbonKg: c.carbon,
    };
  });

  const reasons: Record<string, number> = {};
  for (const u of unplaceable) reasons[u.reason] = (reasons[u.reason] ?? 0) + 1;

  return {
    jobs: records.length,
    wait: summarize(waits),
    completion: summarize(completions),
    boundedSlowdown: summarize(slowdowns),
    costFen,
    energyKwh: energy,
    carbonKg: carbon,
    bytesMoved: bytes,
    unplaceable: unplaceable.length,
    unplaceableByReason: reasons,
    from,
    to,
    bucketSeconds: w,
    centers,
    utilisation: {
      accelerators: totals.accelerators.cap > 0 ? totals.accelerators.busy / totals.accelerators.cap : null,
      cores: totals.cores.cap > 0 ? totals.cores.busy / totals.cores.cap : null,
    },
  };
}
