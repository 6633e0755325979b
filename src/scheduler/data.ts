import type { DatasetView, Link } from './types.js';

/**
 * A transfer within one region, unless the snapshot lists a link from the region to itself: free,
 * 100 Gbit/s (a data-center fabric), no latency worth counting.
 */
export const SAME_REGION_LINK: Omit<Link, 'fromRegion' | 'toRegion'> = Object.freeze({
  bandwidthMbps: 100_000,
  latencyMs: 0,
  egressFenPerGB: 0,
});

/** Egress is priced per GB of 10^9 bytes. */
export const BYTES_PER_GB = 1e9;

type Path = Omit<Link, 'fromRegion' | 'toRegion'>;

/** How one dataset reaches one region: from which replica, how long, at what price (fen, not yet rounded). */
export interface Route {
  readonly fromRegion: string;
  readonly seconds: number;
  readonly fen: number;
}

/** What staging a job's inputs into one region takes. */
export interface StageIn {
  readonly seconds: number;
  /** Egress of all inputs, rounded half up to a whole fen once. */
  readonly egressFen: number;
  /** The first input no replica can reach (or that the snapshot does not know), or null. */
  readonly unreachable: string | null;
}

/** Seconds to move `bytes` over `path`: its latency plus the bytes at its bandwidth. */
export function transferSeconds(bytes: number, path: Path): number {
  return path.latencyMs / 1000 + (bytes * 8) / (path.bandwidthMbps * 1e6);
}

// Of two listed paths for one direction, the better one counts, so the listing order never matters.
function better(a: Path, b: Path): Path {
  if (a.bandwidthMbps !== b.bandwidthMbps) return a.bandwidthMbps > b.bandwidthMbps ? a : b;
  if (a.latencyMs !== b.latencyMs) return a.latencyMs < b.latencyMs ? a : b;
  return a.egressFenPerGB <= b.egressFenPerGB ? a : b;
}

/**
 * The data side of the network: which link joins two regions and how each dataset reaches each
 * region from its nearest replica (the fastest transfer; then the cheaper; then the region name).
 * Regions are numbered once and paths kept in a matrix, so a pass over many jobs works out each
 * (dataset, region) route once, without building keys.
 */
export class DataRoutes {
  readonly #datasets: ReadonlyMap<string, DatasetView>;
  readonly #routes = new Map<string, Route | null>();
  /** Regions by index, for `tablesOf`. */
  readonly regions: readonly string[];
  readonly #index = new Map<string, number>();
  /** #paths[from × n + to], for every region any link, dataset or `regions` names. */
  readonly #paths: (Path | null)[];
  readonly #byRegion = new Map<string, { seconds: Float64Array; fen: Float64Array }>();

