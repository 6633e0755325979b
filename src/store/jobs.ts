import { sql } from 'kysely';
import type { Queryable } from './transaction.js';
import type { JobRow, NewJob } from './schema.js';
import type { JobState } from '../core/job-state.js';
import { statesBefore } from '../core/job-state.js';

/** Jobs and their event history. Every state change goes through `transitionJob`. */

export async function insertJob(q: Queryable, job: NewJob, message: string): Promise<void> {
  await q.insertInto('jobs').values(job).execute();
  await q
    .insertInto('job_events')
    .values({ job_id: job.id, at: job.submitted_at, attempt: 0, from_state: null, to_state: job.state, message })
    .execute();
}

export async function getJob(q: Queryable, id: string): Promise<JobRow | undefined> {
  return q.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A job and a row lock on it until the transaction ends (agent reports and cancels take turns). */
export async function lockJob(q: Queryable, id: string): Promise<JobRow | undefined> {
  return q.selectFrom('jobs').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** These jobs (those that exist), each locked until the transaction ends; locked in id order so that two callers never deadlock. */
export async function lockJobs(q: Queryable, ids: readonly string[]): Promise<JobRow[]> {
  if (ids.length === 0) return [];
  return q.selectFrom('jobs').selectAll().where('id', 'in', [...new Set(ids)]).orderBy('id').forUpdate().execute();
}

/** These jobs (those that exist), without locks; in slices, as a statement takes at most 65,535 parameters. */
export async function getJobs(q: Queryable, ids: readonly string[]): Promise<JobRow[]> {
  const unique = [...new Set(ids)];
  const rows: JobRow[] = [];
  for (let i = 0; i < unique.length; i += 10_000) {
    rows.push(...(await q.selectFrom('jobs').selectAll().where('id', 'in', unique.slice(i, i + 10_000)).execute()));
  }
  return rows;
}

export interface JobListQuery {
  readonly orgId: string | null; // null: every org (admins)
  readonly states?: readonly JobState[];
  /** Ids sort by creation time; the list runs newest first, so the cursor is the last id seen. */
  readonly before?: string;
  readonly limit: number;
}

export async function listJobs(q: Queryable, query: JobListQuery): Promise<JobRow[]> {
  let sel = q.selectFrom('jobs').selectAll().orderBy('id', 'desc').limit(query.limit);
  if (query.orgId !== null) sel = sel.where('org_id', '=', query.orgId);
  if (query.states && query.states.length > 0) sel = sel.where('state', 'in', [...query.states]);
  if (query.before) sel = sel.where('id', '<', query.before);
  return sel.execute();
}

export type JobChanges = Partial<
  Pick<
    JobRow,
    | 'attempt'
    | 'center_id'
    | 'pool_id'
    | 'exit_code'
    | 'reason'
    | 'cancel_requested_at'
    | 'placed_at'
    | 'started_at'
    | 'finished_at'
  > & { node_indices: string; waiting_explanation: string }
>;

/**
 * Moves a job to `to` if it is still in a state that may precede it (and, when given, still on
 * `attempt`), sets `changes`, and records the event. The guard in the WHERE clause makes this safe
 * against a concurrent change: the loser updates nothing and gets undefined.
 */
export async function transitionJob(
  q: Queryable,
  id: string,
  to: JobState,
  changes: JobChanges,
  event: { at: Date; message: string; attempt?: number },
): Promise<JobRow | undefined> {
  const from = statesBefore(to);
  // No state precedes `submitted` (jobs are inserted in it), and `IN ()` is not SQL.
  if (from.length === 0) return undefined;
  let update = q
    .updateTable('jobs')
    .set({ ...changes, state: to, updated_at: event.at })
    .where('id', '=', id)
    .where('state', 'in', from);
  if (event.attempt !== undefined) update = update.where('attempt', '=', event.attempt);
  // FOR UPDATE: when a concurrent transaction has just moved the job, wait for its commit and read the
  // state it moved the job to, so that the event records the state this move really leaves.
  const before = await q.selectFrom('jobs').select(['state']).where('id', '=', id).forUpdate().executeTakeFirst();
  const row = await update.returningAll().executeTakeFirst();
  if (row) {
    await q
      .insertInto('job_events')
      .values({ job_id: id, at: event.at, attempt: row.attempt, from_state: before?.state ?? null, to_state: to, message: event.message })
      .execute();
  }
  return row;
}

/** Updates fields that are not a state change (the waiting explanation, a cancel request). */
export async function updateJob(q: Queryable, id: string, changes: JobChanges, at: Date): Promise<void> {
  await q.updateTable('jobs').set({ ...changes, updated_at: at }).where('id', '=', id).execute();
}

export async function addJobEvent(q: Queryable, jobId: string, attempt: number, at: Date, message: string): Promise<void> {
  await q.insertInto('job_events').values({ job_id: jobId, at, attempt, from_state: null, to_state: null, message }).execute();
}

export async function listJobEvents(q: Queryable, jobId: string) {
  return q.selectFrom('job_events').selectAll().where('job_id', '=', jobId).orderBy('id').execute();
}

/** Jobs in the given states (oldest first), at most `limit`. */
export async function jobsInStates(q: Queryable, states: readonly JobState[], limit: number): Promise<JobRow[]> {
  return q.selectFrom('jobs').selectAll().where('state', 'in', [...states]).orderBy('id').limit(limit).execute();
}

/** Jobs holding capacity (placed or running) at one center, or at all centers when none is given. */
export async function activeJobs(q: Queryable, centerId?: string): Promise<JobRow[]> {
  let sel = q.selectFrom('jobs').selectAll().where('state', 'in', ['placed', 'running']);
  if (centerId) sel = sel.where('center_id', '=', centerId);
  return sel.orderBy('id').execute();
}

/**
 * Which of these runs (job, attempt) were placed at `centerId`: an agent may only speak of runs its
 * own center was given (a report about any other job is not its business, not even as an event).
 * Returns keys `jobId.attempt`.
 */
export async function runsPlacedAt(q: Queryable, centerId: string, runs: readonly { jobId: string; attempt: number }[]): Promise<Set<string>> {
  if (runs.length === 0) return new Set();
  const rows = await q
    .selectFrom('placements')
    .select(['job_id', 'attempt'])
    .where('center_id', '=', centerId)
    .where('job_id', 'in', [...new Set(runs.map((r) => r.jobId))])
    .execute();
  return new Set(rows.map((r) => `${r.job_id}.${r.attempt}`));
}

export async function listPlacements(q: Queryable, jobId: string) {
  return q.selectFrom('placements').selectAll().where('job_id', '=', jobId).orderBy('attempt').execute();
}

export async function findIdempotentJob(q: Queryable, orgId: string, key: string) {
  return q.selectFrom('idempotency_keys').selectAll().where('org_id', '=', orgId).where('key', '=', key).executeTakeFirst();
}

export async function insertIdempotencyKey(
  q: Queryable,
  k: { orgId: string; key: string; requestHash: string; jobId: string; at: Date; batch?: boolean },
): Promise<void> {
  await q
    .insertInto('idempotency_keys')
    .values({ org_id: k.orgId, key: k.key, request_hash: k.requestHash, job_id: k.jobId, created_at: k.at, batch: k.batch ?? false })
    .execute();
}

/** Rows per multi-row statement: well under PostgreSQL's 65,535 bind parameters for a jobs row (~45 columns). */
const ROWS_PER_STATEMENT = 500;

function chunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Inserts many new jobs and their first events with multi-row statements (call inside a transaction). */
export async function insertJobs(q: Queryable, jobs: readonly NewJob[], message: string): Promise<void> {
  for (const slice of chunks(jobs)) {
    await q.insertInto('jobs').values(slice).execute();
    await q
      .insertInto('job_events')
      .values(slice.map((job) => ({ job_id: job.id, at: job.submitted_at, attempt: 0, from_state: null, to_state: job.state, message })))
      .execute();
  }
}

/** The jobs of one batch (its first job's id), in submission order. */
export async function jobsOfBatch(q: Queryable, batchId: string): Promise<JobRow[]> {
  return q.selectFrom('jobs').selectAll().where('batch_id', '=', batchId).orderBy('id').execute();
}

/**
 * submitted → queued for each org's oldest `perOrg` submitted jobs, with their events, in one
 * statement: one org's burst of a million submissions never holds another org's jobs back from the
 * queue. SKIP LOCKED: a job a concurrent transaction holds (a cancel) is left for the next pass
 * instead of waited for. Returns how many moved.
 */
export async function admitSubmitted(q: Queryable, at: Date, perOrg: number, message: string): Promise<number> {
  const result = await sql<{ n: number }>`
    WITH picked AS (
      SELECT j.id FROM orgs o
      CROSS JOIN LATERAL (
        SELECT id FROM jobs WHERE jobs.org_id = o.id AND jobs.state = 'submitted' ORDER BY id LIMIT ${perOrg} FOR UPDATE SKIP LOCKED
      ) j
    ), moved AS (
      UPDATE jobs SET state = 'queued', updated_at = ${at}
      FROM picked WHERE jobs.id = picked.id AND jobs.state = 'submitted'
      RETURNING jobs.id, jobs.attempt
    ), events AS (
      INSERT INTO job_events (job_id, at, attempt, from_state, to_state, message)
      SELECT id, ${at}, attempt, 'submitted', 'queued', ${message} FROM moved
    )
    SELECT count(*)::int AS n FROM moved`.execute(q);
  return Number(result.rows[0]?.n ?? 0);
}

/**
 * How many jobs each org has queued, each count capped at `cap`: enough to share a pass's budget
 * fairly, without counting a million jobs of one org (each count reads at most `cap` index entries).
 */
export async function queuedCountsByOrg(q: Queryable, cap: number): Promise<Map<string, number>> {
  const result = await sql<{ org_id: string; n: number }>`
    SELECT o.id AS org_id,
           (SELECT count(*)::int FROM (SELECT 1 FROM jobs j WHERE j.org_id = o.id AND j.state = 'queued' LIMIT ${cap}) x) AS n
    FROM orgs o`.execute(q);
  return new Map(result.rows.filter((r) => Number(r.n) > 0).map((r) => [r.org_id, Number(r.n)]));
}

/** The columns the scheduler reads of a queued job (not its env, files or app parameters). */
export interface QueuedJobRow {
  readonly id: string;
  readonly org_id: string;
  readonly program: string;
  readonly nodes: number;
  readonly accelerators_per_node: number;
  readonly cores_per_node: number;
  readonly memory_mib_per_node: number;
  readonly walltime_seconds: number;
  readonly runtime_seconds: number | null;
  readonly reference_accelerator: string | null;
  readonly speed_metric: 'fp16' | 'fp32';
  readonly adaptation: Record<string, number> | null;
  readonly allowed_accelerators: string[];
  readonly forbidden_accelerators: string[];
  readonly allowed_regions: string[];
  readonly deadline: Date | null;
  readonly budget_fen: number | null;
  readonly inputs: string[];
  readonly objective: string;
  readonly objective_weights: { cost: number; time: number; carbon: number } | null;
  readonly priority: number;
  readonly submitted_at: Date;
  readonly waiting_summary: string | null;
}

/**
 * Each org's first queued jobs by priority then age, at most `quota.get(org)` of each (one index
 * range per org: `jobs_queued_by_org`).
 */
export async function queuedJobsByQuota(q: Queryable, quota: ReadonlyMap<string, number>): Promise<QueuedJobRow[]> {
  const orgs = [...quota].filter(([, n]) => n > 0);
  if (orgs.length === 0) return [];
  const wanted = sql.join(orgs.map(([org, n]) => sql`(${org}::text, ${n}::int)`));
  const result = await sql<QueuedJobRow>`
    SELECT j.id, j.org_id, coalesce(j.command->>0, '') AS program, j.nodes, j.accelerators_per_node, j.cores_per_node,
           j.memory_mib_per_node, j.walltime_seconds, j.runtime_seconds, j.reference_accelerator, j.speed_metric,
           j.adaptation, j.allowed_accelerators, j.forbidden_accelerators, j.allowed_regions, j.deadline, j.budget_fen,
           j.inputs, j.objective, j.objective_weights, j.priority, j.submitted_at,
           j.waiting_explanation->>'summary' AS waiting_summary
    FROM (VALUES ${wanted}) AS w(org_id, n)
    CROSS JOIN LATERAL (
      SELECT * FROM jobs WHERE jobs.org_id = w.org_id AND jobs.state = 'queued' ORDER BY priority DESC, id LIMIT w.n
    ) j`.execute(q);
  return result.rows.map((r) => ({ ...r, memory_mib_per_node: Number(r.memory_mib_per_node), budget_fen: r.budget_fen === null ? null : Number(r.budget_fen) }));
}

/** The columns a capacity view needs of a job holding capacity (placed or running). */
export interface ActiveJobRow {
  readonly id: string;
  readonly org_id: string;
  readonly center_id: string | null;
  readonly pool_id: string | null;
  readonly node_indices: number[] | null;
  readonly accelerators_per_node: number;
  readonly cores_per_node: number;
  readonly memory_mib_per_node: number;
  readonly walltime_seconds: number;
  readonly started_at: Date | null;
  readonly placed_at: Date | null;
  readonly updated_at: Date;
}

/** Every job holding capacity, narrow rows (no commands, env or explanations). */
export async function activeJobCapacity(q: Queryable): Promise<ActiveJobRow[]> {
  return q
    .selectFrom('jobs')
    .select(['id', 'org_id', 'center_id', 'pool_id', 'node_indices', 'accelerators_per_node', 'cores_per_node', 'memory_mib_per_node', 'walltime_seconds', 'started_at', 'placed_at', 'updated_at'])
    .where('state', 'in', ['placed', 'running'])
    .execute();
}

export interface NewPlacement {
  readonly id: string;
  readonly jobId: string;
  readonly centerId: string;
  readonly poolId: string;
  readonly nodeIndices: readonly number[];
  readonly explanation: unknown;
  readonly message: string;
}

/**
 * queued → placed for many jobs at once: one UPDATE … FROM (VALUES …) guarded by `state = 'queued'`
 * (a job cancelled meanwhile is skipped), then the events and placement rows of those that moved.
 * Returns the ids placed.
 */
export async function placeJobs(q: Queryable, placements: readonly NewPlacement[], at: Date): Promise<Set<string>> {
  const placed = new Set<string>();
  for (const slice of chunks(placements, 300)) {
    const values = sql.join(slice.map((p) => sql`(${p.jobId}::text, ${p.centerId}::text, ${p.poolId}::text, ${JSON.stringify(p.nodeIndices)}::jsonb)`));
    const moved = await sql<{ id: string; attempt: number }>`
      UPDATE jobs SET state = 'placed', center_id = v.center_id, pool_id = v.pool_id, node_indices = v.node_indices,
             placed_at = ${at}, waiting_explanation = 'null'::jsonb, attempt = jobs.attempt + 1, updated_at = ${at},
             lease_seq = nextval('jobs_lease_seq')
      FROM (VALUES ${values}) AS v(id, center_id, pool_id, node_indices)
      WHERE jobs.id = v.id AND jobs.state = 'queued'
      RETURNING jobs.id, jobs.attempt`.execute(q);
    if (moved.rows.length === 0) continue;
    const attempts = new Map(moved.rows.map((r) => [r.id, r.attempt]));
    const done = slice.filter((p) => attempts.has(p.jobId));
    await q
      .insertInto('job_events')
      .values(done.map((p) => ({ job_id: p.jobId, at, attempt: attempts.get(p.jobId)!, from_state: 'queued', to_state: 'placed', message: p.message })))
      .execute();
    await q
      .insertInto('placements')
      .values(done.map((p) => ({ id: p.id, job_id: p.jobId, attempt: attempts.get(p.jobId)!, center_id: p.centerId, pool_id: p.poolId, decided_at: at, explanation: JSON.stringify(p.explanation) })))
      .execute();
    for (const p of done) placed.add(p.jobId);
  }
  return placed;
}

/** Sets the waiting explanation of many queued jobs in one statement per slice (not a state change). */
export async function setWaitingExplanations(q: Queryable, rows: readonly { readonly jobId: string; readonly explanation: unknown }[], at: Date): Promise<void> {
  for (const slice of chunks(rows)) {
    const values = sql.join(slice.map((r) => sql`(${r.jobId}::text, ${JSON.stringify(r.explanation)}::jsonb)`));
    await sql`
      UPDATE jobs SET waiting_explanation = v.explanation, updated_at = ${at}
      FROM (VALUES ${values}) AS v(id, explanation)
      WHERE jobs.id = v.id AND jobs.state = 'queued'`.execute(q);
  }
}

/**
 * A center's placed jobs with a lease number above `after`, in lease order, at most `limit`; with
 * `after` 0, every placed job (also those placed before lease numbers existed).
 */
export async function placedJobsAfter(q: Queryable, centerId: string, after: number, limit: number): Promise<JobRow[]> {
  let sel = q.selectFrom('jobs').selectAll().where('center_id', '=', centerId).where('state', '=', 'placed');
  if (after > 0) sel = sel.where('lease_seq', '>', after);
  const rows = await sel.orderBy(sql`lease_seq NULLS FIRST`).orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ ...r, lease_seq: r.lease_seq === null ? null : Number(r.lease_seq) }));
}

