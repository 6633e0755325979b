/** A replica held at one center, as the eviction planner sees it. */
export interface HeldReplica {
  readonly datasetId: string;
  readonly bytes: number;
  /** Epoch ms it was last staged into a job or read. */
  readonly lastUsedAt: number;
  /** A live rule counts on it, a job is staging or running with it, or it is the last copy. */
  readonly pinned: boolean;
}

export type EvictionPlan =
  | { readonly kind: 'fits'; readonly evict: readonly string[]; readonly freedBytes: number }
  | { readonly kind: 'full'; readonly neededBytes: number; readonly evictableBytes: number };

/**
 * Makes room for `incomingBytes` at a center holding `held` under `quotaBytes`: evicts unpinned
 * replicas, least recently used first (then larger first, then by id, so the plan is the same every
 * time), only as many as needed. `full` when even evicting every unpinned replica is not enough:
 * the caller refuses the transfer and loses nothing.
 */
export function planEviction(held: readonly HeldReplica[], quotaBytes: number, incomingBytes: number): EvictionPlan {
  const used = held.reduce((s, r) => s + r.bytes, 0);
  let over = used + incomingBytes - quotaBytes;
  if (over <= 0) return { kind: 'fits', evict: [], freedBytes: 0 };
  const candidates = held
    .filter((r) => !r.pinned)
    .sort((a, b) => a.lastUsedAt - b.lastUsedAt || b.bytes - a.bytes || (a.datasetId < b.datasetId ? -1 : a.datasetId > b.datasetId ? 1 : 0));
  const evictable = candidates.reduce((s, r) => s + r.bytes, 0);
  if (evictable < over) return { kind: 'full', neededBytes: over, evictableBytes: evictable };
  const evict: string[] = [];
  let freed = 0;
  for (const r of candidates) {
    if (over <= 0) break;
    evict.push(r.datasetId);
    freed += r.bytes;
    over -= r.bytes;
  }
  return { kind: 'fits', evict, freedBytes: freed };
}
