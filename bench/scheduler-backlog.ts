/*
 * A seeded, realistic-looking network and backlog for the scheduler benchmark: regions of China's
 * "East Data, West Compute" hubs, centers with hourly carbon and time-of-use prices, pools of mixed
 * chips (mostly domestic), running jobs that fill most nodes, datasets with replicas, and pending
 * jobs with gangs, adaptation matrices, limits and all objectives.
 */
import { allAccelerators } from '../src/core/accelerators.js';
import type { NodeRequest } from '../src/core/resources.js';
import { randomInt, seededRng, type Rng } from '../src/core/rng.js';
import type {
  CenterView,
  DatasetView,
  JobObjective,
  Link,
  PendingJob,
  PoolView,
  RunningJob,
  Snapshot,
} from '../src/scheduler/types.js';

export interface BacklogSpec {
  readonly seed: number;
  readonly jobs: number;
  readonly centers: number;
  readonly poolsPerCenter: number;
  readonly datasets: number;
  readonly orgs: number;
  readonly apps: number;
  /** Share of nodes taken by running jobs. */
  readonly busy: number;
}

export const DEFAULT_BACKLOG: BacklogSpec = {
  seed: 20250115,
  jobs: 100_000,
  centers: 30,
  poolsPerCenter: 2,
  datasets: 2_000,
  orgs: 200,
  apps: 300,
  busy: 0.8,
};

const NOW = Date.UTC(2025, 0, 15, 2, 0, 0); // 10:00 in China
const HOUR_MS = 3_600_000;
const GiB = 1024;

const REGIONS = [
  { name: 'beijing', west: false },
  { name: 'zhangjiakou', west: false },
  { name: 'shanghai', west: false },
  { name: 'wuhu', west: false },
  { name: 'shaoguan', west: false },
  { name: 'shenzhen', west: false },
  { name: 'guian', west: true },
  { name: 'zhongwei', west: true },
  { name: 'qingyang', west: true },
  { name: 'hohhot', west: true },
  { name: 'chengdu', west: true },
  { name: 'chongqing', west: true },
] as const;

// Chips weighted toward domestic ones, as on the national network (keys from the accelerator table).
const CHIPS: readonly [string, number][] = [
  ['ascend-910b', 10],
  ['ascend-910b3', 4],
  ['ascend-910c', 3],
  ['hygon-k100-ai', 4],
  ['hygon-z100', 3],
  ['cambricon-mlu370-x8', 2],
  ['cambricon-mlu590', 2],
  ['kunlunxin-p800', 2],
  ['metax-c500', 2],
  ['mthreads-s4000', 2],
  ['iluvatar-bi-v150', 1],
  ['nvidia-a100', 2],
  ['nvidia-h100', 1],
  ['nvidia-h20', 2],
];

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[randomInt(rng, items.length)]!;
}

function weighted<T>(rng: Rng, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let x = rng.next() * total;
  for (const [item, w] of items) {
    x -= w;
    if (x < 0) return item;
  }
  return items[items.length - 1]![0];
}

function between(rng: Rng, lo: number, hi: number): number {
  return lo + rng.next() * (hi - lo);
}

function logUniform(rng: Rng, lo: number, hi: number): number {
  return Math.exp(between(rng, Math.log(lo), Math.log(hi)));
}

