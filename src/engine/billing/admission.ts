// Admission at submission (single, batch and store launch): the jobs' maximum bill against the
// org's available credit and its budgets (ledger/budgets.ts admit()), before anything is written,
// so a refused submission leaves no job row. The hold at placement is the hard guarantee (the
// ledger refuses to overdraw); this check refuses early, with the figures and the fix.
import { sql } from 'kysely';
import { SuanwangError } from '../../core/errors.js';
import { fen, type Fen } from '../../core/money.js';
import { admit, periodOf, type Budget } from '../../ledger/budgets.js';
import { listBudgets } from '../../store/billing.js';
import { listPools } from '../../store/centers.js';
import type { JobRow } from '../../store/schema.js';
import type { Queryable } from '../../store/transaction.js';
import type { EngineContext } from '../context.js';
import { orgGranted, orgPaid } from './accounts.js';
import { appTermsOf, maxBillOf } from './job-pricing.js';
import { priceBookCache } from './price-books.js';
import { walletOf, yuan } from './wallet.js';

/**
 * Refuses the submission of the jobs `rows()` builds for `orgId` when billing is on and their maximum bill, with
 * the maximum bills of the org's jobs not yet placed (submitted or queued: they hold nothing yet), exceeds the
 * available credit (`insufficient_funds`, 402) or a budget of the org (`over_budget`, 422). Returns each job's
 * maximum bill in fen, for its row's `max_bill_fen` (undefined when billing is off).
 */
export async function admitSubmission(ctx: EngineContext, orgId: string, rows: () => readonly JobRow[]): Promise<number[] | undefined> {
  // The rows are built only when billing is on: a batch of 10,000 costs nothing when it is off.
  if (ctx.config.billing !== 'on') return undefined;
  const jobs = rows();
  if (jobs.length === 0) return [];
  const db = ctx.store.db;
  const now = ctx.now();
  const pools = await listPools(db);
  const bookOf = priceBookCache(db, now);
  const bills: number[] = [];
  const terms = new Map<string, Awaited<ReturnType<typeof appTermsOf>>>();
  for (const job of jobs) {
    const key = job.app_version_id ?? '';
    if (!terms.has(key)) terms.set(key, await appTermsOf(db, job));
    bills.push((await maxBillOf(job, pools, bookOf, terms.get(key)!)).total);
  }
  const needed = bills.reduce((a, b) => a + b, 0);
  const unplaced = await unplacedBills(db, orgId);
  const wallet = await walletOf(db, orgId, now.getTime());
  const budgets = (await listBudgets(db, orgId, null)) as Budget[];
  const spent: Record<string, Fen> = {};
  for (const b of budgets) spent[b.id] = await spentInPeriod(db, orgId, b, now.getTime());
  let verdict = admit(fen(needed + unplaced.fen), wallet.available, budgets, spent);
  // A project's budgets see that project's jobs of the submission (queued ones wait at placement instead).
  for (const project of new Set(jobs.map((j) => j.project).filter((p): p is string => p !== null))) {
    if (!verdict.ok) break;
    const own = ((await listBudgets(db, orgId, project)) as (Budget & { projectId: string | null })[]).filter((b) => b.projectId === project);
    for (const b of own) spent[b.id] = await spentInPeriod(db, orgId, b, now.getTime());
    const ofProject = bills.filter((_, i) => jobs[i]!.project === project).reduce((a, b) => a + b, 0);
    if (own.length > 0) verdict = admit(fen(ofProject), wallet.available, own, spent);
  }
  if (verdict.ok) return bills;
  const what = jobs.length === 1 ? 'this job' : `these ${jobs.length} jobs`;
  const queued = unplaced.jobs > 0 ? `, and ${unplaced.jobs} job${unplaced.jobs === 1 ? '' : 's'} of your org not yet placed may cost up to ${yuan(unplaced.fen)}` : '';
  if (verdict.code === 'insufficient_funds') {
    throw new SuanwangError(
      'insufficient_funds',
      `${what} may cost up to ${yuan(needed)} (walltime at the highest price of the pools it fits${jobs.some((j) => j.app_version_id) ? ', plus the app fee' : ''})${queued}, but the wallet has ${yuan(wallet.available)} available (${yuan(wallet.paid)} paid, ${yuan(wallet.granted)} granted, ${yuan(wallet.held)} held)`,
      { field: 'walltimeSeconds', hint: `see \`suanwang wallet\`; ask an admin to top up the wallet or grant credit, lower the walltime, nodes or accelerators${unplaced.jobs > 0 ? ', or wait for queued jobs to run or cancel some' : ''}` },
    );
  }
  throw new SuanwangError(
    'over_budget',
    `${what} may cost up to ${yuan(needed)}${queued}, but budget ${verdict.budgetId} has ${yuan(verdict.limit - verdict.spent)} left of ${yuan(verdict.limit)} this period (${yuan(verdict.spent)} spent or held)`,
    { field: 'walltimeSeconds', hint: 'lower the walltime or resources, wait for the next period, or ask an admin to raise the budget' },
  );
}

/** The maximum bills of the org's submitted and queued jobs (admitted with billing on): money spoken for but not yet held. */
export async function unplacedBills(q: Queryable, orgId: string): Promise<{ readonly jobs: number; readonly fen: number }> {
  const { rows } = await sql<{ n: string; total: string }>`
    SELECT count(*)::text AS n, coalesce(sum(max_bill_fen), 0)::text AS total FROM jobs
    WHERE org_id = ${orgId} AND max_bill_fen IS NOT NULL AND state IN ('submitted', 'queued')`.execute(q);
  return { jobs: Number(rows[0]?.n ?? 0), fen: Number(rows[0]?.total ?? 0) };
}

/**
 * What the org has spent or has held in the budget's current period: compute and app-fee debits of
 * its wallet accounts (posted, plus holds still pending unless `counting` is `posted`), by transfer time.
 */
export async function spentInPeriod(q: Queryable, orgId: string, budget: Pick<Budget, 'period'> & { readonly projectId?: string | null }, at: number, counting: 'posted-and-held' | 'posted' = 'posted-and-held'): Promise<Fen> {
  const period = periodOf(budget, at);
  if (!period) return fen(0);
  const held = counting === 'posted-and-held' ? sql`OR status = 'pending'` : sql``;
  // A project's budget counts the debits of its jobs (every wallet debit names its job in user_data).
  const ofProject = budget.projectId ? sql`AND user_data IN (SELECT id FROM jobs WHERE org_id = ${orgId} AND project = ${budget.projectId})` : sql``;
  const { rows } = await sql<{ spent: string | null }>`
    SELECT coalesce(sum(amount), 0)::text AS spent FROM ledger_transfers
    WHERE debit_account_id IN (${orgPaid(orgId)}, ${orgGranted(orgId)})
      AND code IN ('compute', 'app-fee')
      AND (phase IN ('single', 'post_pending') ${held}) ${ofProject}
      AND created_at >= ${new Date(period.from)} AND created_at < ${new Date(period.until)}`.execute(q);
  return fen(Number(rows[0]?.spent ?? 0));
}
