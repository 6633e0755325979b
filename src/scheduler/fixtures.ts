/*
 * Test fixtures in the domain's words: `center('west', {pools: [pool('ascend-910b', {nodes: 4})]})`,
 * `job({gpus: 1})`. Defaults are small round numbers so a test states only what it is about.
 */
import type { NodeRequest } from '../core/resources.js';
import type { CenterState, CenterView, Objective, PendingJob, PoolView, Snapshot } from './types.js';

/** 2025-01-15 02:00 UTC, 10:00 in China: a fixed clock for every fixture. */
export const NOW = Date.UTC(2025, 0, 15, 2, 0, 0);
export const GiB = 1024;
export const HOUR = 3600;

export interface PoolSpec {
  readonly name?: string;
  readonly nodes?: number;
  /** Accelerators per node (8 for an accelerator pool, 0 for a CPU pool by default). */
  readonly perNode?: number;
  readonly cores?: number;
  readonly memoryGiB?: number;
  readonly fenPerAcceleratorHour?: number;
  readonly fenPerCoreHour?: number;
  /** Taken on every node already (by running jobs). */
  readonly used?: Partial<NodeRequest>;
  /** The first `busyNodes` nodes are fully taken. */
  readonly busyNodes?: number;
  /** Free capacity per node, overriding `used` and `busyNodes`. */
  readonly freeByNode?: readonly NodeRequest[];
}

/** A pool waiting for its center: `center()` gives it its ids. */
export type PoolDraft = Omit<PoolView, 'id' | 'centerId'>;

/** A pool of `accelerator` nodes (`null` for CPU-only); named after the chip unless told. */
export function pool(accelerator: string | null, spec: PoolSpec = {}): PoolDraft {
  const nodes = spec.nodes ?? 4;
  const perNode: NodeRequest = {
    accelerators: spec.perNode ?? (accelerator === null ? 0 : 8),
    cores: spec.cores ?? 64,
    memoryMiB: (spec.memoryGiB ?? 512) * GiB,
  };
  const used = { accelerators: 0, cores: 0, memoryMiB: 0, ...spec.used };
  const freeByNode =
    spec.freeByNode ??
    Array.from({ length: nodes }, (_, i) =>
      i < (spec.busyNodes ?? 0)
        ? { accelerators: 0, cores: 0, memoryMiB: 0 }
        : {
            accelerators: perNode.accelerators - used.accelerators,
            cores: perNode.cores - used.cores,
            memoryMiB: perNode.memoryMiB - used.memoryMiB,
          },
    );
  return {
    name: spec.name ?? accelerator ?? 'cpu',
    accelerator,
    perNode,
    freeByNode,
    fenPerAcceleratorHour: spec.fenPerAcceleratorHour ?? (accelerator === null ? 0 : 1000),
    fenPerCoreHour: spec.fenPerCoreHour ?? 10,
  };
}

/** A CPU-only pool. */
export function cpuPool(spec: PoolSpec = {}): PoolDraft {
  return pool(null, spec);
}

export interface CenterSpec {
  readonly id?: string;
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

/** An online center named `name` (id `ctr-<name>`), its pools' ids `<center id>/<pool name>`. */
export function center(name: string, spec: CenterSpec = {}): CenterView {
  const id = spec.id ?? `ctr-${name}`;
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
    pools: (spec.pools ?? []).map((p) => ({ ...p, id: `${id}/${p.name}`, centerId: id })),
    commands: spec.commands == null ? null : new Set(spec.commands),
  };
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
  readonly allow?: readonly string[];
  readonly program?: string;
  readonly objective?: Objective;
  readonly priority?: number;
  readonly submittedAt?: number;
}

let nextJob = 1;

/** A pending job: one node, 4 cores, 16 GiB, one hour of `python`, cheapest; ids `job-1`, `job-2` … unless given. */
export function job(spec: JobSpec = {}): PendingJob {
  return {
    id: spec.id ?? `job-${nextJob++}`,
    orgId: spec.orgId ?? 'org-a',
    nodes: spec.nodes ?? 1,
    perNode: { accelerators: spec.gpus ?? 0, cores: spec.cores ?? 4, memoryMiB: (spec.memoryGiB ?? 16) * GiB },
    walltimeSeconds: spec.walltimeSeconds ?? (spec.hours ?? 1) * HOUR,
    allowedAccelerators: spec.allow ?? [],
    program: spec.program ?? 'python',
    objective: spec.objective ?? 'cheapest',
    priority: spec.priority ?? 0,
    submittedAt: spec.submittedAt ?? NOW - 60_000,
  };
}

/** A snapshot at `NOW` unless told. */
export function snapshot(spec: { centers: readonly CenterView[]; jobs: readonly PendingJob[]; now?: number }): Snapshot {
  return { now: spec.now ?? NOW, centers: spec.centers, jobs: spec.jobs };
}
