/*
 * The one place where the simulator speaks the scheduler's language: everything that builds a
 * `Snapshot` (centers, pools, free capacity, links, running and pending jobs) from the simulator's
 * own state is here, so that a change of the scheduler's types is a change of this file only.
 *
 * What traces do not have is left neutral: no deadline or budget, no residency, no adaptation
 * matrix (any chip at efficiency 1). `runtimeSeconds` is null unless the simulator gives one (it
 * gives the trace's request, measured on its reference chip, so the scheduler scales it by chip
 * speed: see simulate.ts); either way the scheduler plans with what the trace's own scheduler knew.
 *
 * Job shapes (a trace job → nodes × per-node request), documented in docs/sim-network.md:
 *   - GPU job of g GPUs: ⌈g / G⌉ nodes of ⌈g / nodes⌉ GPUs, G = `gpusPerNode` (8); cores and
 *     memory per node: the trace's own when recorded (divided over the nodes, cores rounded up),
 *     else `coresPerGpu` (8) and `memoryMiBPerGpu` (64 GiB) per GPU — a share every shipped GPU node
 *     has room for. A fractional-GPU task takes one whole GPU.
 *   - CPU job of p cores: one node when p ≤ C, else ⌈p / C⌉ nodes of ⌈p / nodes⌉ cores, where C =
 *     `coresPerNode` (the trace network's CPU node). Memory: the trace's when recorded, else 0
 *     (SWF memory fields are mostly unknown and never enforced by the machines they came from).
 *   - walltime: the trace's `requestedSeconds` (≥ the run time); allowed accelerators: the trace's
 *     GPU models, else any.
 */
import type { NodeRequest } from '../core/resources.js';
import type { CenterView, DatasetView, JobObjective, Link, PendingJob, PoolView, RunningJob, Snapshot } from '../scheduler/types.js';
import { poolId, type CenterModel, type LinkSpec, type NetworkModel, type PoolModel } from './network-model.js';
import type { TraceJob } from './trace/types.js';

export interface ShapeOptions {
  readonly gpusPerNode?: number;
  readonly coresPerGpu?: number;
  readonly memoryMiBPerGpu?: number;
  /** Cores of one CPU node (default 64). */
  readonly coresPerNode?: number;
}

/** What a trace job asks of the network, in the scheduler's terms. */
export interface JobShape {
  readonly nodes: number;
  readonly perNode: NodeRequest;
  readonly walltimeSeconds: number;
  readonly allowedAccelerators: readonly string[];
}

/** The nodes × per-node request of `job` (rules at the top of this file). */
export function jobShape(job: TraceJob, options: ShapeOptions = {}): JobShape {
  const G = options.gpusPerNode ?? 8;
  const walltimeSeconds = Math.max(1, Math.ceil(job.requestedSeconds));
  if (job.gpus > 0) {
    const nodes = Math.max(job.nodes ?? 1, Math.ceil(job.gpus / G));
    const gpus = Math.ceil(job.gpus / nodes);
    const cores = job.cpus !== undefined && job.cpus > 0 ? Math.ceil(job.cpus / nodes) : gpus * (options.coresPerGpu ?? 8);
    const memoryMiB = job.memoryMiB !== undefined ? Math.ceil(job.memoryMiB / nodes) : gpus * (options.memoryMiBPerGpu ?? 64 * 1024);
    return { nodes, perNode: { accelerators: gpus, cores, memoryMiB }, walltimeSeconds, allowedAccelerators: job.gpuModels ?? [] };
  }
  const C = options.coresPerNode ?? 64;
  const p = Math.max(1, Math.ceil(job.cpus ?? 1));
  const nodes = Math.max(job.nodes ?? 1, Math.ceil(p / C));
  const cores = Math.ceil(p / nodes);
  const memoryMiB = job.memoryMiB !== undefined ? Math.ceil(job.memoryMiB / nodes) : 0;
  return { nodes, perNode: { accelerators: 0, cores, memoryMiB }, walltimeSeconds, allowedAccelerators: [] };
}