/** A center's running jobs with a cancel request (their runs must be stopped): ids and attempts only. */
export async function runsToStop(q: Queryable, centerId: string): Promise<{ jobId: string; attempt: number }[]> {
  const rows = await q
    .selectFrom('jobs')
    .select(['id', 'attempt'])
    .where('center_id', '=', centerId)
    .where('state', '=', 'running')
    .where('cancel_requested_at', 'is not', null)
    .execute();
  return rows.map((r) => ({ jobId: r.id, attempt: r.attempt }));
}

/**
 * placed → running for many runs of one center at once (agents' batched reports): one UPDATE …
 * FROM (VALUES …) guarded by state, attempt and center, with the start time clamped between the
 * placement and `now`, then the events. Returns the ids that moved.
 */
export async function markRunning(q: Queryable, centerId: string, runs: readonly { readonly jobId: string; readonly attempt: number; readonly at: number }[], now: Date): Promise<Set<string>> {
  const moved = new Set<string>();
  for (const slice of chunks(runs)) {
    const values = sql.join(slice.map((r) => sql`(${r.jobId}::text, ${r.attempt}::int, ${new Date(r.at)}::timestamptz)`));
    const rows = await sql<{ id: string; attempt: number }>`
      UPDATE jobs SET state = 'running', started_at = LEAST(GREATEST(v.at, jobs.placed_at), ${now}::timestamptz), updated_at = ${now}
      FROM (VALUES ${values}) AS v(id, attempt, at)
      WHERE jobs.id = v.id AND jobs.state = 'placed' AND jobs.attempt = v.attempt AND jobs.center_id = ${centerId}
      RETURNING jobs.id, jobs.attempt`.execute(q);
    if (rows.rows.length === 0) continue;
    await q
      .insertInto('job_events')
      .values(rows.rows.map((r) => ({ job_id: r.id, at: now, attempt: r.attempt, from_state: 'placed', to_state: 'running', message: 'started' })))
      .execute();
    for (const r of rows.rows) moved.add(r.id);
  }
  return moved;
}

