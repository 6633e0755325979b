import { centerHasProgram } from './commands.js';
import { DataRoutes } from './data.js';
import { costOf, estimate, hourlyFen, priceCurve, type Estimate } from './estimate.js';
import { infeasibleDetail, type DetailFacts } from './explain.js';
import { rankPools } from './network.js';
import type { LimitReason, StaticReason } from './reasons.js';
import { efficiencyOn } from './runtime.js';
import type { CenterView, DatasetView, Infeasible, Link, PendingJob, PoolView } from './types.js';

/**
 * The first permanent reason `pool` can never run `job`, or null when an empty pool could.
 * Precedence follows `STATIC_REASONS`: the place, the chip, the software, the sizes.
 * `hasProgram` lets a caller that checks many pools of one center reuse its command look-up.
 */
export function staticReason(
  job: PendingJob,
  center: CenterView,
  pool: PoolView,
  hasProgram: boolean = centerHasProgram(center, job.program),
): StaticReason | null {
  if (job.allowedRegions.length > 0 && !job.allowedRegions.includes(center.region)) return 'residency-forbids';
  const want = job.perNode;
  const chip = pool.accelerator;
  if (want.accelerators > 0 && chip === null) return 'no-accelerator';
  if (chip !== null && job.forbiddenAccelerators.includes(chip)) return 'forbidden-accelerator';
  if (job.allowedAccelerators.length > 0 && (chip === null || !job.allowedAccelerators.includes(chip))) return 'no-adapted-accelerator';
  if (want.accelerators > 0 && efficiencyOn(job, chip!) === null) return 'no-adapted-accelerator';
  if (!hasProgram) return 'command-not-found';
  const cap = pool.perNode;
  if (want.accelerators > cap.accelerators || want.cores > cap.cores || want.memoryMiB > cap.memoryMiB) return 'node-too-small';
  if (job.nodes > pool.freeByNode.length) return 'gang-does-not-fit';
  return null;
}

/**
 * The first of the job's limits that `e`, the estimate of starting now, breaks (`LIMIT_REASONS`
 * order), or null. `cheapestCostFen` is what the run costs at the pool's cheapest hour: a budget
 * that only a cheaper hour meets is not broken, the job may wait for that hour.
 */
export function limitReason(job: PendingJob, e: Estimate, cheapestCostFen: number = e.costFen): LimitReason | null {
  if (!Number.isFinite(e.stageInSeconds)) return 'data-unreachable';
  if (e.runSeconds > job.walltimeSeconds) return 'exceeds-walltime';
  if (job.budgetFen !== null && cheapestCostFen > job.budgetFen) return 'over-budget';
  if (job.deadline !== null && e.completionAt > job.deadline) return 'misses-deadline';
  return null;
}

/** What the run of `e` costs at the pool's cheapest hour (its egress included). */
export function cheapestCost(job: PendingJob, center: CenterView, pool: PoolView, e: Estimate): number {
  const prices = priceCurve(center, pool);
  if (prices === null) return e.costFen;
  return costOf(hourlyFen(job, pool) * prices.min, e.runSeconds) + e.egressFen;
}

/** The facts a limit reason's sentence needs: the estimate, and which input cannot arrive. */
export function limitFacts(job: PendingJob, center: CenterView, e: Estimate, routes: DataRoutes, now: number): DetailFacts {
  if (Number.isFinite(e.stageInSeconds)) return { now, estimate: e };
  const id = routes.stageIn(job.inputs, center.region).unreachable ?? '';
  return { now, estimate: e, unreachable: { datasetId: id, replicas: routes.dataset(id)?.regions ?? null } };
}

/** The network besides its centers, for the checks that need estimates. */
export interface NetworkFacts {
  readonly now: number;
  readonly links: readonly Link[];
  readonly datasets: readonly DatasetView[];
}

/**
 * The submission-time check: which pools could ever run `job`, ignoring current load and center
 * state (a center that is offline may come back). `feasible` is true when at least one pool passes;
 * `infeasible` lists the others in network order, each with a sentence naming the numbers. With
 * `network`, the job's limits count too (data it cannot reach, its walltime, budget and deadline
 * against the estimate of starting now); without it, only the walltime.
 */
export function checkFeasible(
  job: PendingJob,
  centers: readonly CenterView[],
  network?: NetworkFacts,
): { feasible: boolean; infeasible: Infeasible[] } {
  let feasible = false;
  const infeasible: Infeasible[] = [];
  const routes = new DataRoutes(network?.links ?? [], network?.datasets ?? []);
  const now = network?.now ?? 0;
  for (const { center, pool } of rankPools(centers)) {
    let reason: StaticReason | LimitReason | null = staticReason(job, center, pool);
    let facts: DetailFacts | undefined;
    if (reason === null) {
      const e = estimate(job, center, pool, { now, routes });
      if (network !== undefined) {
        reason = limitReason(job, e, cheapestCost(job, center, pool, e));
        facts = limitFacts(job, center, e, routes, now);
      } else if (e.runSeconds > job.walltimeSeconds) {
        reason = 'exceeds-walltime';
        facts = { now, estimate: e };
      }
    }
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
      detail: infeasibleDetail(reason, job, center, pool, undefined, facts),
    });
  }
  return { feasible, infeasible };
}