/** The benchmark's snapshot, the same for the same spec. */
export function generateBacklog(spec: BacklogSpec = DEFAULT_BACKLOG): Snapshot {
  const rng = seededRng(spec.seed);
  const known = new Set(allAccelerators().map((a) => a.key));
  for (const [k] of CHIPS) if (!known.has(k)) throw new Error(`bench chip ${k} is not in the accelerator table`);

  // Links: a mesh between regions, a few pairs missing (data cannot move there directly).
  const links: Link[] = [];
  for (let a = 0; a < REGIONS.length; a++) {
    for (let b = a + 1; b < REGIONS.length; b++) {
      if (rng.next() < 0.08) continue;
      links.push({
        fromRegion: REGIONS[a]!.name,
        toRegion: REGIONS[b]!.name,
        bandwidthMbps: Math.round(logUniform(rng, 1_000, 100_000)),
        latencyMs: Math.round(between(rng, 5, 30)),
        egressFenPerGB: Math.round(between(rng, 0, 80)),
      });
    }
  }

  const datasets: DatasetView[] = [];
  for (let d = 0; d < spec.datasets; d++) {
    const replicas = new Set<string>();
    const n = 1 + randomInt(rng, 3);
    while (replicas.size < n) replicas.add(pick(rng, REGIONS).name);
    datasets.push({ id: `ds-${d}`, bytes: Math.round(logUniform(rng, 1e9, 2e12)), regions: [...replicas] });
  }

  const centers: CenterView[] = [];
  const running: RunningJob[] = [];
  let runningId = 0;
  const orgIds = Array.from({ length: spec.orgs }, (_, i) => `org-${i}`);
  for (let c = 0; c < spec.centers; c++) {
    const region = REGIONS[c % REGIONS.length]!;
    const id = `ctr-${c}`;
    const base = region.west ? between(rng, 0.25, 0.45) : between(rng, 0.5, 0.7);
    const solar = between(rng, 0, 0.3);
    const carbon = Array.from({ length: 24 }, (_, h) => +(base * (1 - (h >= 10 && h < 16 ? solar : 0)) + between(rng, -0.02, 0.02)).toFixed(3));
    const pools: PoolView[] = [];
    for (let k = 0; k < spec.poolsPerCenter; k++) {
      const cpu = rng.next() < 0.12;
      const accelerator = cpu ? null : weighted(rng, CHIPS);
      const name = `${accelerator ?? 'cpu'}-${k}`;
      const perNode: NodeRequest = {
        accelerators: accelerator === null ? 0 : rng.next() < 0.8 ? 8 : 4,
        cores: pick(rng, [64, 96, 128, 192]),
        memoryMiB: pick(rng, [512, 1024, 2048]) * GiB,
      };
      const nodes = 16 + randomInt(rng, 113);
      const free: NodeRequest[] = Array.from({ length: nodes }, () => perNode);
      const poolId = `${id}/${name}`;
      // Running jobs: gangs of whole nodes and single nodes partly used, until `busy` is taken.
      let i = 0;
      while (i < nodes) {
        if (rng.next() > spec.busy) {
          i++;
          continue;
        }
        const gang = Math.min(nodes - i, rng.next() < 0.8 ? 1 : 1 + randomInt(rng, 8));
        const whole = gang > 1 || rng.next() < 0.6;
        const take: NodeRequest = whole
          ? perNode
          : {
              accelerators: Math.min(perNode.accelerators, 1 + randomInt(rng, Math.max(1, perNode.accelerators))),
              cores: Math.min(perNode.cores, 8 * (1 + randomInt(rng, 8))),
              memoryMiB: Math.min(perNode.memoryMiB, 64 * GiB * (1 + randomInt(rng, 6))),
            };
        const nodeIndices = Array.from({ length: gang }, (_, g) => i + g);
        for (const n of nodeIndices) {
          const f = free[n]!;
          free[n] = { accelerators: f.accelerators - take.accelerators, cores: f.cores - take.cores, memoryMiB: f.memoryMiB - take.memoryMiB };
        }
        const startedAt = NOW - Math.round(between(rng, 0, 24) * HOUR_MS);
        running.push({
          jobId: `run-${runningId++}`,
          orgId: pick(rng, orgIds),
          centerId: id,
          poolId,
          nodeIndices,
          perNode: take,
          startedAt,
          endsAt: NOW + Math.round(between(rng, -0.2, 48) * HOUR_MS),
        });
        i += gang;
      }
      const rate = accelerator === null ? 0 : Math.round(between(rng, 300, 2500));
      pools.push({
        id: poolId,
        centerId: id,
        name,
        accelerator,
        perNode,
        freeByNode: free,
        fenPerAcceleratorHour: rate,
        fenPerCoreHour: Math.round(between(rng, 3, 15)),
        // Time of use on some pools: a night valley and two day peaks.
        priceFactorByHour:
          rng.next() < 0.4 ? Array.from({ length: 24 }, (_, h) => (h >= 23 || h < 7 ? 0.6 : (h >= 9 && h < 12) || (h >= 14 && h < 18) ? 1.3 : 1)) : null,
      });
    }
    centers.push({
      id,
      name: `center-${String(c).padStart(2, '0')}`,
      region: region.name,
      state: rng.next() < 0.05 ? 'draining' : 'online',
      energy: {
        priceFenPerKwh: Array.from({ length: 24 }, (_, h) => (h >= 23 || h < 7 ? 35 : 75)),
        pue: +between(rng, 1.1, 1.5).toFixed(2),
        carbonKgPerKwh: carbon,
        utcOffsetHours: 8,
      },
      pools,
      commands: rng.next() < 0.2 ? new Set(['python', 'bash', 'torchrun']) : null,
    });
  }

  // Apps: adaptation matrices over a few chips each (day-0 adaptation for some domestic chips).
  const chipKeys = CHIPS.map(([k]) => k);
  const apps: Record<string, number>[] = [];
  for (let a = 0; a < spec.apps; a++) {
    const matrix: Record<string, number> = {};
    const n = 2 + randomInt(rng, 8);
    for (let i = 0; i < n; i++) matrix[pick(rng, chipKeys)] = +between(rng, 0.4, 1.1).toFixed(2);
    apps.push(matrix);
  }

  const objectives: readonly (readonly [JobObjective, number])[] = [
    ['cheapest', 24],
    ['fastest', 24],
    ['greenest', 24],
    ['balanced', 23],
    [{ weights: { cost: 2, time: 1, carbon: 1 } }, 5],
  ];
  const jobs: PendingJob[] = [];
  for (let j = 0; j < spec.jobs; j++) {
    const gpus = weighted(rng, [
      [0, 15],
      [1, 30],
      [2, 15],
      [4, 20],
      [8, 20],
    ] as const);
    const nodes = weighted(rng, [
      [1, 70],
      [2, 12],
      [4, 10],
      [8, 6],
      [16, 2],
    ] as const);
    const walltime = Math.round(logUniform(rng, 1, 48) * 3600);
    const app = rng.next() < 0.8 ? pick(rng, apps) : null;
    const inputs: { datasetId: string }[] = [];
    const nInputs = weighted(rng, [
      [0, 40],
      [1, 35],
      [2, 18],
      [3, 7],
    ] as const);
    for (let i = 0; i < nInputs; i++) inputs.push({ datasetId: `ds-${randomInt(rng, spec.datasets)}` });
    jobs.push({
      id: `job-${String(j).padStart(6, '0')}`,
      orgId: orgIds[Math.floor(spec.orgs * rng.next() ** 2)]!, // a few big orgs, a long tail
      nodes,
      perNode: { accelerators: gpus, cores: pick(rng, [4, 8, 16, 32, 64]), memoryMiB: pick(rng, [16, 32, 64, 128, 256, 512]) * GiB },
      walltimeSeconds: walltime,
      runtimeSeconds: rng.next() < 0.8 ? Math.round(walltime * between(rng, 0.2, 0.7)) : null,
      referenceAccelerator: rng.next() < 0.7 ? null : 'ascend-910b',
      speedMetric: rng.next() < 0.95 ? 'fp16' : 'fp32',
      // A copy per job, as if each were read from its own row.
      adaptation: app === null ? null : { ...app },
      allowedAccelerators: app === null && rng.next() < 0.3 ? [pick(rng, chipKeys), pick(rng, chipKeys)] : [],
      forbiddenAccelerators: rng.next() < 0.05 ? [pick(rng, chipKeys)] : [],
      allowedRegions: rng.next() < 0.1 ? [pick(rng, REGIONS).name, pick(rng, REGIONS).name] : [],
      deadline: rng.next() < 0.2 ? NOW + Math.round(between(rng, 2, 72) * HOUR_MS) : null,
      budgetFen: rng.next() < 0.2 ? Math.round(logUniform(rng, 1_000, 5_000_000)) : null,
      inputs,
      program: rng.next() < 0.9 ? 'python' : 'torchrun',
      objective: weighted(rng, objectives),
      priority: weighted(rng, [
        [0, 80],
        [1, 12],
        [2, 5],
        [-1, 3],
      ] as const),
      submittedAt: NOW - Math.round(between(rng, 0, 7 * 24) * HOUR_MS),
    });
  }

  const orgWeights: Record<string, number> = {};
  for (const o of orgIds) if (rng.next() < 0.2) orgWeights[o] = 1 + randomInt(rng, 4);

  return { now: NOW, centers, jobs, links, datasets, running, orgWeights };
}
