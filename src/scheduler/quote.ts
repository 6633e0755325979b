import { estimate, toOption } from './estimate.js';
import { infeasibleDetail } from './explain.js';
import { staticReason } from './feasibility.js';
import { rankPools } from './network.js';
import { scoreEstimates } from './score.js';
import type { CenterView, Infeasible, PendingJob, PlacementOption } from './types.js';

/**
 * What `job` would cost, take and emit on every pool that could run it if it started at `now`,
 * ignoring current load: scored under the job's objective and sorted best first (ties in network
 * order), with the pools that cannot run it (permanently, or because their center is not online).
 * For quotes; `schedule` is what decides.
 */
export function quoteOptions(
  job: PendingJob,
  centers: readonly CenterView[],
  now: number,
): { options: PlacementOption[]; infeasible: Infeasible[] } {
  const candidates = [];
  const infeasible: Infeasible[] = [];
  for (const { center, pool } of rankPools(centers)) {
    const reason = staticReason(job, center, pool) ?? (center.state === 'online' ? null : 'center-offline');
    if (reason === null) {
      candidates.push({ center, pool, estimate: estimate(job, center, pool, now) });
    } else {
      const detail = infeasibleDetail(reason, job, center, pool);
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
