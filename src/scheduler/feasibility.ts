import type { CenterView, Infeasible, PendingJob, PoolView } from './types.js';
import { infeasibleDetail } from './explain.js';
import { centerHasProgram } from './commands.js';
import { rankPools } from './network.js';
import type { StaticReason } from './reasons.js';

/**
 * The first permanent reason `pool` can never run `job`, or null when an empty pool could.
 * Precedence follows `STATIC_REASONS`: the chip before the software, the software before sizes.
 * `hasProgram` lets a caller that checks many pools of one center reuse its command look-up.
 */
export function staticReason(
  job: PendingJob,
  center: CenterView,
  pool: PoolView,
  hasProgram: boolean = centerHasProgram(center, job.program),
): StaticReason | null {
  const want = job.perNode;
  if (want.accelerators > 0 && pool.accelerator === null) return 'no-accelerator';
  if (job.allowedAccelerators.length > 0 && (pool.accelerator === null || !job.allowedAccelerators.includes(pool.accelerator))) {
    return 'no-adapted-accelerator';
  }
  if (!hasProgram) return 'command-not-found';
  const cap = pool.perNode;
  if (want.accelerators > cap.accelerators || want.cores > cap.cores || want.memoryMiB > cap.memoryMiB) return 'node-too-small';
  if (job.nodes > pool.freeByNode.length) return 'gang-does-not-fit';
  return null;
}

/**
 * The submission-time check: which pools could ever run `job`, ignoring current load and center
 * state (a center that is offline may come back). `feasible` is true when at least one pool passes;
 * `infeasible` lists the others in network order, each with a sentence naming the numbers.
 */
export function checkFeasible(
  job: PendingJob,
  centers: readonly CenterView[],
): { feasible: boolean; infeasible: Infeasible[] } {
  let feasible = false;
  const infeasible: Infeasible[] = [];
  for (const { center, pool } of rankPools(centers)) {
    const reason = staticReason(job, center, pool);
    if (reason === null) {
      feasible = true;
      continue;
    }
    infeasible.push({
      centerId: center.id,
      centerName: center.name,
      poolId: pool.id,
      poolName: pool.name,
      reason,
      detail: infeasibleDetail(reason, job, center, pool),
    });
  }
  return { feasible, infeasible };
}