/** A job waiting in the simulator. */
export interface SimJob {
  readonly trace: TraceJob;
  readonly shape: JobShape;
  /** Epoch ms of submission (the trace's submit on the simulated clock). */
  readonly submittedAtMs: number;
  readonly objective: JobObjective;
  /** The tenant for fairness: by default the job's home cluster. */
  readonly orgId: string;
  readonly priority?: number;
  /**
   * The run-time estimate the scheduler scales by chip speed (seconds on `referenceAccelerator`);
   * absent or null = unknown, and the scheduler plans with the walltime unscaled.
   */
  readonly runtimeSeconds?: number | null;
  /** The chip the trace's times were measured on (absent or null: the scheduler's default). */
  readonly referenceAccelerator?: string | null;
  /** Datasets staged in before the run (absent: none). */
  readonly inputs?: readonly { readonly datasetId: string }[];
}

/** A job holding capacity: the scheduler plans reservations with its `endsAtMs`. */
export interface SimRunning {
  readonly jobId: string;
  readonly orgId: string;
  readonly centerId: string;
  readonly poolId: string;
  readonly nodeIndices: readonly number[];
  readonly perNode: NodeRequest;
  readonly startedAtMs: number;
  /** Epoch ms when it releases its nodes at the latest: start + walltime, what a scheduler knows (not the actual end). */
  readonly endsAtMs: number;
}

/** The simulator's state at one instant: what a snapshot is built from. */
export interface SimState {
  readonly nowMs: number;
  readonly model: NetworkModel;
  /** Free capacity of every node, by pool id; a pool not in the map is entirely free. */
  readonly freeByPool: ReadonlyMap<string, readonly NodeRequest[]>;
  readonly pending: readonly SimJob[];
  readonly running?: readonly SimRunning[];
  /** Centers that are down (failure scenarios); the rest are online. */
  readonly offline?: ReadonlySet<string>;
  /** Fair-share weight per org (default 1 each). */
  readonly orgWeights?: Readonly<Record<string, number>>;
}

/** The program every simulated job runs; centers say nothing about their PATH, so it is always found. */
export const SIM_PROGRAM = 'trace-job';

/** The scheduler's view of `pool` with `free` capacity per node (all free when undefined). */
export function poolView(center: CenterModel, pool: PoolModel, free: readonly NodeRequest[] | undefined): PoolView {
  return {
    id: poolId(center, pool),
    centerId: center.id,
    name: pool.name,
    accelerator: pool.accelerator,
    perNode: pool.perNode,
    freeByNode: free ?? Array.from({ length: pool.nodes }, () => pool.perNode),
    fenPerAcceleratorHour: pool.fenPerAcceleratorHour,
    fenPerCoreHour: pool.fenPerCoreHour,
    priceFactorByHour: pool.priceFactorByHour,
  };
}

export function centerView(center: CenterModel, freeByPool: ReadonlyMap<string, readonly NodeRequest[]>, offline: boolean): CenterView {
  return {
    id: center.id,
    name: center.name,
    region: center.region,
    state: offline ? 'offline' : 'online',
    energy: center.energy,
    pools: center.pools.map((p) => poolView(center, p, freeByPool.get(poolId(center, p)))),
    commands: null,
  };
}

export function pendingJob(job: SimJob): PendingJob {
  return {
    id: job.trace.id,
    orgId: job.orgId,
    nodes: job.shape.nodes,
    perNode: job.shape.perNode,
    walltimeSeconds: job.shape.walltimeSeconds,
    runtimeSeconds: job.runtimeSeconds ?? null,
    referenceAccelerator: job.referenceAccelerator ?? null,
    speedMetric: 'fp16',
    adaptation: null,
    allowedAccelerators: job.shape.allowedAccelerators,
    forbiddenAccelerators: [],
    allowedRegions: [],
    deadline: null,
    budgetFen: null,
    inputs: job.inputs ?? [],
    program: SIM_PROGRAM,
    objective: job.objective,
    priority: job.priority ?? 0,
    submittedAt: job.submittedAtMs,
  };
}

