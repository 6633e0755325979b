/*
 * The lower bound's network: every center of a model pooled into ONE center of the same total
 * capacity. Pools of the same accelerator and node shape merge (nodes add up), so the pooled center
 * has exactly the nodes of the whole network, and a job that fits any one center fits it.
 *
 * Replayed with FCFS + EASY (the `isolated` policy, all jobs at the one center), it is a bound on
 * waits *for this trace*: one queue over all the capacity, no job ever stuck at a busy center while
 * another is idle, no data to move. It is not a proof that no federated policy can do better (a
 * different order, or EASY with one reservation per pool instead of one for the whole pool, can
 * beat a single FCFS queue on some traces), which is why reports call it a bound, not an optimum.
 *
 * Money and energy of the pooled center are only indicative: its prices are the node-weighted
 * means of the merged pools (whole fen), its PUE and hourly electricity price and carbon the
 * capacity-weighted means of the centers, its time zone the first center's.
 */
import { centerCapacity, parseNetwork, type NetworkFile, type NetworkModel } from '../network-model.js';

export const POOLED_CENTER_ID = 'pooled';

/** One center with all the capacity of `model` (see the top of this file). */
export function pooledNetwork(model: NetworkModel): NetworkModel {
  const first = model.centers[0];
  if (first === undefined) throw new Error('a network to pool needs at least one center');
  const groups = new Map<string, { name: string; accelerator: string | null; perNode: { accelerators: number; cores: number; memoryMiB: number }; nodes: number; accFen: number; coreFen: number }>();
  for (const c of model.centers) {
    for (const p of c.pools) {
      const key = `${p.accelerator ?? ''}|${p.perNode.accelerators}|${p.perNode.cores}|${p.perNode.memoryMiB}`;
      const g = groups.get(key);
      if (g === undefined) groups.set(key, { name: p.name, accelerator: p.accelerator, perNode: p.perNode, nodes: p.nodes, accFen: p.fenPerAcceleratorHour * p.nodes, coreFen: p.fenPerCoreHour * p.nodes });
      else {
        g.nodes += p.nodes;
        g.accFen += p.fenPerAcceleratorHour * p.nodes;
        g.coreFen += p.fenPerCoreHour * p.nodes;
      }
    }
  }
  // Weights: a center's accelerators when the network has any, else its cores.
  const caps = model.centers.map(centerCapacity);
  const anyAcc = caps.some((c) => c.accelerators > 0);
  const weights = caps.map((c) => (anyAcc ? c.accelerators : c.cores));
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const mean = (f: (i: number) => number) => model.centers.reduce((s, _c, i) => s + (weights[i]! / total) * f(i), 0);
  const hourly = (pick: (i: number) => readonly number[]) => Array.from({ length: 24 }, (_, h) => Number(mean((i) => pick(i)[h]!).toFixed(6)));
  const names = new Set<string>();
  const file: NetworkFile = {
    name: `${model.name}-pooled`,
    description: `Every center of ${model.name} pooled into one center of the same total capacity (the lower bound on waits).`,
    centers: [
      {
        id: POOLED_CENTER_ID,
        name: `${model.name} pooled`,
        region: first.region,
        tags: ['pooled'],
        energy: {
          priceFenPerKwh: hourly((i) => model.centers[i]!.energy.priceFenPerKwh),
          pue: Math.max(1, Number(mean((i) => model.centers[i]!.energy.pue).toFixed(6))),
          carbonKgPerKwh: hourly((i) => model.centers[i]!.energy.carbonKgPerKwh),
          utcOffsetHours: first.energy.utcOffsetHours,
        },
        pools: [...groups.values()].map((g) => {
          let name = g.name;
          for (let k = 2; names.has(name); k++) name = `${g.name}-${k}`;
          names.add(name);
          return {
            name,
            accelerator: g.accelerator,
            nodes: g.nodes,
            perNode: { accelerators: g.perNode.accelerators, cores: g.perNode.cores, memoryGiB: g.perNode.memoryMiB / 1024 },
            fenPerAcceleratorHour: Math.round(g.accFen / g.nodes),
            fenPerCoreHour: Math.round(g.coreFen / g.nodes),
          };
        }),
      },
    ],
    links: [],
    defaultLink: null,
    sameRegionLink: model.sameRegionLink,
  };
  return parseNetwork(file, file.name).model;
}
