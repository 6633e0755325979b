/*
 * Test fixtures in the domain's words: `center('west', {pools: [pool('ascend-910b', {nodes: 4})]})`,
 * `job({gpus: 1})`, `link('east', 'west', {mbps: 1000})`, `dataset('imagenet', {gb: 150, regions: ['east']})`.
 * Defaults are small round numbers so a test states only what it is about.
 */
import type { NodeRequest } from '../core/resources.js';
import type {
  CenterState,
  CenterView,
  DatasetView,
  JobObjective,
  Link,
  PendingJob,
  PoolView,
  RunningJob,
  Snapshot,
  SpeedMetric,
} from './types.js';

/** 2025-01-15 02:00 UTC, 10:00 in China: a fixed clock for every fixture. */
export const NOW = Date.UTC(2025, 0, 15, 2, 0, 0);
export const GiB = 1024;
export const HOUR = 3600;
export const HOUR_MS = 3_600_000;

/** A job already on a pool: on nodes `nodes`, taking `perNode` (whole nodes unless told), ending `endsInHours` after NOW. */
export interface RunningSpec {
  readonly nodes: readonly number[];
  readonly endsInHours: number;
  readonly perNode?: Partial<NodeRequest>;
  readonly orgId?: string;
  readonly jobId?: string;
}

export interface PoolSpec {
  readonly name?: string;
  readonly nodes?: number;
  /** Accelerators per node (8 for an accelerator pool, 0 for a CPU pool by default). */
  readonly perNode?: number;
  readonly cores?: number;
  readonly memoryGiB?: number;
  readonly fenPerAcceleratorHour?: number;
  readonly fenPerCoreHour?: number;
  /** Time-of-use factors by local hour (null, the default: one price around the clock). */
  readonly priceFactorByHour?: readonly number[] | null;
  /** Taken on every node already (by jobs the snapshot does not list). */
  readonly used?: Partial<NodeRequest>;
  /** The first `busyNodes` nodes are fully taken (by jobs the snapshot does not list). */
  readonly busyNodes?: number;
  /** Jobs running on the pool: they take their share of `freeByNode` and give it back at their end. */
  readonly running?: readonly RunningSpec[];
  /** Free capacity per node, overriding `used`, `busyNodes` and `running`. */
  readonly freeByNode?: readonly NodeRequest[];
}

/** A pool waiting for its center: `center()` gives it its ids. */
export type PoolDraft = Omit<PoolView, 'id' | 'centerId'>;

const runningOnDraft = new WeakMap<PoolDraft, readonly RunningSpec[]>();
const runningOnPool = new WeakMap<PoolView, readonly RunningJob[]>();

let nextRunning = 1;

/** A pool of `accelerator` nodes (`null` for CPU-only); named after the chip unless told. */
export function pool(accelerator: string | null, spec: PoolSpec = {}): PoolDraft {
  const nodes = spec.nodes ?? 4;
  const perNode: NodeRequest = {
    accelerators: spec.perNode ?? (accelerator === null ? 0 : 8),
    cores: spec.cores ?? 64,
    memoryMiB: (spec.memoryGiB ?? 512) * GiB,
  };
  const used = { accelerators: 0, cores: 0, memoryMiB: 0, ...spec.used };
  const free = Array.from({ length: nodes }, (_, i) =>
    i < (spec.busyNodes ?? 0)
      ? { accelerators: 0, cores: 0, memoryMiB: 0 }
      : {
          accelerators: perNode.accelerators - used.accelerators,
          cores: perNode.cores - used.cores,
          memoryMiB: perNode.memoryMiB - used.memoryMiB,
        },
  );
  for (const r of spec.running ?? []) {
    const take = { ...perNode, ...r.perNode };
    for (const i of r.nodes) {
      const f = free[i]!;
      free[i] = { accelerators: f.accelerators - take.accelerators, cores: f.cores - take.cores, memoryMiB: f.memoryMiB - take.memoryMiB };
    }
  }
  const draft: PoolDraft = {
    name: spec.name ?? accelerator ?? 'cpu',
    accelerator,
    perNode,
    freeByNode: spec.freeByNode ?? free,
    fenPerAcceleratorHour: spec.fenPerAcceleratorHour ?? (accelerator === null ? 0 : 1000),
    fenPerCoreHour: spec.fenPerCoreHour ?? 10,
    priceFactorByHour: spec.priceFactorByHour ?? null,
  };
  if (spec.running !== undefined) runningOnDraft.set(draft, spec.running);
  return draft;
}