export function runningJob(r: SimRunning): RunningJob {
  return {
    jobId: r.jobId,
    orgId: r.orgId,
    centerId: r.centerId,
    poolId: r.poolId,
    nodeIndices: r.nodeIndices,
    perNode: r.perNode,
    startedAt: r.startedAtMs,
    endsAt: r.endsAtMs,
  };
}

/**
 * The model's links as the scheduler's: each listed link once (it serves both directions), every
 * unlisted pair of regions through `defaultLink` when there is one, and each region to itself
 * through `sameRegionLink` (listed explicitly, so the model's figure holds, not the scheduler's default).
 */
export function snapshotLinks(model: NetworkModel): Link[] {
  const regions = [...new Set(model.centers.map((c) => c.region))].sort();
  const links: Link[] = regions.map((r) => ({ fromRegion: r, toRegion: r, ...linkFigures(model.sameRegionLink) }));
  const listed = new Set<string>();
  for (const l of model.links) {
    listed.add(`${l.from}\u0000${l.to}`);
    listed.add(`${l.to}\u0000${l.from}`);
    links.push({ fromRegion: l.from, toRegion: l.to, ...linkFigures(l) });
  }
  if (model.defaultLink !== null) {
    for (let i = 0; i < regions.length; i++) {
      for (let j = i + 1; j < regions.length; j++) {
        if (!listed.has(`${regions[i]}\u0000${regions[j]}`)) links.push({ fromRegion: regions[i]!, toRegion: regions[j]!, ...linkFigures(model.defaultLink) });
      }
    }
  }
  return links;
}

function linkFigures(l: LinkSpec): Pick<Link, 'bandwidthMbps' | 'latencyMs' | 'egressFenPerGB'> {
  return { bandwidthMbps: l.bandwidthMbps, latencyMs: l.latencyMs, egressFenPerGB: l.egressFenPerGB };
}

/** The scheduler's snapshot of `state`. */
export function buildSnapshot(state: SimState, links: readonly Link[] = snapshotLinks(state.model)): Snapshot {
  const offline = state.offline ?? new Set<string>();
  return {
    now: state.nowMs,
    centers: state.model.centers.map((c) => centerView(c, state.freeByPool, offline.has(c.id))),
    jobs: state.pending.map(pendingJob),
    links,
    datasets: [],
    running: (state.running ?? []).map(runningJob),
    orgWeights: state.orgWeights ?? {},
  };
}

/**
 * The scheduler's views of a model's centers, built once for a whole run: every pool's
 * `freeByNode` is the simulator's own live array of free capacity (the scheduler never writes to a
 * snapshot and keeps nothing of it after a pass), so a pass's snapshot costs no copy of the network.
 * The simulator changes those arrays only between passes.
 */
export class LiveViews {
  readonly model: NetworkModel;
  readonly links: readonly Link[];
  /** One view per center of the model, in model order. */
  readonly centers: readonly CenterView[];
  /** Per center, its pools' live free-capacity arrays, in pool order. */
  readonly freeByNode: readonly (readonly NodeRequest[][])[];

  constructor(model: NetworkModel, links: readonly Link[] = snapshotLinks(model)) {
    this.model = model;
    this.links = links;
    const free: NodeRequest[][][] = [];
    this.centers = model.centers.map((c) => {
      const arrays = c.pools.map((p) => Array.from({ length: p.nodes }, () => p.perNode));
      free.push(arrays);
      return {
        id: c.id,
        name: c.name,
        region: c.region,
        state: 'online' as const,
        energy: c.energy,
        pools: c.pools.map((p, i) => ({ ...poolView(c, p, undefined), freeByNode: arrays[i]! })),
        commands: null,
      };
    });
    this.freeByNode = free;
  }

  /** A snapshot at `nowMs` of `centers` (some of `this.centers`) with these pending and running jobs. */
  snapshot(
    nowMs: number,
    centers: readonly CenterView[],
    jobs: readonly PendingJob[],
    running: readonly RunningJob[],
    datasets: readonly DatasetView[] = [],
    orgWeights: Readonly<Record<string, number>> = {},
    links: readonly Link[] = this.links,
  ): Snapshot {
    return { now: nowMs, centers, jobs, links, datasets, running, orgWeights };
  }
}
