import { estimate, toOption, type Estimate } from './estimate.js';
import { infeasibleDetail, type DetailFacts } from './explain.js';
import { limitFacts, limitReason, staticReason } from './feasibility.js';
import { Network } from './network.js';
import type { LimitReason, StaticReason } from './reasons.js';
import { scoreEstimates } from './score.js';
import type { CenterView, Infeasible, PendingJob, PlacementOption, PoolView, Snapshot } from './types.js';

/**
 * What `job` would cost, take and emit on every pool that could run it if it started now,
 * ignoring current load: scored under the job's objective and sorted best first (ties in network
 * order), with the pools that cannot run it (permanently, for its limits, or because their center
 * is not online). For quotes before anything is submitted; `schedule` is what decides.
 */
export function quoteOptions(
  job: PendingJob,
  network: Pick<Snapshot, 'now' | 'centers' | 'links' | 'datasets'>,
): { options: PlacementOption[]; infeasible: Infeasible[] } {
  const net = new Network(network);
  const now = network.now;
  const candidates: { center: CenterView; pool: PoolView; estimate: Estimate }[] = [];
  const infeasible: Infeasible[] = [];
  for (const { center, pool } of net.refs) {
    let reason: StaticReason | LimitReason | 'center-offline' | null = staticReason(job, center, pool);
    let facts: DetailFacts | undefined;
    if (reason === null) {
      const e = estimate(job, center, pool, { now, routes: net.routes });
      // The quote is for starting now: a budget only a cheaper hour meets counts as broken.
      reason = limitReason(job, e);
      facts = limitFacts(job, center, e, net.routes, now);
      if (reason === null && center.state !== 'online') reason = 'center-offline';
      if (reason === null) candidates.push({ center, pool, estimate: e });
    }
    if (reason !== null) {
      const detail = infeasibleDetail(reason, job, center, pool, undefined, facts);
      infeasible.push({ centerId: center.id, centerName: center.name, poolId: pool.id, poolName: pool.name, reason, detail });
    }
  }
  const scores = scoreEstimates(
    job.objective,
    candidates.map((c) => c.estimate),
    now,
  );
  const options = candidates
    .map((c, i) => ({ i, option: toOption(c.center, c.pool, c.estimate, scores[i]!) }))
    .sort((a, b) => a.option.score - b.option.score || a.i - b.i)
    .map((x) => x.option);
  return { options, infeasible };
}