/** A CPU-only pool. */
export function cpuPool(spec: PoolSpec = {}): PoolDraft {
  return pool(null, spec);
}

export interface CenterSpec {
  readonly id?: string;
  /** The center's region (its name unless told). */
  readonly region?: string;
  readonly state?: CenterState;
  readonly pools?: readonly PoolDraft[];
  /** Programs on the PATH; null (the default) when the center does not say. */
  readonly commands?: readonly string[] | null;
  readonly pue?: number;
  /** Grid carbon intensity, flat or one value per local hour. */
  readonly carbonKgPerKwh?: number | readonly number[];
  readonly priceFenPerKwh?: number | readonly number[];
  readonly utcOffsetHours?: number;
}

const hourly = (v: number | readonly number[]): readonly number[] => (typeof v === 'number' ? Array(24).fill(v) : v);

/** 24 hourly values: `high` except `low` in the local hours [from, to) (wrapping past midnight). */
export function hours(high: number, low: number, from: number, to: number): number[] {
  return Array.from({ length: 24 }, (_, h) => ((from <= to ? h >= from && h < to : h >= from || h < to) ? low : high));
}

/** An online center named `name` (id `ctr-<name>`), its pools' ids `<center id>/<pool name>`. */
export function center(name: string, spec: CenterSpec = {}): CenterView {
  const id = spec.id ?? `ctr-${name}`;
  const pools = (spec.pools ?? []).map((p) => {
    const view: PoolView = { ...p, id: `${id}/${p.name}`, centerId: id };
    const running = runningOnDraft.get(p);
    if (running !== undefined) {
      runningOnPool.set(
        view,
        running.map((r) => ({
          jobId: r.jobId ?? `running-${nextRunning++}`,
          orgId: r.orgId ?? 'org-a',
          centerId: id,
          poolId: view.id,
          nodeIndices: r.nodes,
          perNode: { ...p.perNode, ...r.perNode },
          startedAt: NOW - HOUR_MS,
          endsAt: NOW + r.endsInHours * HOUR_MS,
        })),
      );
    }
    return view;
  });
  return {
    id,
    name,
    region: spec.region ?? name,
    state: spec.state ?? 'online',
    energy: {
      priceFenPerKwh: hourly(spec.priceFenPerKwh ?? 60),
      pue: spec.pue ?? 1.25,
      carbonKgPerKwh: hourly(spec.carbonKgPerKwh ?? 0.5),
      utcOffsetHours: spec.utcOffsetHours ?? 8,
    },
    pools,
    commands: spec.commands == null ? null : new Set(spec.commands),
  };
}

/** The running jobs the fixtures' pools were built with. */
export function runningOn(centers: readonly CenterView[]): RunningJob[] {
  return centers.flatMap((c) => c.pools.flatMap((p) => runningOnPool.get(p) ?? []));
}

/** A link between two regions (both ways): 1 Gbit/s, 20 ms and 10 fen per GB unless told. */
export function link(fromRegion: string, toRegion: string, spec: { mbps?: number; latencyMs?: number; fenPerGB?: number } = {}): Link {
  return { fromRegion, toRegion, bandwidthMbps: spec.mbps ?? 1000, latencyMs: spec.latencyMs ?? 20, egressFenPerGB: spec.fenPerGB ?? 10 };
}

