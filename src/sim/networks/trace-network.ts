/*
 * Networks built from a trace, for when no network file is given: one center per cluster of the
 * trace (ElasticFlow: ten; SWF: the machine; Alibaba: the PAI cluster), each placed at a hub site
 * of china-hubs so that energy, carbon and links are real-world figures, with one accelerator and
 * an east/west price mix.
 *
 * Capacity (docs/sim-network.md, "Centers built from a trace"):
 *   - SWF with MaxProcs in its header: the machine as it was, MaxProcs cores: MaxNodes nodes of
 *     MaxProcs / MaxNodes cores when that divides, else one node of MaxProcs cores (up to the
 *     network file's 4,096 cores per node; beyond, 64-core nodes rounded up).
 *   - Otherwise (ElasticFlow, or any trace without its machine size) the default rule `quantile`
 *     0.99: the 99th percentile, time-weighted over the cluster's span, of the GPUs (CPU cores)
 *     its jobs would hold at once if each started at submit; rounded up to whole nodes (8 GPUs or
 *     64 cores), and never less than the nodes of the cluster's largest job, so every job can run
 *     at home. Bursts above it queue; the other 99% of the time the cluster could run everything
 *     submitted. `peak` (never queue) and `fixed` are the alternatives.
 *   - Alibaba with its node list: `alibabaNetwork` uses the real nodes instead.
 *
 * Sites: clusters alternate east and west in name order (first east), east ones cycling over the
 * east hubs and west ones over the west hubs, so about half the capacity is in the cheaper,
 * greener west. Prices: `fenPerAcceleratorHour` east, × `WEST_PRICE_FACTOR` (0.8) west.
 */
import type { ClusterDemand } from '../demand.js';
import { parseNetwork, type NetworkFile, type NetworkModel } from '../network-model.js';
import type { AlibabaNodeGroup } from '../trace/alibaba.js';
import type { TraceHeader } from '../trace/types.js';
import { CORE_PRICES, HUB_SITES, WEST_PRICE_FACTOR, hubLinks, siteEnergy, type HubSite } from './china-hubs.js';

export type CapacityRule =
  | { readonly kind: 'quantile'; readonly q: number }
  | { readonly kind: 'peak' }
  | { readonly kind: 'fixed'; readonly units: number };

export const DEFAULT_CAPACITY_RULE: CapacityRule = { kind: 'quantile', q: 0.99 };

/** How a cluster's capacity was chosen: the figures behind the choice, for the report. */
export interface CapacityChoice {
  readonly cluster: string;
  readonly unit: 'gpu' | 'cpu';
  /** What the rule gave before rounding. */
  readonly ruleUnits: number;
  readonly unitsPerNode: number;
  readonly nodes: number;
  /** nodes × unitsPerNode. */
  readonly units: number;
  /** Why: `p99 of concurrent demand 226 GPUs → 29 nodes of 8`. */
  readonly why: string;
}

/** Whole nodes of `unitsPerNode` that hold `units` (at least one). */
export function nodesFor(units: number, unitsPerNode: number): number {
  return Math.max(1, Math.ceil(units / unitsPerNode));
}

/** The capacity of a cluster under `rule`, in whole nodes, never fewer than its largest job needs. */
export function capacityFor(d: ClusterDemand, rule: CapacityRule, unitsPerNode: number): CapacityChoice {
  const ruleUnits = rule.kind === 'quantile' ? d.quantile(rule.q) : rule.kind === 'peak' ? d.peakUnits : rule.units;
  const what = rule.kind === 'quantile' ? `p${+(rule.q * 100).toFixed(2)} of concurrent demand` : rule.kind === 'peak' ? 'peak concurrent demand' : 'fixed';
  const unitName = d.unit === 'gpu' ? 'GPUs' : 'cores';
  let nodes = nodesFor(ruleUnits, unitsPerNode);
  let why = `${what} ${ruleUnits} ${unitName} → ${nodes} nodes of ${unitsPerNode}`;
  const forLargest = nodesFor(d.maxJobUnits, unitsPerNode);
  if (forLargest > nodes) {
    nodes = forLargest;
    why += `, raised to ${nodes} for the largest job (${d.maxJobUnits} ${unitName})`;
  }
  return { cluster: d.cluster, unit: d.unit, ruleUnits, unitsPerNode, nodes, units: nodes * unitsPerNode, why };
}

