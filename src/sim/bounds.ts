/*
 * A proven lower bound on the mean completion time (submit to end) that any schedule of a trace on
 * a network can reach (issue 16), as opposed to `pooledBound`, which is one good schedule (all
 * capacity as one center, FCFS + EASY) and is reported under its own name.
 *
 * Two bounds on the SUM of completion times, per class of jobs (GPU jobs, CPU jobs), the larger
 * of the two taken per class, the classes added, divided by the jobs:
 *
 *   run-time bound   every job runs at least its run time on the fastest chip it may use
 *                    (trace run × reference speed ÷ chip speed, as the simulator runs it), so its
 *                    completion ≥ that run time.
 *   fluid bound      the whole network as ONE machine of rate C (all accelerators, or all cores,
 *                    of every pool), each job a fluid of work = units × its fastest run time,
 *                    released at its submit. Any real schedule (each job on whole nodes, at most
 *                    its units at a time, nothing pre-empted) is also a schedule of that machine
 *                    that processes at most C at once, and on one machine with release dates and
 *                    pre-emption, shortest remaining work first (SRPT) minimises the sum of
 *                    completion times (Schrage 1968; sharing the machine among several jobs at
 *                    once is dominated by it). So Σ completion ≥ Σ SRPT completion.
 *
 * Both are sums over the same jobs, so max(sum₁, sum₂) is a bound on the sum, per class, and the
 * classes' sums add (they are disjoint sets of jobs). Jobs no pool can ever run are left out and
 * counted (`unplaceable`); the simulator leaves them out of its means too.
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
  /** The bound: Σ over classes of max(run-time sum, fluid sum), ÷ jobs (s). */
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
  if (!(rate > 0)) throw new Error(`a machine's rate must be positive, got ${rate}`);
  // A min-heap of (remaining work, release) of the jobs released and not finished.
  const rem: number[] = [];
  const rel: number[] = [];
  const swap = (i: number, k: number): void => {
    [rem[i], rem[k]] = [rem[k]!, rem[i]!];
    [rel[i], rel[k]] = [rel[k]!, rel[i]!];
  };
  const push = (w: number, r: number): void => {
    rem.push(w);
    rel.push(r);
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
    rel.pop();
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
  let sum = 0;
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
      sum += t - rel[0]!;
      pop();
    }
    if (until !== Infinity) t = until;
  };
  let last = -Infinity;
  for (const j of jobs) {
    if (j.release < last) throw new Error(`srptFlowSum needs jobs sorted by release (${j.release} after ${last})`);
    last = j.release;
    if (t === -Infinity) t = j.release;
    runUntil(j.release);
    if (j.work > 0) push(j.work, j.release);
  }
  runUntil(Infinity);
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
  const classes = { gpu: { run: 0, fluid: [] as { release: number; work: number }[] }, cpu: { run: 0, fluid: [] as { release: number; work: number }[] } };
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
    c.fluid.push({ release: job.submitAt, work: units * run });
    runSum += run;
    count++;
  }
  let bound = 0;
  let fluid = 0;
  for (const k of ['gpu', 'cpu'] as const) {
    const c = classes[k];
    if (c.fluid.length === 0) continue;
    const f = srptFlowSum(c.fluid, rate[k]);
    fluid += f;
    bound += Math.max(c.run, f);
  }
  const mean = (x: number) => (count > 0 ? x / count : 0);
  return { jobs: count, unplaceable, runTimeBoundS: mean(runSum), fluidBoundS: mean(fluid), boundS: mean(bound) };
}