/**
 * running → succeeded (exit 0) for many runs of one center at once, the finish time clamped between
 * the start and `now`; then the events. Returns the ids that moved.
 */
export async function markSucceeded(q: Queryable, centerId: string, runs: readonly { readonly jobId: string; readonly attempt: number; readonly at: number }[], now: Date): Promise<Set<string>> {
  const moved = new Set<string>();
  for (const slice of chunks(runs)) {
    const values = sql.join(slice.map((r) => sql`(${r.jobId}::text, ${r.attempt}::int, ${new Date(r.at)}::timestamptz)`));
    const rows = await sql<{ id: string; attempt: number }>`
      UPDATE jobs SET state = 'succeeded', exit_code = 0,
             started_at = coalesce(jobs.started_at, LEAST(GREATEST(v.at, jobs.placed_at), ${now}::timestamptz)),
             finished_at = LEAST(GREATEST(v.at, coalesce(jobs.started_at, jobs.placed_at)), ${now}::timestamptz),
             updated_at = ${now}
      FROM (VALUES ${values}) AS v(id, attempt, at)
      WHERE jobs.id = v.id AND jobs.state = 'running' AND jobs.attempt = v.attempt AND jobs.center_id = ${centerId}
      RETURNING jobs.id, jobs.attempt`.execute(q);
    if (rows.rows.length === 0) continue;
    await q
      .insertInto('job_events')
      .values(rows.rows.map((r) => ({ job_id: r.id, at: now, attempt: r.attempt, from_state: 'running', to_state: 'succeeded', message: 'exited with code 0' })))
      .execute();
    for (const r of rows.rows) moved.add(r.id);
  }
  return moved;
}
