/*
 * Federations built from several traces at once (issue 16): every cluster (an ElasticFlow file, an
 * SWF log) becomes one center, at its own site (region, time zone, energy), and its capacity is
 * scaled so that the cluster ALONE would run at a chosen utilisation: an operating point.
 *
 *   capacity units = the cluster's offered work (units × run seconds) ÷ (its arrival window × target)
 *
 * rounded up to whole nodes and never below its largest job (a tiny cluster may then run below the
 * target; the capacity table says so). The arrival window is the cluster's first submit to its last
 * submit (`ClusterDemand.arrivalUnits`): while jobs arrive, the work they bring is the target
 * fraction of the center. Not the span to the last end: a slice of a trace (ten days of jobs that
 * run for days) ends long after its last arrival, and sizing on that span diluted the demand up to
 * twofold, so a "90%" point offered 1.4× the capacity while jobs arrived. Centers keep their own load: a busy cluster gets a
 * big center, a quiet one a small one, and their bursts come at different times, so an isolated
 * center queues while another idles, as real ones do.
 *
 * Prices (ILLUSTRATIVE ASSUMPTION, docs/sim-network.md "Federations"): the list price of an
 * accelerator-hour is a hardware share the same everywhere plus a power share that follows the
 * site's own electricity price hour by hour (its time of use, from china-hubs):
 *
 *   fen per accelerator-hour at local hour h = HARDWARE_FEN + KWH_PER_PRICE × electricity fen/kWh (h)
 *
 * written as the pool's base price (at the flat electricity price) and a time-of-use factor per
 * hour. KWH_PER_PRICE = 10 overstates a GPU's real draw (~0.5 kWh per hour with its host share)
 * about twentyfold: it stands for an operator passing time-of-use through with its margin, so that
 * the network has what the issue asks for, a cheapest center that changes by hour and region and
 * is not the greenest (Inner Mongolia's cheap coal-and-wind night against Sichuan's hydro; Ningxia
 * and Gansu cheap and green only in their midday solar valley). Carbon is the site's own hourly
 * figure (china-hubs: provincial grid, western green-power contracts).
 */
import { parseNetwork, type NetworkFile, type NetworkModel } from '../network-model.js';
import type { ClusterDemand } from '../demand.js';
import { CORE_PRICES, HUB_SITES, hubLinks, siteEnergy, type HubSite } from './china-hubs.js';
import { centerId, DEFAULT_CPU_NODE, DEFAULT_GPU_NODE, nodesFor, type CapacityChoice } from './trace-network.js';

/** Fen per accelerator-hour that does not depend on the hour (hardware, staff, margin). ASSUMPTION. */
export const HARDWARE_FEN = 400;
/** kWh of electricity priced into one accelerator-hour (see the top of this file). ASSUMPTION. */
export const KWH_PER_PRICE = 10;

export interface FederationOptions {
  readonly name: string;
  /** The target utilisation of every center run alone, in (0, 1]. */
  readonly utilisation: number;
  /** One site per cluster, in the order of `demands` (regions should differ: one center per region). */
  readonly sites: readonly HubSite[];
  /** Accelerator of every GPU center (default nvidia-v100, the era of the public GPU traces). */
  readonly accelerator?: string;
  readonly gpuNode?: { readonly accelerators: number; readonly cores: number; readonly memoryGiB: number };
  readonly cpuNode?: { readonly cores: number; readonly memoryGiB: number };
}

/** The site of a hub by id (`nm-horinger`), for naming federation sites. */
export function hubSite(id: string): HubSite {
  const s = HUB_SITES.find((x) => x.id === id);
  if (s === undefined) throw new Error(`no hub site "${id}" (known: ${HUB_SITES.map((x) => x.id).join(', ')})`);
  return s;
}

/** The 24 local-hour electricity prices of a site (fen/kWh), resolved from its energy figure. */
export function siteElectricity(site: HubSite): number[] {
  const { model } = parseNetwork(
    { name: 'probe', centers: [{ id: 'probe', region: site.region, energy: siteEnergy(site), pools: [{ name: 'cpu', nodes: 1, perNode: { accelerators: 0, cores: 1, memoryGiB: 1 }, fenPerAcceleratorHour: 0, fenPerCoreHour: 0 }] }] },
    'probe',
  );
  return [...model.centers[0]!.energy.priceFenPerKwh];
}

