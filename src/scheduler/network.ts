import type { CenterView, PoolView } from './types.js';

/** A pool together with its center and its place in the network's fixed order. */
export interface PoolRef {
  readonly center: CenterView;
  readonly pool: PoolView;
  /** Position in `rankPools` order: the tie-breaker that keeps every decision deterministic. */
  readonly rank: number;
}

// Plain code-unit comparison, not localeCompare: the order must not depend on the host's locale.
function compareText(a: string, b: string): number {
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
