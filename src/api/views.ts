import type { CenterResource, ExplanationResource, JobResource } from './client/schemas.js';
import type { CenterRow, JobRow, PoolRow } from '../store/schema.js';
import { regionPlace } from '../core/regions.js';

/** Row → wire shape. Names of centers, pools, orgs and users come from lookups the caller made. */
export interface Names {
  readonly centers: ReadonlyMap<string, string>;
  readonly pools: ReadonlyMap<string, string>;
  readonly orgs?: ReadonlyMap<string, string>;
  readonly users?: ReadonlyMap<string, string>;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function jobResource(job: JobRow, names: Names): JobResource {
  return {
    id: job.id,
    name: job.name,
    org: names.orgs?.get(job.org_id) ?? job.org_id,
    user: names.users?.get(job.user_id) ?? job.user_id,
    state: job.state,
    command: job.command,
    env: job.env,
    workdir: job.workdir,
    nodes: job.nodes,
    acceleratorsPerNode: job.accelerators_per_node,
    coresPerNode: job.cores_per_node,
    memoryMiBPerNode: job.memory_mib_per_node,
    walltimeSeconds: job.walltime_seconds,
    accelerators: job.allowed_accelerators,
    objective: job.objective === 'weights' && job.objective_weights ? { weights: job.objective_weights } : (job.objective as 'balanced'),
    priority: job.priority,
    maxAttempts: job.max_attempts,
    runtimeSeconds: job.runtime_seconds,
    referenceAccelerator: job.reference_accelerator,
    forbidAccelerators: job.forbidden_accelerators,
    regions: job.allowed_regions,
    deadline: iso(job.deadline),
    budgetFen: job.budget_fen,
    inputs: job.inputs,
    outputs: job.outputs ?? [],
    attempt: job.attempt,
    center: job.center_id ? (names.centers.get(job.center_id) ?? job.center_id) : null,
    pool: job.pool_id ? (names.pools.get(job.pool_id) ?? job.pool_id) : null,
    exitCode: job.exit_code,
    reason: job.reason,
    cancelRequested: job.cancel_requested_at !== null,
    submittedAt: job.submitted_at.toISOString(),
    startedAt: iso(job.started_at),
    finishedAt: iso(job.finished_at),
    waiting: job.state === 'queued' || job.state === 'submitted' ? ((job.waiting_explanation as ExplanationResource | null) ?? null) : null,
    arrayId: job.array_id ?? null,
    arrayIndex: job.array_index ?? null,
  };
}

export function centerResource(center: CenterRow, pools: readonly PoolRow[], active: readonly JobRow[], now: Date): CenterResource {
  const mine = active.filter((j) => j.center_id === center.id);
  const hour = (((now.getUTCHours() + Math.round(center.energy.utcOffsetHours)) % 24) + 24) % 24;
  const place = regionPlace(center.region);
  return {
    id: center.id,
    name: center.name,
    displayName: center.display_name,
    region: center.region,
    state: center.state,
    stateReason: center.state_reason,
    connector: center.connector,
    lastHeartbeatAt: iso(center.last_heartbeat_at),
    pue: center.energy.pue,
    runningJobs: mine.filter((j) => j.state === 'running').length,
    energyNow: { priceFenPerKwh: center.energy.priceFenPerKwh[hour] ?? 0, carbonKgPerKwh: center.energy.carbonKgPerKwh[hour] ?? 0 },
    location: place,
    pools: pools
      .filter((p) => p.center_id === center.id)
      .map((p) => {
        const using = mine.filter((j) => j.pool_id === p.id);
        const sum = (f: (j: JobRow) => number) => using.reduce((s, j) => s + f(j) * j.nodes, 0);
        return {
          name: p.name,
          accelerator: p.accelerator,
          acceleratorsPerNode: p.accelerators_per_node,
          coresPerNode: p.cores_per_node,
          memoryMiBPerNode: p.memory_mib_per_node,
          nodes: p.nodes,
          freeAccelerators: p.accelerators_per_node * p.nodes - sum((j) => j.accelerators_per_node),
          freeCores: p.cores_per_node * p.nodes - sum((j) => j.cores_per_node),
          fenPerAcceleratorHour: p.fen_per_accelerator_hour,
          fenPerCoreHour: p.fen_per_core_hour,
        };
      }),
  };
}
