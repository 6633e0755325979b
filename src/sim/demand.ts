/*
 * The demand of each cluster of a trace if nothing ever queued: every job starting at its submit
 * time and running its recorded run time. The concurrent demand over time is what sizes centers
 * built from a trace (networks/trace-network.ts) when the trace does not say how big its machines
 * were (ElasticFlow, Alibaba without its node list).
 *
 * A job's units are its whole GPUs on a GPU cluster (a fractional-GPU task counts one), its CPUs
 * (rounded up) on a CPU cluster. A cluster is a GPU cluster when any of its jobs asks for a GPU.
 */
import type { TraceJob } from './trace/types.js';

export type DemandUnit = 'gpu' | 'cpu';

/** One cluster's unconstrained demand. Quantiles are time-weighted over [firstSubmitAt, lastEndAt]. */
export interface ClusterDemand {
  readonly cluster: string;
  readonly unit: DemandUnit;
  readonly jobs: number;
  /** Units × run seconds, all jobs. */
  readonly unitSeconds: number;
  /** The largest single job, in units (a center must hold it or the job can never run). */
  readonly maxJobUnits: number;
  readonly firstSubmitAt: number;
  readonly lastSubmitAt: number;
  /** The last end if every job started at submit. */
  readonly lastEndAt: number;
  /** The most units ever in use at once. */
  readonly peakUnits: number;
  /** Mean units in use over the span. */
  readonly meanUnits: number;
  /**
   * Work offered per second of the arrival window, first to last submit (the span when every job
   * arrives at one instant): unitSeconds ÷ window, the mean demand while jobs arrive (what sizes a
   * federation's operating point, networks/federation.ts).
   */
  readonly arrivalUnits: number;
  /** GPU models asked for by name (accelerator keys). */
  readonly gpuModels: readonly string[];
  /**
   * The time-weighted q-quantile of concurrent demand: the smallest level L such that demand is at
   * most L for at least the fraction q of the span (q = 1 gives the peak, q = 0 the least level).
   */
  quantile(q: number): number;
}

interface Acc {
  starts: number[];
  ends: number[];
  units: number[];
  gpuJobs: number;
  cpuUnits: number[];
  unitSecondsGpu: number;
  unitSecondsCpu: number;
  maxGpu: number;
  maxCpu: number;
  first: number;
  last: number;
  models: Set<string>;
}

/** Collects the jobs of a trace (in one streaming pass) and gives each cluster's demand. */
export class DemandProfiler {
  readonly #acc = new Map<string, Acc>();

  add(job: TraceJob): void {
    let a = this.#acc.get(job.homeCluster);
    if (a === undefined) {
      a = { starts: [], ends: [], units: [], gpuJobs: 0, cpuUnits: [], unitSecondsGpu: 0, unitSecondsCpu: 0, maxGpu: 0, maxCpu: 0, first: Infinity, last: -Infinity, models: new Set() };
      this.#acc.set(job.homeCluster, a);
    }
    const cpus = Math.ceil(job.cpus ?? 0);
    a.starts.push(job.submitAt);
    a.ends.push(job.submitAt + job.runSeconds);
    a.units.push(job.gpus);
    a.cpuUnits.push(cpus);
    if (job.gpus > 0) a.gpuJobs++;
    a.unitSecondsGpu += job.gpus * job.runSeconds;
    a.unitSecondsCpu += cpus * job.runSeconds;
    a.maxGpu = Math.max(a.maxGpu, job.gpus);
    a.maxCpu = Math.max(a.maxCpu, cpus);
    a.first = Math.min(a.first, job.submitAt);
    a.last = Math.max(a.last, job.submitAt);
    for (const m of job.gpuModels ?? []) a.models.add(m);
  }

  /** Every cluster's demand, clusters in name order. */
  finish(): ClusterDemand[] {
    return [...this.#acc.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([cluster, a]) => demandOf(cluster, a));
  }
}

function demandOf(cluster: string, a: Acc): ClusterDemand {
  const unit: DemandUnit = a.gpuJobs > 0 ? 'gpu' : 'cpu';
  const units = unit === 'gpu' ? a.units : a.cpuUnits;
  // Sweep: +u at each start, −u at each end; all changes at one instant are applied before the
  // level is measured, so a job ending when another starts does not count as overlap.
  const n = a.starts.length;
  const times = new Float64Array(2 * n);
  const deltas = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    times[2 * i] = a.starts[i]!;
    deltas[2 * i] = units[i]!;
    times[2 * i + 1] = a.ends[i]!;
    deltas[2 * i + 1] = -units[i]!;
  }
  const order = Array.from({ length: 2 * n }, (_, i) => i).sort((x, y) => times[x]! - times[y]!);
  const secondsAt = new Map<number, number>(); // level → seconds spent at it
  let level = 0;
  let peak = 0;
  let lastEnd = a.first;
  for (let k = 0; k < order.length; ) {
    const t = times[order[k]!]!;
    while (k < order.length && times[order[k]!] === t) level += deltas[order[k++]!]!;
    peak = Math.max(peak, level);
    const next = k < order.length ? times[order[k]!]! : t;
    if (next > t) secondsAt.set(level, (secondsAt.get(level) ?? 0) + (next - t));
    lastEnd = Math.max(lastEnd, t);
  }
  const levels = [...secondsAt.entries()].sort((x, y) => x[0] - y[0]);
  const span = Math.max(0, lastEnd - a.first);
  const unitSeconds = unit === 'gpu' ? a.unitSecondsGpu : a.unitSecondsCpu;
  return {
    cluster,
    unit,
    jobs: n,
    unitSeconds,
    maxJobUnits: unit === 'gpu' ? a.maxGpu : a.maxCpu,
    firstSubmitAt: a.first,
    lastSubmitAt: a.last,
    lastEndAt: lastEnd,
    peakUnits: peak,
    meanUnits: span > 0 ? unitSeconds / span : 0,
    arrivalUnits: unitSeconds / (a.last > a.first ? a.last - a.first : Math.max(1, span)),
    gpuModels: [...a.models].sort(),
    quantile(q: number): number {
      if (q >= 1 || levels.length === 0) return peak;
      let cum = 0;
      for (const [l, s] of levels) {
        cum += s;
        if (cum >= q * span - 1e-9 * span) return l;
      }
      return peak;
    },
  };
}
