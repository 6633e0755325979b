import { weightOf } from './fairshare.js';

/**
 * How many queued jobs of each org one scheduling pass looks at, within `budget`: shares by weight
 * (water-filling), so an org with few jobs gets all of them and the rest of the budget is shared
 * among the orgs that have more, by their weights. A million jobs of one org therefore never push
 * another org's jobs out of the pass, and the pass never looks at more than `budget` jobs.
 * `queued` is each org's count (it may be capped at `budget`); orgs with none are left out.
 */
export function fairQuotas(queued: ReadonlyMap<string, number>, weights: Readonly<Record<string, number>>, budget: number): Map<string, number> {
  const quota = new Map<string, number>();
  let open = [...queued].filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let left = Math.max(0, Math.floor(budget));
  // Orgs that want less than their share take all they want; repeat until every open org wants more.
  for (;;) {
    const total = open.reduce((s, [org]) => s + weightOf(weights, org), 0);
    const satisfied = open.filter(([org, n]) => n <= (left * weightOf(weights, org)) / total);
    if (satisfied.length === 0) break;
    for (const [org, n] of satisfied) {
      quota.set(org, n);
      left -= n;
    }
    open = open.filter(([org]) => !quota.has(org));
    if (open.length === 0) return quota;
  }
  const total = open.reduce((s, [org]) => s + weightOf(weights, org), 0);
  let given = 0;
  for (const [org] of open) {
    const share = Math.floor((left * weightOf(weights, org)) / total);
    quota.set(org, share);
    given += share;
  }
  // What flooring left over goes one each to the heaviest orgs (ties by id), so the budget is used.
  const byWeight = [...open].sort(([a], [b]) => weightOf(weights, b) - weightOf(weights, a) || (a < b ? -1 : 1));
  for (let i = 0; given < left && i < byWeight.length; i++) {
    const [org, n] = byWeight[i]!;
    if (quota.get(org)! < n) {
      quota.set(org, quota.get(org)! + 1);
      given++;
    }
  }
  return quota;
}
