/*
 * A proven lower bound on the mean completion time (submit to end) that any schedule of a trace on
 * a network can reach (issue 16), as opposed to `pooledBound`, which is one good schedule (all
 * capacity as one center, FCFS + EASY) and is reported under its own name.
 *
 * Per class of jobs (GPU jobs, CPU jobs: disjoint sets), two facts about ANY schedule S:
 *
 *   run time     every job runs at least its run time p on the fastest chip it may use (trace run ×
 *                reference speed ÷ chip speed, as the simulator runs it), so it ends at ≥ r + p
 *                (r its submit).
 *   fluid        the whole network as ONE machine of rate C (all accelerators, or all cores, of
 *                every pool), each job a fluid of work = units × p, released at r. S is also a
 *                schedule of that machine (it never processes more than C at once; sharing the
 *                machine among jobs is turned into pre-emption, job by job no later, by running in
 *                each interval the job S ends first). On one machine with release dates and
 *                pre-emption, shortest remaining work first (SRPT) has, at EVERY time t, at least as
 *                many jobs finished as any other schedule (Smith 1978, "A new proof of the
 *                optimality of the shortest remaining processing time discipline").
 *
 * Hence, for every k, S's k-th end (in time order) is ≥ a_k, SRPT's k-th end (at time a_k⁻ SRPT has
 * fewer than k jobs done, so S has too), and ≥ b_k, the k-th smallest r + p (S's first k ends are k
 * distinct jobs, each ending at ≥ its own r + p, so the last of them at ≥ the k-th smallest). So
 *
 *   Σ completion(S) = Σ_k (S's k-th end) − Σ r  ≥  Σ_k max(a_k, b_k) − Σ r,
 *
 * which is at least each of the two older bounds (Σ b_k − Σ r = Σ p, the run-time bound; Σ a_k − Σ r,
 * SRPT's sum of completions) and strictly more when a burst queues jobs that the run-time bound
 * lets finish early while SRPT finishes them in another order. The classes' sums add. Jobs no pool
 * can ever run are left out and counted (`unplaceable`); the simulator leaves them out of its means.
 */
import { speedRatio } from '../scheduler/index.js';
import type { NetworkModel, PoolModel } from './network-model.js';
import { jobShape, type JobShape, type ShapeOptions } from './snapshot-builder.js';
import type { TraceJob } from './trace/types.js';

export interface CompletionBound {
  /** Jobs the bound is over (those some pool can run). */
  readonly jobs: number;
  /** Jobs no pool of the network could ever run. */
  readonly unplaceable: number;
  /** Mean of each job's run time on its fastest allowed chip (s). */
  readonly runTimeBoundS: number;
  /** Mean completion of SRPT on the fluid machine, per class (s). */
  readonly fluidBoundS: number;
  /** The bound: Σ over classes of Σ_k max(k-th SRPT end, k-th smallest submit + run) − Σ submit, ÷ jobs (s). */
  readonly boundS: number;
}

/** Whether a pool could ever run a job of `shape` (the scheduler's static checks, in the simulator's terms). */
export function poolCanRun(pool: PoolModel, shape: JobShape): boolean {
  const want = shape.perNode;
  if (want.accelerators > 0) {
    if (pool.accelerator === null) return false;
    if (shape.allowedAccelerators.length > 0 && !shape.allowedAccelerators.includes(pool.accelerator)) return false;
  }
  return want.accelerators <= pool.perNode.accelerators && want.cores <= pool.perNode.cores && want.memoryMiB <= pool.perNode.memoryMiB && shape.nodes <= pool.nodes;
}

/** The sum of completion − release of SRPT on one machine of `rate` (work per second): `jobs` sorted by release. */
export function srptFlowSum(jobs: readonly { readonly release: number; readonly work: number }[], rate: number): number {
  const ends = srptEnds(jobs, rate);
  let sum = 0;
  for (let i = 0; i < jobs.length; i++) sum += ends[i]! - jobs[i]!.release;
  return sum;
}