/** A site's accelerator-hour list price: base (whole fen, at the flat hour) and time-of-use factors by local hour. */
export function sitePrice(site: HubSite): { fenPerAcceleratorHour: number; priceFactorByHour: number[] } {
  const elec = siteElectricity(site);
  const sorted = [...elec].sort((a, b) => a - b);
  const flat = sorted[12]!; // the median hour: the flat (shoulder) price of a time-of-use tariff
  const base = Math.round(HARDWARE_FEN + KWH_PER_PRICE * flat);
  return { fenPerAcceleratorHour: base, priceFactorByHour: elec.map((e) => Number(((HARDWARE_FEN + KWH_PER_PRICE * e) / base).toFixed(6))) };
}

/** The capacity that makes a cluster run at `utilisation` alone (see the top of this file). */
export function capacityAtLoad(d: ClusterDemand, utilisation: number, unitsPerNode: number): CapacityChoice {
  if (!(utilisation > 0 && utilisation <= 1)) throw new Error(`utilisation must be in (0, 1], got ${utilisation}`);
  const ruleUnits = d.arrivalUnits / utilisation;
  const unitName = d.unit === 'gpu' ? 'GPUs' : 'cores';
  let nodes = nodesFor(ruleUnits, unitsPerNode);
  let why = `mean demand while jobs arrive ${d.arrivalUnits.toFixed(1)} ${unitName} at ${Math.round(utilisation * 100)}% → ${nodes} nodes of ${unitsPerNode}`;
  const forLargest = nodesFor(d.maxJobUnits, unitsPerNode);
  if (forLargest > nodes) {
    nodes = forLargest;
    why += `, raised to ${nodes} for the largest job (${d.maxJobUnits} ${unitName})`;
  }
  return { cluster: d.cluster, unit: d.unit, ruleUnits: Number(ruleUnits.toFixed(1)), unitsPerNode, nodes, units: nodes * unitsPerNode, why };
}

/** The federation of `demands` at an operating point (see the top of this file). */
export function federationNetwork(demands: readonly ClusterDemand[], options: FederationOptions): { model: NetworkModel; file: NetworkFile; capacities: CapacityChoice[] } {
  if (options.sites.length < demands.length) throw new Error(`${demands.length} clusters need ${demands.length} sites, got ${options.sites.length}`);
  const accelerator = options.accelerator ?? 'nvidia-v100';
  const gpuNode = options.gpuNode ?? DEFAULT_GPU_NODE;
  const cpuNode = options.cpuNode ?? DEFAULT_CPU_NODE;
  const capacities: CapacityChoice[] = [];
  const sites = demands.map((_d, i) => options.sites[i]!);
  const centers: NetworkFile['centers'] = demands.map((d, i) => {
    const site = sites[i]!;
    const gpu = d.unit === 'gpu';
    const c = capacityAtLoad(d, options.utilisation, gpu ? gpuNode.accelerators : cpuNode.cores);
    capacities.push(c);
    const price = sitePrice(site);
    return {
      id: centerId(d.cluster),
      name: `${d.cluster} (at ${site.name})`,
      region: site.region,
      tags: [site.side, 'trace-cluster', `site:${site.id}`],
      energy: siteEnergy(site),
      pools: [
        gpu
          ? { name: 'gpu', accelerator, nodes: c.nodes, perNode: gpuNode, fenPerAcceleratorHour: price.fenPerAcceleratorHour, fenPerCoreHour: 0, priceFactorByHour: price.priceFactorByHour }
          : {
              name: 'cpu',
              accelerator: null,
              nodes: c.nodes,
              perNode: { accelerators: 0, cores: cpuNode.cores, memoryGiB: cpuNode.memoryGiB },
              fenPerAcceleratorHour: 0,
              fenPerCoreHour: CORE_PRICES[site.side].cpu,
              priceFactorByHour: price.priceFactorByHour,
            },
      ],
    };
  });
  const file: NetworkFile = {
    name: options.name,
    description: `Federation of ${demands.map((d) => d.cluster).join(', ')}; every center sized to run alone at ${Math.round(options.utilisation * 100)}% utilisation; sites from china-hubs, prices following each site's time of use.`,
    centers,
    links: hubLinks(sites.filter((s, i) => sites.findIndex((x) => x.region === s.region) === i)),
    defaultLink: null,
  };
  return { model: parseNetwork(file, file.name).model, file, capacities };
}