export interface TraceNetworkOptions {
  readonly rule?: CapacityRule;
  /** Accelerator of every GPU center (default nvidia-v100, the era of the public GPU traces). */
  readonly accelerator?: string;
  readonly gpuNode?: { readonly accelerators: number; readonly cores: number; readonly memoryGiB: number };
  readonly cpuNode?: { readonly cores: number; readonly memoryGiB: number };
  /** East price per accelerator-hour, fen (west: × 0.8). Default 800 (ILLUSTRATIVE ASSUMPTION). */
  readonly fenPerAcceleratorHour?: number;
  /** Hub sites to place clusters at (default: china-hubs' eight). */
  readonly sites?: readonly HubSite[];
  readonly name?: string;
}

/** The network file's limit on cores per node. */
const MAX_CORES_PER_NODE = 4096;

export const DEFAULT_GPU_NODE = { accelerators: 8, cores: 96, memoryGiB: 768 } as const;
export const DEFAULT_CPU_NODE = { cores: 64, memoryGiB: 256 } as const;

/** The site of the i-th cluster (in name order): alternating east, west, cycling within each side. */
export function siteFor(i: number, sites: readonly HubSite[]): HubSite {
  const east = sites.filter((s) => s.side === 'east');
  const west = sites.filter((s) => s.side === 'west');
  const side = i % 2 === 0 ? (east.length > 0 ? east : west) : west.length > 0 ? west : east;
  return side[Math.floor(i / 2) % side.length]!;
}

/**
 * The network for a trace: one center per cluster of `demands`, sized by `header` (SWF MaxProcs)
 * or by `options.rule`, at sites from `options.sites`. Returns the validated model, the network file
 * (to write out and edit) and how each capacity was chosen.
 */
export function traceNetwork(
  header: TraceHeader,
  demands: readonly ClusterDemand[],
  options: TraceNetworkOptions = {},
): { model: NetworkModel; file: NetworkFile; capacities: CapacityChoice[] } {
  const rule = options.rule ?? DEFAULT_CAPACITY_RULE;
  const accelerator = options.accelerator ?? 'nvidia-v100';
  const gpuNode = options.gpuNode ?? DEFAULT_GPU_NODE;
  const cpuNode = options.cpuNode ?? DEFAULT_CPU_NODE;
  const eastPrice = options.fenPerAcceleratorHour ?? 800;
  const sites = options.sites ?? HUB_SITES;
  const capacities: CapacityChoice[] = [];
  const used: HubSite[] = [];
  const centers: NetworkFile['centers'] = demands.map((d, i) => {
    const site = siteFor(i, sites);
    used.push(site);
    const side = site.side;
    let pool: NetworkFile['centers'][number]['pools'][number];
    if (d.unit === 'gpu') {
      const c = capacityFor(d, rule, gpuNode.accelerators);
      capacities.push(c);
      pool = {
        name: 'gpu',
        accelerator,
        nodes: c.nodes,
        perNode: gpuNode,
        fenPerAcceleratorHour: side === 'east' ? eastPrice : Math.round(eastPrice * WEST_PRICE_FACTOR),
        fenPerCoreHour: 0,
      };
    } else {
      const machine = header.format === 'swf' && header.maxProcs !== undefined && demands.length === 1 ? header.maxProcs : undefined;
      let c: CapacityChoice;
      let cores = cpuNode.cores;
      if (machine !== undefined) {
        const n = header.maxNodes;
        cores = n !== undefined && n > 0 && machine % n === 0 ? machine / n : machine <= MAX_CORES_PER_NODE ? machine : cpuNode.cores;
        const nodes = nodesFor(machine, cores);
        c = { cluster: d.cluster, unit: 'cpu', ruleUnits: machine, unitsPerNode: cores, nodes, units: nodes * cores, why: `the machine: MaxProcs ${machine} → ${nodes} nodes of ${cores} cores` };
      } else {
        c = capacityFor(d, rule, cpuNode.cores);
      }
      capacities.push(c);
      pool = {
        name: 'cpu',
        accelerator: null,
        nodes: c.nodes,
        perNode: { accelerators: 0, cores, memoryGiB: cpuNode.memoryGiB },
        fenPerAcceleratorHour: 0,
        fenPerCoreHour: CORE_PRICES[side].cpu,
      };
    }
    return {
      id: centerId(d.cluster),
      name: `${d.cluster} (at ${site.name})`,
      region: site.region,
      tags: [side, 'trace-cluster', `site:${site.id}`],
      energy: siteEnergy(site),
      pools: [pool],
    };
  });
  const file: NetworkFile = {
    name: options.name ?? `${header.source}-network`,
    description: `Built from trace ${header.source}: one center per cluster; capacity rule ${JSON.stringify(rule)}; sites from china-hubs.`,
    centers,
    links: hubLinks(uniqueBy(used, (s) => s.region)),
    defaultLink: null,
  };
  return { model: parseNetwork(file, file.name).model, file, capacities };
}

