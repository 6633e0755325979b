// Holds at placement: for each job the control loop is about to place, a pending transfer of its
// maximum bill on the pool chosen (compute hold + app fee) from the org's wallet to the center's
// earnings, granted credit first. Ids derive from the job id and the attempt the placement starts,
// so a retried pass never holds twice. Written in the placement's transaction: a job is placed
// with its hold or not at all (one the wallet or a budget of its org cannot cover stays queued).
import type { TransferInput } from '../../ledger/index.js';
import { listPools } from '../../store/centers.js';
import { addJobEvent, getJobs } from '../../store/jobs.js';
import { insertHeldCharges, type NewHeldCharge } from '../../store/job-charges.js';
import type { Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { EngineContext } from '../context.js';
import { applied, centerEarnings, holdId, orgGranted, orgPaid, transfer } from './accounts.js';
import { appFeeMax, appTermsOf, computeHoldOn } from './job-pricing.js';
import { priceBookCache } from './price-books.js';
import { settleJobs, settingsOf } from './settlement.js';
import { walletOf, yuan } from './wallet.js';
import { periodOf, type Budget } from '../../ledger/budgets.js';
import { listBudgets } from '../../store/billing.js';
import { spentInPeriod } from './admission.js';

/**
 * Places the holds for `placements` (billing on) and returns those whose hold was placed, in order;
 * with billing off, returns them all. A placement the wallet cannot cover is left out (the job stays
 * queued and is tried again next pass).
 */
export async function holdPlacements<P extends { readonly jobId: string; readonly centerId: string; readonly poolId: string }>(
  ctx: EngineContext,
  trx: Transaction<Database>,
  placements: readonly P[],
  now: Date,
): Promise<P[]> {
  if (ctx.config.billing !== 'on' || placements.length === 0) return [...placements];
  const jobs = new Map((await getJobs(trx, placements.map((p) => p.jobId))).map((j) => [j.id, j]));
  const pools = new Map((await listPools(trx)).map((p) => [p.id, p]));
  const bookOf = priceBookCache(trx, now);
  // What each org can still hold in this pass, granted and paid apart.
  const left = new Map<string, { granted: number; paid: number }>();
  // What each org's budgets can still take in this pass.
  const budgetsLeft = new Map<string, { id: string; limit: number; left: number }[]>();
  const budgetEntries = new Map<string, { id: string; limit: number; left: number }>();
  const funded: P[] = [];
  const rows: NewHeldCharge[] = [];
  const batch: TransferInput[] = [];
  const accounts = new Set<string>();
  const chains: { placement: P; from: number; to: number }[] = [];
  const unfunded: { jobId: string; attempt: number; message: string }[] = [];
  for (const p of placements) {
    const job = jobs.get(p.jobId);
    const pool = pools.get(p.poolId);
    if (!job || !pool) continue;
    const book = await bookOf(pool);
    const terms = await appTermsOf(trx, job);
    const computeHold = computeHoldOn(job, book);
    const appHold = appFeeMax(job, terms);
    const total = computeHold + appHold;
    let credit = left.get(job.org_id);
    if (!credit) {
      const w = await walletOf(trx, job.org_id, now.getTime());
      credit = { granted: Math.max(0, w.granted - w.heldGranted), paid: Math.max(0, w.available - Math.max(0, w.granted - w.heldGranted)) };
      left.set(job.org_id, credit);
    }
    const fromGranted = Math.min(total, credit.granted);
    const fromPaid = total - fromGranted;
    if (fromPaid > credit.paid) {
      unfunded.push({ jobId: job.id, attempt: job.attempt, message: `waiting for credit: placing it on ${pool.name} holds ${yuan(total)}, but the wallet has ${yuan(credit.granted + credit.paid)} available (see \`suanwang wallet\`)` });
      continue;
    }
    // Budgets are held against too: jobs admitted one by one may not all fit, and a hold is the
    // most a run can cost, so no running job can take an org past a budget.
    // The org's budgets and those of the job's project; one entry per budget, shared by its jobs in this pass.
    const key = `${job.org_id}\u0000${job.project ?? ''}`;
    let budgets = budgetsLeft.get(key);
    if (!budgets) {
      budgets = [];
      for (const b of (await listBudgets(trx, job.org_id, job.project)) as Budget[]) {
        if (!periodOf(b, now.getTime())) continue;
        let entry = budgetEntries.get(b.id);
        if (!entry) {
          entry = { id: b.id, limit: b.limit, left: b.limit - (await spentInPeriod(trx, job.org_id, b, now.getTime())) };
          budgetEntries.set(b.id, entry);
        }
        budgets.push(entry);
      }
      budgetsLeft.set(key, budgets);
    }
    const over = budgets.find((b) => total > b.left);
    if (over) {
      unfunded.push({ jobId: job.id, attempt: job.attempt, message: `waiting for budget: placing it on ${pool.name} holds ${yuan(total)}, but budget ${over.id} has ${yuan(Math.max(0, over.left))} left of ${yuan(over.limit)} this period` });
      continue;
    }
    for (const b of budgets) b.left -= total;
    credit.granted -= fromGranted;
    credit.paid -= fromPaid;
    const attempt = job.attempt + 1;
    const start = batch.length;
    const center = centerEarnings(p.centerId);
    const parts = [
      { part: 'granted' as const, account: orgGranted(job.org_id), amount: fromGranted },
      { part: 'paid' as const, account: orgPaid(job.org_id), amount: fromPaid },
    ].filter((x) => x.amount > 0);
    parts.forEach((x, i) => {
      accounts.add(x.account);
      batch.push({ id: holdId(job.id, attempt, x.part), debitAccountId: x.account, creditAccountId: center, amount: x.amount, code: 'compute', userData: job.id, flags: { pending: true, linked: i < parts.length - 1 } });
    });
    accounts.add(center);
    chains.push({ placement: p, from: start, to: batch.length });
    rows.push({
      jobId: job.id,
      attempt,
      orgId: job.org_id,
      userId: job.user_id,
      centerId: p.centerId,
      poolId: p.poolId,
      accelerator: pool.accelerator,
      priceVersion: book.version,
      productId: terms?.productId ?? null,
      computeHold,
      appFeeHold: appHold,
      grantedHold: fromGranted,
      paidHold: fromPaid,
      placedAt: now,
    });
  }
  const results = batch.length > 0 ? await transfer(trx, now, batch, [...accounts]) : [];
  const ok = new Set<string>();
  for (const c of chains) {
    if (results.slice(c.from, c.to).every(applied)) {
      funded.push(c.placement);
      ok.add(c.placement.jobId);
    }
  }
  await insertHeldCharges(trx, rows.filter((r) => ok.has(r.jobId)));
  // Say once (per figure) why a job the scheduler could place stays queued.
  for (const u of unfunded) {
    const said = await trx.selectFrom('job_events').select('job_id').where('job_id', '=', u.jobId).where('message', '=', u.message).executeTakeFirst();
    if (!said) await addJobEvent(trx, u.jobId, u.attempt, now, u.message);
  }
  return funded;
}

/** Releases the holds of funded placements that placeJobs did not place (the job moved meanwhile). */
export async function releaseUnplaced(ctx: EngineContext, trx: Transaction<Database>, funded: readonly { readonly jobId: string }[], placed: ReadonlySet<string>, now: Date): Promise<void> {
  if (ctx.config.billing !== 'on') return;
  const unplaced = funded.filter((p) => !placed.has(p.jobId)).map((p) => p.jobId);
  if (unplaced.length > 0) await settleJobs(trx, unplaced, now, settingsOf(ctx));
}
