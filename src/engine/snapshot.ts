import type { NodeRequest } from '../core/resources.js';
import type { CenterView, DatasetView, Objective, PendingJob, PoolView, RunningJob, Snapshot } from '../scheduler/types.js';
import type { CenterRow, JobRow, PoolRow } from '../store/schema.js';
import { listCenters, listPools } from '../store/centers.js';
import { activeJobCapacity, queuedCountsByOrg, queuedJobsByQuota, type ActiveJobRow, type QueuedJobRow } from '../store/jobs.js';
import type { Queryable } from '../store/transaction.js';
import { listDatasets, listLinks, type DatasetWithReplicas } from '../store/datasets.js';
import { fairQuotas } from '../scheduler/index.js';

/**
 * The most queued jobs one scheduling pass looks at (a pass over 10,000 takes about 0.2 s). The
 * budget is shared among the orgs by their weights (`fairQuotas`), so no org's backlog crowds
 * another org out of a pass; the rest wait for the next pass.
 */
export const JOBS_PER_PASS = 10_000;

/**
 * Reads the network and each org's fair slice of the queue into the scheduler's snapshot, with each
 * queued job's last waiting summary (so a pass rewrites an explanation only when it changed). Reads
 * narrow rows: no job's env, files or explanation body.
 */
export async function loadSnapshot(
  q: Queryable,
  now: number,
  budget = JOBS_PER_PASS,
): Promise<{ snapshot: Snapshot; waitingSummaries: Map<string, string | null> }> {
  const [centers, pools, active, counts, links, orgs] = await Promise.all([
    listCenters(q),
    listPools(q),
    activeJobCapacity(q),
    queuedCountsByOrg(q, budget),
    listLinks(q),
    q.selectFrom('orgs').select(['id', 'share_weight']).execute(),
  ]);
  const orgWeights = Object.fromEntries(orgs.map((o) => [o.id, o.share_weight]));
  const queued = await queuedJobsByQuota(q, fairQuotas(counts, orgWeights, budget));
  const inputIds = [...new Set(queued.flatMap((j) => j.inputs))];
  const datasets = inputIds.length > 0 ? await listDatasets(q, inputIds) : [];
  const waitingSummaries = new Map(queued.map((j) => [j.id, j.waiting_summary]));
  return {
    snapshot: {
      now,
      centers: centerViews(centers, pools, active),
      jobs: queued.map(pendingJob),
      links,
      datasets: datasetViews(datasets, centers),
      running: active.filter((j) => j.pool_id && j.node_indices).map(runningJob),
      orgWeights,
    },
    waitingSummaries,
  };
}

/** Centers with their pools and what is free on every node, given the jobs that hold capacity. */
export function centerViews(centers: readonly CenterRow[], pools: readonly PoolRow[], active: readonly ActiveJobRow[]): CenterView[] {
  const used = new Map<string, NodeRequest[]>(); // pool id → use per node
  for (const job of active) {
    if (!job.pool_id || !job.node_indices) continue;
    const perNode = used.get(job.pool_id) ?? [];
    for (const i of job.node_indices) {
      const u = perNode[i] ?? { accelerators: 0, cores: 0, memoryMiB: 0 };
      perNode[i] = {
        accelerators: u.accelerators + job.accelerators_per_node,
        cores: u.cores + job.cores_per_node,
        memoryMiB: u.memoryMiB + job.memory_mib_per_node,
      };
    }
    used.set(job.pool_id, perNode);
  }
  return centers.map((c) => ({
    id: c.id,
    name: c.name,
    region: c.region,
    state: c.state,
    energy: c.energy,
    commands: c.commands ? new Set(c.commands) : null,
    pools: pools.filter((p) => p.center_id === c.id).map((p) => poolView(p, used.get(p.id) ?? [])),
  }));
}

function poolView(p: PoolRow, usedByNode: readonly (NodeRequest | undefined)[]): PoolView {
  const perNode = { accelerators: p.accelerators_per_node, cores: p.cores_per_node, memoryMiB: p.memory_mib_per_node };
  const freeByNode: NodeRequest[] = [];
  for (let i = 0; i < p.nodes; i++) {
    const u = usedByNode[i];
    freeByNode.push(
      u
        ? { accelerators: perNode.accelerators - u.accelerators, cores: perNode.cores - u.cores, memoryMiB: perNode.memoryMiB - u.memoryMiB }
        : perNode,
    );
  }
  return {
    id: p.id,
    centerId: p.center_id,
    name: p.name,
    accelerator: p.accelerator,
    perNode,
    freeByNode,
    fenPerAcceleratorHour: p.fen_per_accelerator_hour,
    fenPerCoreHour: p.fen_per_core_hour,
    priceFactorByHour: null,
  };
}

/** The scheduler's columns of a full job row (for a job not yet written, or read whole). */
export function queuedRow(job: JobRow): QueuedJobRow {
  return { ...job, program: job.command[0] ?? '', waiting_summary: (job.waiting_explanation as { summary?: string } | null)?.summary ?? null };
}

/** A queued job as the scheduler sees it. */
export function pendingJob(job: QueuedJobRow): PendingJob {
  return {
    id: job.id,
    orgId: job.org_id,
    nodes: job.nodes,
    perNode: { accelerators: job.accelerators_per_node, cores: job.cores_per_node, memoryMiB: job.memory_mib_per_node },
    walltimeSeconds: job.walltime_seconds,
    runtimeSeconds: job.runtime_seconds,
    referenceAccelerator: job.reference_accelerator,
    speedMetric: job.speed_metric,
    adaptation: job.adaptation,
    allowedAccelerators: job.allowed_accelerators,
    forbiddenAccelerators: job.forbidden_accelerators,
    allowedRegions: job.allowed_regions,
    deadline: job.deadline ? job.deadline.getTime() : null,
    budgetFen: job.budget_fen,
    inputs: job.inputs.map((datasetId) => ({ datasetId })),
    program: job.program,
    objective: job.objective === 'weights' && job.objective_weights ? { weights: job.objective_weights } : (job.objective as Objective),
    priority: job.priority,
    submittedAt: job.submitted_at.getTime(),
  };
}

/** A job holding capacity, with when it gives its nodes back at the latest (start + walltime). */
function runningJob(job: ActiveJobRow): RunningJob {
  const startedAt = (job.started_at ?? job.placed_at ?? job.updated_at).getTime();
  return {
    jobId: job.id,
    orgId: job.org_id,
    centerId: job.center_id!,
    poolId: job.pool_id!,
    nodeIndices: job.node_indices!,
    perNode: { accelerators: job.accelerators_per_node, cores: job.cores_per_node, memoryMiB: job.memory_mib_per_node },
    startedAt,
    endsAt: startedAt + job.walltime_seconds * 1000,
  };
}

/** Datasets as the scheduler sees them: size and the regions of the centers holding a replica. */
export function datasetViews(datasets: readonly DatasetWithReplicas[], centers: readonly CenterRow[]): DatasetView[] {
  const regionOf = new Map(centers.map((c) => [c.id, c.region]));
  return datasets.map((d) => ({ id: d.id, bytes: d.bytes, regions: [...new Set(d.centerIds.map((c) => regionOf.get(c)!))] }));
}