/**
 * The Alibaba PAI cluster from its node list: one center, one pool per group of identical nodes
 * (named after the trace model, e.g. `v100m16-8x96`), at the first east hub. GPU nodes only
 * (`openb_node_list_gpu_node.csv`). Prices: `fenPerAcceleratorHour` for every model (the trace has
 * no prices; ILLUSTRATIVE).
 */
export function alibabaNetwork(
  groups: readonly AlibabaNodeGroup[],
  options: { fenPerAcceleratorHour?: number; site?: HubSite; cluster?: string } = {},
): { model: NetworkModel; file: NetworkFile } {
  const site = options.site ?? HUB_SITES[0]!;
  const price = options.fenPerAcceleratorHour ?? 800;
  const file: NetworkFile = {
    name: 'alibaba-pai',
    description: 'The Alibaba PAI GPU cluster of the 2023 trace, from its node list; prices illustrative.',
    centers: [
      {
        id: centerId(options.cluster ?? 'alibaba-pai'),
        name: `Alibaba PAI (at ${site.name})`,
        region: site.region,
        tags: [site.side, 'trace-cluster'],
        energy: siteEnergy(site),
        pools: groups
          .filter((g) => g.nodes > 0 && g.coresPerNode > 0)
          .map((g) => ({
            name: `${(g.traceModel || 'cpu').toLowerCase()}-${g.gpusPerNode}x${g.coresPerNode}c-${Math.round(g.memoryMiBPerNode / 1024)}g`,
            accelerator: g.gpusPerNode > 0 ? g.accelerator : null,
            nodes: g.nodes,
            perNode: { accelerators: g.accelerator === null ? 0 : g.gpusPerNode, cores: g.coresPerNode, memoryGiB: g.memoryMiBPerNode / 1024 },
            fenPerAcceleratorHour: g.accelerator === null || g.gpusPerNode === 0 ? 0 : price,
            fenPerCoreHour: g.accelerator === null || g.gpusPerNode === 0 ? CORE_PRICES[site.side].cpu : 0,
          })),
      },
    ],
    links: [],
    defaultLink: null,
  };
  return { model: parseNetwork(file, file.name).model, file };
}

/** A valid center id for a cluster name. */
export function centerId(cluster: string): string {
  const id = cluster.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  return id === '' ? 'cluster' : id.slice(0, 64);
}

function uniqueBy<T>(xs: readonly T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)));
}
