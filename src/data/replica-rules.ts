/**
 * Replication rules, after Rucio's: "`copies` replicas of this dataset at centers among `centers`
 * until `expiresAt`". The control plane evaluates every rule against the replicas that exist and
 * plans the transfers that are missing; a replica a live rule counts on is pinned (never evicted).
 */
export interface ReplicaRule {
  readonly id: string;
  readonly datasetId: string;
  readonly copies: number;
  /** The centers that may hold the copies, in order of preference. */
  readonly centers: readonly string[];
  /** Epoch ms after which the rule no longer holds anything; null: forever. */
  readonly expiresAt: number | null;
}

/** A replica as the planner sees it: complete ones count, pending ones are on their way. */
export interface ReplicaState {
  readonly datasetId: string;
  readonly center: string;
  readonly state: 'complete' | 'pending';
}

export interface ReplicaPlan {
  /** Replicas to create (a transfer each), in rule order then preference order. */
  readonly add: readonly { readonly datasetId: string; readonly center: string; readonly ruleId: string }[];
  /** `${datasetId}\n${center}` of every replica a live rule counts on. */
  readonly pinned: ReadonlySet<string>;
  /** Rules that cannot be met (fewer eligible centers than copies), with the shortfall. */
  readonly short: readonly { readonly ruleId: string; readonly missing: number }[];
}

export const replicaKey = (datasetId: string, center: string): string => `${datasetId}\n${center}`;

/**
 * What the rules want that the replicas lack, at time `now`. A rule counts the complete and pending
 * replicas already at its centers first (preference order), then adds replicas at its most preferred
 * centers without one. Expired rules want nothing and pin nothing.
 */
export function planReplicas(rules: readonly ReplicaRule[], replicas: readonly ReplicaState[], now: number): ReplicaPlan {
  const have = new Set(replicas.map((r) => replicaKey(r.datasetId, r.center)));
  const add: { datasetId: string; center: string; ruleId: string }[] = [];
  const pinned = new Set<string>();
  const short: { ruleId: string; missing: number }[] = [];
  for (const rule of rules) {
    if (rule.expiresAt !== null && rule.expiresAt <= now) continue;
    const centers = [...new Set(rule.centers)];
    let counted = 0;
    for (const c of centers) {
      if (counted >= rule.copies) break;
      const key = replicaKey(rule.datasetId, c);
      if (have.has(key)) {
        pinned.add(key);
        counted++;
      }
    }
    for (const c of centers) {
      if (counted >= rule.copies) break;
      const key = replicaKey(rule.datasetId, c);
      if (have.has(key)) continue;
      have.add(key);
      pinned.add(key);
      add.push({ datasetId: rule.datasetId, center: c, ruleId: rule.id });
      counted++;
    }
    if (counted < rule.copies) short.push({ ruleId: rule.id, missing: rule.copies - counted });
  }
  return { add, pinned, short };
}
