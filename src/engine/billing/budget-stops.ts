// The `stop-at-limit` exhaustion policy of budgets (ledger/budgets.ts). A job is held for its maximum
// bill at placement and a budget is held against then (holds.ts), so running jobs pass a budget only
// when it is set or lowered below what they already hold. Under `finish` they run to their end; under
// `stop-at-limit` each control-loop pass adds what the org's running jobs have accrued so far (run time
// at the price version their charge row was held at) to what it has posted this period, and once that reaches
// the limit it asks the org's agents to stop every running job of the org (a cancel), which settles
// each at its actual use. The limit is thus passed by at most one pass's accrual.
import { sql } from 'kysely';
import { periodOf, type Budget } from '../../ledger/budgets.js';
import { chargeFor, type PriceBookVersion } from '../../ledger/pricing.js';
import { listBudgets, listPriceBookVersions } from '../../store/billing.js';
import { runningHeldCharges } from '../../store/job-charges.js';
import { addJobEvent, getJobs } from '../../store/jobs.js';
import type { EngineContext } from '../context.js';
import { spentInPeriod } from './admission.js';
import { requestOf } from './job-pricing.js';
import { yuan } from './wallet.js';

/** Asks for the stop of running jobs of orgs past a `stop-at-limit` budget; returns the job ids. */
export async function stopOverBudget(ctx: EngineContext): Promise<string[]> {
  if (ctx.config.billing !== 'on') return [];
  const db = ctx.store.db;
  const { rows } = await sql<{ org_id: string }>`SELECT DISTINCT org_id FROM budgets WHERE on_exhaustion = 'stop-at-limit'`.execute(db);
  const now = ctx.now();
  const stopped: string[] = [];
  // Each pool's price book versions, read once per pass.
  const versions = new Map<string, PriceBookVersion[]>();
  for (const { org_id: orgId } of rows) {
    const running = await runningHeldCharges(db, orgId);
    if (running.length === 0) continue;
    const jobs = new Map((await getJobs(db, running.map((c) => c.jobId))).map((j) => [j.id, j]));
    let accrued = 0;
    for (const c of running) {
      const job = jobs.get(c.jobId);
      if (!versions.has(c.poolId)) versions.set(c.poolId, await listPriceBookVersions(db, c.poolId));
      // The version the attempt was held at, as its charge row records it.
      const book = versions.get(c.poolId)!.find((v) => v.version === c.priceVersion);
      if (!job?.started_at || !book) continue;
      accrued += chargeFor({ ...requestOf(job), startedAt: job.started_at.getTime(), endedAt: Math.max(job.started_at.getTime(), now.getTime()) }, book).total;
    }
    const budgets = ((await listBudgets(db, orgId, null)) as Budget[]).filter((b) => b.onExhaustion === 'stop-at-limit' && periodOf(b, now.getTime()));
    for (const b of budgets) {
      const posted = await spentInPeriod(db, orgId, b, now.getTime(), 'posted');
      if (posted + accrued < b.limit) continue;
      const ids = running.map((c) => c.jobId);
      const asked = await db
        .updateTable('jobs')
        .set({ cancel_requested_at: now, updated_at: now })
        .where('id', 'in', ids)
        .where('state', '=', 'running')
        .where('cancel_requested_at', 'is', null)
        .returning(['id', 'attempt', 'center_id'])
        .execute();
      for (const j of asked) {
        await addJobEvent(db, j.id, j.attempt, now, `stopping: budget ${b.id} reached its limit of ${yuan(b.limit)} (stop-at-limit): ${yuan(posted)} spent this period and ${yuan(accrued)} accrued by the org's running jobs`);
        if (j.center_id) ctx.signals.wake(`center:${j.center_id}`);
        ctx.signals.wake(`job:${j.id}`);
        stopped.push(j.id);
      }
      break;
    }
  }
  return stopped;
}
