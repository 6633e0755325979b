import { DataRoutes } from './data.js';
import { boardWatts, carbonCurve, priceCurve } from './estimate.js';
import type { HourlyCurve } from './hourly.js';
import type { CenterView, PoolView, Snapshot } from './types.js';

/** A pool together with its center and its place in the network's fixed order. */
export interface PoolRef {
  readonly center: CenterView;
  readonly pool: PoolView;
  /** Position in `rankPools` order: the tie-breaker that keeps every decision deterministic. */
  readonly rank: number;
}

// Plain code-unit comparison, not localeCompare: the order must not depend on the host's locale.
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every pool of every center, ordered by center name, pool name, then center id and pool id, so
 * that ties and listings never depend on the order in which the snapshot happened to list them.
 */
export function rankPools(centers: readonly CenterView[]): PoolRef[] {
  const pairs: { center: CenterView; pool: PoolView }[] = [];
  for (const center of centers) for (const pool of center.pools) pairs.push({ center, pool });
  pairs.sort(
    (x, y) =>
      compareText(x.center.name, y.center.name) ||
      compareText(x.pool.name, y.pool.name) ||
      compareText(x.center.id, y.center.id) ||
      compareText(x.pool.id, y.pool.id),
  );
  return pairs.map((p, rank) => ({ center: p.center, pool: p.pool, rank }));
}

/**
 * What a pass knows about the network that no decision changes: the pools in their fixed order,
 * each with its region, chip, power, price and carbon curves, and the data routes between regions.
 * Everything is indexed by pool rank, so the pass works on small integers and typed arrays.
 * It reads nothing that changes between passes (not free capacity, not time: of `freeByNode` only
 * its length, the pool's node count), so a caller whose centers, links and datasets stay the same
 * may build it once and hand it to every `schedule`.
 */
export class Network {
  readonly refs: readonly PoolRef[];
  readonly routes: DataRoutes;
  /** Distinct regions of the centers, sorted; `regionOf[p]` indexes it. */
  readonly regions: readonly string[];
  readonly regionOf: Int32Array;
  /** Distinct accelerator keys of the pools, sorted; `chipOf[p]` indexes it, -1 for a CPU-only pool. */
  readonly chips: readonly string[];
  readonly chipOf: Int32Array;
  /** Distinct centers in pool order; `centerOf[p]` indexes it. */
  readonly centers: readonly CenterView[];
  readonly centerOf: Int32Array;
  readonly online: Uint8Array;
  readonly acceleratorWatts: Float64Array;
  readonly grid: readonly HourlyCurve[];
  readonly prices: readonly (HourlyCurve | null)[];
  /** The rank of each pool id (the first, should ids repeat). */
  readonly rankOfPool: ReadonlyMap<string, number>;
  /** The index of each chip in `chips`. */
  readonly chipIndex: ReadonlyMap<string, number>;
  // Per pool: a node's accelerators, cores and memory, its node count, its prices and its center's PUE.
  readonly capAcc: Float64Array;
  readonly capCores: Float64Array;
  readonly capMem: Float64Array;
  readonly nodeCount: Int32Array;
  readonly fenAcc: Float64Array;
  readonly fenCore: Float64Array;
  readonly pue: Float64Array;

  constructor(snapshot: Pick<Snapshot, 'centers' | 'links' | 'datasets'>) {
    const refs = rankPools(snapshot.centers);
    this.refs = refs;
    const n = refs.length;
    this.regions = [...new Set(snapshot.centers.map((c) => c.region))].sort(compareText);
    const regionIndex = new Map(this.regions.map((r, i) => [r, i]));
    this.chips = [...new Set(refs.flatMap((r) => (r.pool.accelerator === null ? [] : [r.pool.accelerator])))].sort(compareText);
    const chipIndex = new Map(this.chips.map((k, i) => [k, i]));
    this.chipIndex = chipIndex;
    this.capAcc = new Float64Array(refs.map((r) => r.pool.perNode.accelerators));
    this.capCores = new Float64Array(refs.map((r) => r.pool.perNode.cores));
    this.capMem = new Float64Array(refs.map((r) => r.pool.perNode.memoryMiB));
    this.nodeCount = new Int32Array(refs.map((r) => r.pool.freeByNode.length));
    this.fenAcc = new Float64Array(refs.map((r) => r.pool.fenPerAcceleratorHour));
    this.fenCore = new Float64Array(refs.map((r) => r.pool.fenPerCoreHour));
    this.pue = new Float64Array(refs.map((r) => r.center.energy.pue));
    this.routes = new DataRoutes(snapshot.links, snapshot.datasets, this.regions);

    this.regionOf = new Int32Array(n);
    this.chipOf = new Int32Array(n);
    this.centerOf = new Int32Array(n);
    this.online = new Uint8Array(n);
    this.acceleratorWatts = new Float64Array(n);
    const centers: CenterView[] = [];
    const centerSlot = new Map<CenterView, number>();
    const gridOf = new Map<CenterView, HourlyCurve>();
    const grid: HourlyCurve[] = [];
    const prices: (HourlyCurve | null)[] = [];
    const rankOfPool = new Map<string, number>();
    for (let p = 0; p < n; p++) {
      const { center, pool } = refs[p]!;
      let slot = centerSlot.get(center);
      if (slot === undefined) {
        slot = centers.length;
        centerSlot.set(center, slot);
        centers.push(center);
        gridOf.set(center, carbonCurve(center));
      }
      this.centerOf[p] = slot;
      this.regionOf[p] = regionIndex.get(center.region)!;
      this.chipOf[p] = pool.accelerator === null ? -1 : chipIndex.get(pool.accelerator)!;
      this.online[p] = center.state === 'online' ? 1 : 0;
      this.acceleratorWatts[p] = boardWatts(pool.accelerator);
      grid.push(gridOf.get(center)!);
      prices.push(priceCurve(center, pool));
      if (!rankOfPool.has(pool.id)) rankOfPool.set(pool.id, p);
    }
    this.centers = centers;
    this.grid = grid;
    this.prices = prices;
    this.rankOfPool = rankOfPool;
  }
}
