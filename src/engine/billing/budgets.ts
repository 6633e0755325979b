// Budgets per org over a period (a month in the org's time zone, or a window): admins set them,
// admission refuses a job that would pass one (admission.ts), and settlement fires each threshold's
// alert once per period (budget_alerts' primary key is the "once", across control-plane processes).
import { randomUUID } from 'node:crypto';
import { SuanwangError } from '../../core/errors.js';
import { fen } from '../../core/money.js';
import { alertsToFire, DEFAULT_THRESHOLDS_BPS, periodOf, type Budget } from '../../ledger/budgets.js';
import { insertBudget, listBudgetAlerts, listBudgets, recordBudgetAlert, type StoredBudget } from '../../store/billing.js';
import { addJobEvent } from '../../store/jobs.js';
import type { Queryable } from '../../store/transaction.js';
import type { EngineContext } from '../context.js';
import { spentInPeriod } from './admission.js';
import { orgIdByName, yuan } from './wallet.js';

export interface BudgetInput {
  readonly org: string;
  readonly limitFen: number;
  /** A calendar month in UTC+offset (default 8), or a custom window in epoch ms. */
  readonly period?: { readonly kind: 'month'; readonly utcOffsetHours?: number | undefined } | { readonly kind: 'window'; readonly from: number; readonly until: number } | undefined;
  readonly thresholdsBps?: readonly number[] | undefined;
  readonly onExhaustion?: 'finish' | 'stop-at-limit' | undefined;
  /** A project of the org: the budget counts only that project's jobs (default: the whole org). */
  readonly project?: string | undefined;
}

/** Adds a budget for a whole org; returns it. */
export async function createBudget(ctx: EngineContext, input: BudgetInput): Promise<StoredBudget> {
  if (!Number.isSafeInteger(input.limitFen) || input.limitFen < 0) throw new SuanwangError('invalid_field', `limitFen is ${input.limitFen}`, { field: 'limitFen', hint: 'give whole fen >= 0' });
  const p = input.period ?? { kind: 'month' as const };
  if (p.kind === 'window' && !(p.until > p.from)) throw new SuanwangError('invalid_field', 'the window ends before it starts', { field: 'period.until', hint: 'give an end after the start' });
  const budget: StoredBudget = {
    id: `budget_${randomUUID()}`,
    orgId: await orgIdByName(ctx.store.db, input.org),
    projectId: input.project ?? null,
    limit: fen(input.limitFen),
    period: p.kind === 'month' ? { kind: 'month', utcOffsetHours: p.utcOffsetHours ?? 8 } : { kind: 'window', from: p.from, until: p.until },
    thresholdsBps: input.thresholdsBps ?? DEFAULT_THRESHOLDS_BPS,
    onExhaustion: input.onExhaustion ?? 'finish',
  };
  await insertBudget(ctx.store.db, budget, ctx.now());
  return budget;
}

/**
 * After a settlement that charged the org: fires the thresholds its budgets reached this period
 * (once each), recording them in budget_alerts and as an event on the job that crossed them.
 */
export async function fireBudgetAlerts(q: Queryable, orgId: string, jobId: string, attempt: number, now: Date): Promise<void> {
  const project = (await q.selectFrom('jobs').select('project').where('id', '=', jobId).executeTakeFirst())?.project ?? null;
  const budgets = (await listBudgets(q, orgId, project)) as Budget[];
  for (const b of budgets) {
    const period = periodOf(b, now.getTime());
    if (!period) continue;
    const spent = await spentInPeriod(q, orgId, b, now.getTime());
    for (const a of alertsToFire(b, now.getTime(), spent, await listBudgetAlerts(q, b.id, period.from))) {
      if (await recordBudgetAlert(q, { ...a, spent }, now)) {
        await addJobEvent(q, jobId, attempt, now, `budget ${b.id} reached ${a.thresholdBps / 100}% of ${yuan(b.limit)} (${yuan(spent)} spent or held this period)`);
      }
    }
  }
}
