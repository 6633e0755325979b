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

export async function insertPlacement(
  q: Queryable,
  p: { id: string; jobId: string; attempt: number; centerId: string; poolId: string; at: Date; explanation: unknown },
): Promise<void> {
  await q
    .insertInto('placements')
    .values({
      id: p.id,
      job_id: p.jobId,
      attempt: p.attempt,
      center_id: p.centerId,
      pool_id: p.poolId,
      decided_at: p.at,
      explanation: JSON.stringify(p.explanation),
    })
    .execute();
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
  k: { orgId: string; key: string; requestHash: string; jobId: string; at: Date },
): Promise<void> {
  await q
    .insertInto('idempotency_keys')
    .values({ org_id: k.orgId, key: k.key, request_hash: k.requestHash, job_id: k.jobId, created_at: k.at })
    .execute();
}
