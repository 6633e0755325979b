import { SuanwangError } from '../core/errors.js';
import type { EngineContext } from './context.js';

/** The `Retry-After` a quota refusal suggests: waiting jobs leave the queue as they are placed. */
export const QUOTA_RETRY_AFTER_SECONDS = 60;

/** How long a count of an org's waiting jobs answers for it, while far from the quota. */
const COUNT_FRESH_MS = 1000;
/** Per control plane: each org's waiting jobs as last counted (plus what this process accepted since). */
const counts = new WeakMap<EngineContext, Map<string, { n: number; at: number }>>();

/**
 * Refuses (429 `quota_exceeded`) a submission of `adding` jobs that would put the org over its
 * waiting-jobs quota (`config.maxQueuedJobsPerOrg`). A check before the insert, not a lock: two
 * concurrent submissions may overshoot by one each, which a quota of this size tolerates.
 * A submission that keeps the org under half its quota by a count taken less than a second ago (plus
 * what this process accepted since) is let through without counting again: the count scans up to
 * the quota's worth of rows, and what it misses (jobs submitted through other replicas within that
 * second) cannot reach the quota. Near the quota every submission counts.
 */
export async function assertQueueQuota(ctx: EngineContext, orgId: string, adding = 1): Promise<void> {
  const max = ctx.config.maxQueuedJobsPerOrg;
  let byOrg = counts.get(ctx);
  if (!byOrg) counts.set(ctx, (byOrg = new Map()));
  const now = ctx.clock.now();
  const known = byOrg.get(orgId);
  if (known && now - known.at < COUNT_FRESH_MS && known.n + adding <= max / 2) {
    known.n += adding;
    return;
  }
  // Counts only up to the quota: the scan stops there however many jobs wait.
  const rows = await ctx.store.db
    .selectFrom((eb) =>
      eb.selectFrom('jobs').select('id').where('org_id', '=', orgId).where('state', 'in', ['submitted', 'queued', 'placed']).limit(max).as('w'),
    )
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const waiting = Number(rows.n);
  if (waiting + adding > max) {
    byOrg.delete(orgId);
    throw new SuanwangError('quota_exceeded', `your org has ${waiting} jobs waiting; its quota is ${max} (maxQueuedJobsPerOrg)`, {
      hint: `retry after ${QUOTA_RETRY_AFTER_SECONDS} s (the Retry-After header), once some have started; cancel jobs you no longer need, or ask an admin for a higher quota`,
    });
  }
  if (byOrg.size >= 10_000) byOrg.clear();
  byOrg.set(orgId, { n: waiting + adding, at: now });
}

/**
 * Which of `placements` (in the scheduler's order) may be persisted without any org going over
 * `config.maxRunningJobsPerOrg` placed-or-running jobs; the others stay queued for a later pass.
 */
export async function withinRunningQuota<P extends { readonly jobId: string }>(
  ctx: EngineContext,
  q: EngineContext['store']['db'],
  placements: readonly P[],
): Promise<P[]> {
  if (placements.length === 0) return [];
  const max = ctx.config.maxRunningJobsPerOrg;
  const ids = placements.map((p) => p.jobId);
  const orgOf = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 10_000) {
    for (const r of await q.selectFrom('jobs').select(['id', 'org_id']).where('id', 'in', ids.slice(i, i + 10_000)).execute()) orgOf.set(r.id, r.org_id);
  }
  const orgs = [...new Set(orgOf.values())];
  const active = new Map<string, number>();
  for (const r of await q
    .selectFrom('jobs')
    .select(['org_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('org_id', 'in', orgs)
    .where('state', 'in', ['placed', 'running'])
    .groupBy('org_id')
    .execute()) {
    active.set(r.org_id, Number(r.n));
  }
  return placements.filter((p) => {
    const org = orgOf.get(p.jobId);
    if (org === undefined) return true;
    const n = active.get(org) ?? 0;
    if (n >= max) return false;
    active.set(org, n + 1);
    return true;
  });
}