/** Each job's end under SRPT on one machine of `rate` (work per second), in the order of `jobs` (sorted by release). */
export function srptEnds(jobs: readonly { readonly release: number; readonly work: number }[], rate: number): Float64Array {
  if (!(rate > 0)) throw new Error(`a machine's rate must be positive, got ${rate}`);
  const ends = new Float64Array(jobs.length);
  // A min-heap of (remaining work, job index) of the jobs released and not finished.
  const rem: number[] = [];
  const idx: number[] = [];
  const swap = (i: number, k: number): void => {
    [rem[i], rem[k]] = [rem[k]!, rem[i]!];
    [idx[i], idx[k]] = [idx[k]!, idx[i]!];
  };
  const push = (w: number, j: number): void => {
    rem.push(w);
    idx.push(j);
    let i = rem.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (rem[p]! <= rem[i]!) break;
      swap(i, p);
      i = p;
    }
  };
  const pop = (): void => {
    const last = rem.length - 1;
    swap(0, last);
    rem.pop();
    idx.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= rem.length) break;
      const c = l + 1 < rem.length && rem[l + 1]! < rem[l]! ? l + 1 : l;
      if (rem[i]! <= rem[c]!) break;
      swap(i, c);
      i = c;
    }
  };
  let t = -Infinity;
  /** Runs the machine until `until` (Infinity: until it is empty). */
  const runUntil = (until: number): void => {
    while (rem.length > 0) {
      const finish = t + rem[0]! / rate;
      if (finish > until) {
        rem[0]! -= (until - t) * rate;
        t = until;
        return;
      }
      t = finish;
      ends[idx[0]!] = t;
      pop();
    }
    if (until !== Infinity) t = until;
  };
  let last = -Infinity;
  for (let j = 0; j < jobs.length; j++) {
    const { release, work } = jobs[j]!;
    if (release < last) throw new Error(`srptFlowSum needs jobs sorted by release (${release} after ${last})`);
    last = release;
    if (t === -Infinity) t = release;
    runUntil(release);
    if (work > 0) push(work, j);
    else ends[j] = release;
  }
  runUntil(Infinity);
  return ends;
}

/**
 * Σ_k max(a_k, b_k) − Σ release (top of this file): a_k the k-th SRPT end on the fluid machine of
 * `rate`, b_k the k-th smallest release + run. `jobs` sorted by release.
 */
export function orderedEndsBound(jobs: readonly { readonly release: number; readonly work: number; readonly run: number }[], rate: number): number {
  const a = srptEnds(jobs, rate).sort();
  const b = Float64Array.from(jobs, (j) => j.release + j.run).sort();
  let sum = 0;
  for (let k = 0; k < jobs.length; k++) sum += Math.max(a[k]!, b[k]!) - jobs[k]!.release;
  return sum;
}

/**
 * The lower bound on mean completion of `jobs` (sorted by submit) on `model`; `reference` is the chip
 * trace run times were measured on (see the top of this file).
 */
export function completionBound(jobs: Iterable<TraceJob>, model: NetworkModel, options: { reference: string; shape?: ShapeOptions }): CompletionBound {
  const pools = model.centers.flatMap((c) => c.pools);
  const gpuPool = pools.find((p) => p.perNode.accelerators > 0);
  const cpuPool = pools.find((p) => p.perNode.accelerators === 0);
  const shapeOptions: ShapeOptions = {
    ...(gpuPool ? { gpusPerNode: gpuPool.perNode.accelerators } : {}),
    ...(cpuPool ? { coresPerNode: cpuPool.perNode.cores } : {}),
    ...options.shape,
  };
  const rate = {
    gpu: pools.reduce((n, p) => n + p.nodes * p.perNode.accelerators, 0),
    cpu: pools.reduce((n, p) => n + p.nodes * p.perNode.cores, 0),
  };
  const classes = { gpu: { run: 0, fluid: [] as { release: number; work: number; run: number }[] }, cpu: { run: 0, fluid: [] as { release: number; work: number; run: number }[] } };
  let count = 0;
  let unplaceable = 0;
  let runSum = 0;
  for (const job of jobs) {
    const shape = jobShape(job, shapeOptions);
    const gpu = shape.perNode.accelerators > 0;
    let ratio = Infinity;
    for (const p of pools) {
      if (!poolCanRun(p, shape)) continue;
      ratio = Math.min(ratio, gpu ? speedRatio(options.reference, p.accelerator!, 'fp16') : 1);
    }
    if (ratio === Infinity) {
      unplaceable++;
      continue;
    }
    const run = job.runSeconds * ratio;
    const units = shape.nodes * (gpu ? shape.perNode.accelerators : shape.perNode.cores);
    const c = gpu ? classes.gpu : classes.cpu;
    c.run += run;
    c.fluid.push({ release: job.submitAt, work: units * run, run });
    runSum += run;
    count++;
  }
  let bound = 0;
  let fluid = 0;
  for (const k of ['gpu', 'cpu'] as const) {
    const c = classes[k];
    if (c.fluid.length === 0) continue;
    fluid += srptFlowSum(c.fluid, rate[k]);
    bound += orderedEndsBound(c.fluid, rate[k]);
  }
  const mean = (x: number) => (count > 0 ? x / count : 0);
  return { jobs: count, unplaceable, runTimeBoundS: mean(runSum), fluidBoundS: mean(fluid), boundS: mean(bound) };
}
