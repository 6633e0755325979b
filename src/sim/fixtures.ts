/*
 * Fixture helpers for the simulator's tests, named in the domain's words:
 * `network(center('c1', {pools: [cpuPool(4)]}))`, `job('A', {at: 0, procs: 2, run: 100})`.
 * Not exported from the package index: tests only.
 */
import { parseNetwork, type NetworkFile, type NetworkModel } from './network-model.js';
import type { TraceJob } from './trace/types.js';

type PoolFile = NetworkFile['centers'][number]['pools'][number];
type CenterFile = NetworkFile['centers'][number];

/** A CPU pool of `nodes` nodes of `cores` cores (default 1 core: one processor per node, like HPC2N). */
export function cpuPool(nodes: number, options: { cores?: number; name?: string; fenPerCoreHour?: number } = {}): PoolFile {
  return {
    name: options.name ?? 'cpu',
    accelerator: null,
    nodes,
    perNode: { accelerators: 0, cores: options.cores ?? 1, memoryGiB: 64 },
    fenPerAcceleratorHour: 0,
    fenPerCoreHour: options.fenPerCoreHour ?? 10,
  };
}

/** A pool of `nodes` nodes of 8 accelerators `chip` (96 cores, 768 GiB: the trace networks' GPU node). */
export function gpuPool(chip: string, nodes: number, options: { name?: string; fenPerAcceleratorHour?: number } = {}): PoolFile {
  return {
    name: options.name ?? chip,
    accelerator: chip,
    nodes,
    perNode: { accelerators: 8, cores: 96, memoryGiB: 768 },
    fenPerAcceleratorHour: options.fenPerAcceleratorHour ?? 800,
    fenPerCoreHour: 0,
  };
}

/** A center in its own region (default: the id) with flat power price and carbon. */
export function center(
  id: string,
  options: { pools: PoolFile[]; region?: string; carbon?: number | number[]; pricePerKwh?: number; pue?: number },
): CenterFile {
  return {
    id,
    region: options.region ?? id,
    energy: { priceFenPerKwh: options.pricePerKwh ?? 40, pue: options.pue ?? 1.2, carbonKgPerKwh: options.carbon ?? 0.5, utcOffsetHours: 8 },
    pools: options.pools,
  };
}

/** A validated network of `centers`, every pair of regions linked at 10 Gbit/s, 5 ms, 50 fen/GB. */
export function network(...centers: CenterFile[]): NetworkModel {
  const regions = [...new Set(centers.map((c) => c.region))];
  const links: NetworkFile['links'] = [];
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) links.push({ between: [regions[i]!, regions[j]!], bandwidthMbps: 10_000, latencyMs: 5, egressFenPerGB: 50 });
  }
  return parseNetwork({ name: 'test', centers, links }, 'test').model;
}

/** A trace job: `procs` CPUs (default 1) or `gpus` GPUs; requested time defaults to the run time. */
export function job(
  id: string,
  o: { at: number; run: number; req?: number; procs?: number; gpus?: number; home?: string; models?: string[] },
): TraceJob {
  return {
    id,
    submitAt: o.at,
    runSeconds: o.run,
    requestedSeconds: o.req ?? o.run,
    gpus: o.gpus ?? 0,
    ...(o.gpus ? {} : { cpus: o.procs ?? 1 }),
    ...(o.models ? { gpuModels: o.models } : {}),
    homeCluster: o.home ?? 'c1',
    status: 'completed',
  };
}