  constructor(links: readonly Link[], datasets: readonly DatasetView[], regions: readonly string[] = []) {
    const listed = new Map<string, Path>();
    for (const l of links) {
      if (!(l.bandwidthMbps > 0) || !(l.latencyMs >= 0) || !(l.egressFenPerGB >= 0)) continue; // unusable as listed
      const key = `${l.fromRegion}\n${l.toRegion}`;
      const had = listed.get(key);
      listed.set(key, had === undefined ? l : better(had, l));
    }
    const byId = new Map<string, DatasetView>();
    for (const d of datasets) {
      const had = byId.get(d.id);
      // A dataset listed twice: its replicas add up; the larger size counts.
      byId.set(d.id, had === undefined ? d : { id: d.id, bytes: Math.max(had.bytes, d.bytes), regions: [...had.regions, ...d.regions] });
    }
    this.#datasets = byId;
    this.regions = regions;
    const names = [...regions, ...links.flatMap((l) => [l.fromRegion, l.toRegion]), ...datasets.flatMap((d) => d.regions)];
    for (const r of names) if (!this.#index.has(r)) this.#index.set(r, this.#index.size);
    const n = this.#index.size;
    const all = [...this.#index.keys()];
    this.#paths = new Array<Path | null>(n * n).fill(null);
    for (let f = 0; f < n; f++) {
      for (let t = 0; t < n; t++) {
        const from = all[f]!;
        const to = all[t]!;
        this.#paths[f * n + t] = listed.get(`${from}\n${to}`) ?? listed.get(`${to}\n${from}`) ?? (f === t ? SAME_REGION_LINK : null);
      }
    }
  }

  dataset(id: string): DatasetView | undefined {
    return this.#datasets.get(id);
  }

  /** The path from `from` to `to`: the listed link, else the reverse one, else within a region `SAME_REGION_LINK`, else null. */
  path(from: string, to: string): Path | null {
    const f = this.#index.get(from);
    const t = this.#index.get(to);
    if (f === undefined || t === undefined) return from === to ? SAME_REGION_LINK : null;
    return this.#paths[f * this.#index.size + t]!;
  }

  /** How dataset `id` reaches `region`, or null when it is unknown or no replica has a path there. */
  route(id: string, region: string): Route | null {
    const key = `${id}\n${region}`;
    let known = this.#routes.get(key);
    if (known === undefined) {
      const d = this.#datasets.get(id);
      known = d === undefined ? null : this.#best(d, region);
      this.#routes.set(key, known);
    }
    return known;
  }

  #best(d: DatasetView, region: string): Route | null {
    let best: Route | null = null;
    for (const from of d.regions) {
      const path = this.path(from, region);
      if (path === null) continue;
      const seconds = transferSeconds(d.bytes, path);
      const fen = (d.bytes / BYTES_PER_GB) * path.egressFenPerGB;
      if (
        best === null ||
        seconds < best.seconds ||
        (seconds === best.seconds && (fen < best.fen || (fen === best.fen && from < best.fromRegion)))
      ) {
        best = { fromRegion: from, seconds, fen };
      }
    }
    return best;
  }

  /**
   * Staging `inputs` into `region`, one dataset after another (a dataset listed twice moves once).
   * No inputs: nothing to move, instantly and for free.
   */
  stageIn(inputs: readonly { readonly datasetId: string }[], region: string): StageIn {
    let seconds = 0;
    let fen = 0;
    for (let i = 0; i < inputs.length; i++) {
      const id = inputs[i]!.datasetId;
      if (listedBefore(inputs, i, id)) continue;
      const r = this.route(id, region);
      if (r === null) return { seconds: Infinity, egressFen: 0, unreachable: id };
      seconds += r.seconds;
      fen += r.fen;
    }
    return { seconds, egressFen: Math.round(fen), unreachable: null };
  }

  /**
   * The per-region tables (`regions` order: seconds, Infinity when unreachable; fen not yet rounded)
   * of `inputs`, each dataset once, in input order, into `out` (emptied first): summing them region
   * by region gives `stageIn` exactly, without touching regions no pool of interest is in.
   */
  tablesOf(inputs: readonly { readonly datasetId: string }[], out: { seconds: Float64Array; fen: Float64Array }[]): void {
    out.length = 0;
    for (let i = 0; i < inputs.length; i++) {
      const id = inputs[i]!.datasetId;
      if (!listedBefore(inputs, i, id)) out.push(this.#table(id));
    }
  }

  #table(id: string): { seconds: Float64Array; fen: Float64Array } {
    let t = this.#byRegion.get(id);
    if (t === undefined) {
      const n = this.regions.length;
      t = { seconds: new Float64Array(n).fill(Infinity), fen: new Float64Array(n) };
      const d = this.#datasets.get(id);
      if (d !== undefined) {
        for (let r = 0; r < n; r++) {
          const route = this.#best(d, this.regions[r]!);
          if (route === null) continue;
          t.seconds[r] = route.seconds;
          t.fen[r] = route.fen;
        }
      }
      this.#byRegion.set(id, t);
    }
    return t;
  }
}

function listedBefore(inputs: readonly { readonly datasetId: string }[], i: number, id: string): boolean {
  for (let k = 0; k < i; k++) if (inputs[k]!.datasetId === id) return true;
  return false;
}