/** A dataset of `gb` GB (10^9 bytes) with replicas in `regions`. */
export function dataset(id: string, spec: { gb: number; regions: readonly string[] }): DatasetView {
  return { id, bytes: spec.gb * 1e9, regions: spec.regions };
}

export interface JobSpec {
  readonly id?: string;
  readonly orgId?: string;
  readonly nodes?: number;
  /** Accelerators per node (0, a CPU job, by default). */
  readonly gpus?: number;
  readonly cores?: number;
  readonly memoryGiB?: number;
  readonly hours?: number;
  readonly walltimeSeconds?: number;
  /** Expected run on the reference chip, in hours or seconds (unknown by default). */
  readonly runtimeHours?: number;
  readonly runtimeSeconds?: number;
  readonly reference?: string;
  readonly speedMetric?: SpeedMetric;
  /** The app's adaptation matrix (a raw command, null, by default). */
  readonly adaptation?: Readonly<Record<string, number>> | null;
  readonly allow?: readonly string[];
  readonly forbid?: readonly string[];
  readonly regions?: readonly string[];
  /** Deadline in hours after NOW. */
  readonly deadlineInHours?: number;
  readonly budgetFen?: number;
  /** Dataset ids. */
  readonly inputs?: readonly string[];
  readonly program?: string;
  readonly objective?: JobObjective;
  readonly priority?: number;
  readonly submittedAt?: number;
}

let nextJob = 1;

/** A pending job: one node, 4 cores, 16 GiB, one hour of `python`, cheapest; ids `job-1`, `job-2` … unless given. */
export function job(spec: JobSpec = {}): PendingJob {
  const runtime = spec.runtimeSeconds ?? (spec.runtimeHours === undefined ? null : spec.runtimeHours * HOUR);
  return {
    id: spec.id ?? `job-${nextJob++}`,
    orgId: spec.orgId ?? 'org-a',
    nodes: spec.nodes ?? 1,
    perNode: { accelerators: spec.gpus ?? 0, cores: spec.cores ?? 4, memoryMiB: (spec.memoryGiB ?? 16) * GiB },
    walltimeSeconds: spec.walltimeSeconds ?? (spec.hours ?? 1) * HOUR,
    runtimeSeconds: runtime,
    referenceAccelerator: spec.reference ?? null,
    speedMetric: spec.speedMetric ?? 'fp16',
    adaptation: spec.adaptation ?? null,
    allowedAccelerators: spec.allow ?? [],
    forbiddenAccelerators: spec.forbid ?? [],
    allowedRegions: spec.regions ?? [],
    deadline: spec.deadlineInHours === undefined ? null : NOW + spec.deadlineInHours * HOUR_MS,
    budgetFen: spec.budgetFen ?? null,
    inputs: (spec.inputs ?? []).map((datasetId) => ({ datasetId })),
    program: spec.program ?? 'python',
    objective: spec.objective ?? 'cheapest',
    priority: spec.priority ?? 0,
    submittedAt: spec.submittedAt ?? NOW - 60_000,
  };
}

export interface SnapshotSpec {
  readonly centers: readonly CenterView[];
  readonly jobs: readonly PendingJob[];
  readonly now?: number;
  readonly links?: readonly Link[];
  readonly datasets?: readonly DatasetView[];
  /** The running jobs (by default those the pools were built with). */
  readonly running?: readonly RunningJob[];
  readonly orgWeights?: Readonly<Record<string, number>>;
}

/** A snapshot at `NOW` unless told, with no links, datasets or weights unless told. */
export function snapshot(spec: SnapshotSpec): Snapshot {
  return {
    now: spec.now ?? NOW,
    centers: spec.centers,
    jobs: spec.jobs,
    links: spec.links ?? [],
    datasets: spec.datasets ?? [],
    running: spec.running ?? runningOn(spec.centers),
    orgWeights: spec.orgWeights ?? {},
  };
}
