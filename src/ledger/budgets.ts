// Budgets per org and per project: a limit over a period (a calendar month in the org's time zone,
// or a custom window), alerts that fire once per period at thresholds, and the hard stop that
// refuses a job whose maximum bill would overdraw the balance or a budget.
import { fen, type Fen } from '../core/money.js';
import { BPS, HOUR_MS, chargeFor, type PriceBookVersion, type Usage } from './pricing.js';

export type BudgetPeriod =
  | { readonly kind: 'month'; readonly utcOffsetHours: number }
  | { readonly kind: 'window'; readonly from: number; readonly until: number };

/** What happens to a running job once the budget or balance runs out. */
export type ExhaustionPolicy = 'finish' | 'stop-at-limit';

export interface Budget {
  readonly id: string;
  readonly orgId: string;
  /** null: the whole org's budget. */
  readonly projectId: string | null;
  readonly limit: Fen;
  readonly period: BudgetPeriod;
  /** Alert thresholds in basis points of the limit (default 8,000 and 10,000: 80% and 100%). */
  readonly thresholdsBps: readonly number[];
  readonly onExhaustion: ExhaustionPolicy;
}

export const DEFAULT_THRESHOLDS_BPS: readonly number[] = [8000, 10_000];

/** The period of `budget` containing `at` as [from, until) epoch ms, or undefined when a window does not contain it. */
export function periodOf(budget: Pick<Budget, 'period'>, at: number): { readonly from: number; readonly until: number } | undefined {
  const p = budget.period;
  if (p.kind === 'window') return at >= p.from && at < p.until ? { from: p.from, until: p.until } : undefined;
  const offsetMs = Math.round(p.utcOffsetHours * HOUR_MS);
  const local = new Date(at + offsetMs);
  const y = local.getUTCFullYear();
  const m = local.getUTCMonth();
  return { from: Date.UTC(y, m, 1) - offsetMs, until: Date.UTC(y, m + 1, 1) - offsetMs };
}

/** One alert that has fired: at most once per budget, period and threshold. */
export interface BudgetAlert {
  readonly budgetId: string;
  readonly periodFrom: number;
  readonly thresholdBps: number;
}

/**
 * The alerts that fire when spending in the period goes from `spentBefore` to `spentAfter`: every
 * threshold reached (spent >= limit × threshold) and not yet in `fired` for this period, in ascending order.
 */
export function alertsToFire(budget: Budget, at: number, spentAfter: Fen, fired: readonly BudgetAlert[]): BudgetAlert[] {
  const period = periodOf(budget, at);
  if (!period) return [];
  const done = new Set(fired.filter((a) => a.budgetId === budget.id && a.periodFrom === period.from).map((a) => a.thresholdBps));
  return [...new Set(budget.thresholdsBps)]
    .sort((a, b) => a - b)
    .filter((t) => !done.has(t) && BigInt(spentAfter) * BigInt(BPS) >= BigInt(budget.limit) * BigInt(t))
    .map((thresholdBps) => ({ budgetId: budget.id, periodFrom: period.from, thresholdBps }));
}

export type Admission =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: 'insufficient_funds';
      readonly status: 402;
      readonly message: string;
      readonly field: 'estimatedMaxFen';
      readonly hint: string;
      readonly estimatedMax: Fen;
      readonly remainingBalance: Fen;
    }
  | {
      readonly ok: false;
      readonly code: 'over_budget';
      readonly status: 422;
      readonly message: string;
      readonly field: 'estimatedMaxFen';
      readonly hint: string;
      readonly estimatedMax: Fen;
      readonly budgetId: string;
      readonly limit: Fen;
      readonly spent: Fen;
    };

/**
 * Admits a job whose largest possible bill is `estimatedMaxFen` if the balance covers it (else
 * `insufficient_funds`, 402) and every budget given, with `spentSoFar[budget.id]` spent in its
 * current period (holds included), stays within its limit (else `over_budget`, 422). The budgets
 * given are the ones that apply to the job (its org's and its project's). The refusal carries the figures.
 */
export function admit(estimatedMaxFen: Fen, remainingBalance: Fen, budgets: readonly Budget[], spentSoFar: Readonly<Record<string, Fen>>): Admission {
  if (estimatedMaxFen > remainingBalance)
    return {
      ok: false,
      code: 'insufficient_funds',
      status: 402,
      field: 'estimatedMaxFen',
      message: `the job may cost up to ${estimatedMaxFen} fen but the balance is ${remainingBalance} fen`,
      hint: 'top up the wallet, ask for a grant, or shorten the walltime or resources',
      estimatedMax: estimatedMaxFen,
      remainingBalance,
    };
  for (const b of [...budgets].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) {
    const spent = spentSoFar[b.id] ?? fen(0);
    if (spent + estimatedMaxFen > b.limit)
      return {
        ok: false,
        code: 'over_budget',
        status: 422,
        field: 'estimatedMaxFen',
        message: `the job may cost up to ${estimatedMaxFen} fen; budget ${b.id} has ${b.limit - spent} fen left of ${b.limit} (${spent} spent this period)`,
        hint: 'raise the budget, wait for the next period, or shorten the walltime or resources',
        estimatedMax: estimatedMaxFen,
        budgetId: b.id,
        limit: b.limit,
        spent,
      };
  }
  return { ok: true };
}

/**
 * When a running job must be stopped: null under `finish` (it runs to its end and may overdraw the
 * budget once), or under `stop-at-limit` the latest whole millisecond in [startedAt, until] at which
 * its accrued bill is still <= `remaining` (`until` when it never exceeds it).
 */
export function whenToStop(
  policy: ExhaustionPolicy,
  request: Pick<Usage, 'nodes' | 'perNode'>,
  book: PriceBookVersion,
  startedAt: number,
  until: number,
  remaining: Fen,
): number | null {
  if (policy === 'finish') return null;
  const cost = (t: number) => chargeFor({ ...request, startedAt, endedAt: t }, book).total;
  if (cost(until) <= remaining) return until;
  // The accrued bill never falls as time passes (each line's exact amount grows, rounding is
  // monotone), so a binary search finds the last affordable millisecond.
  let lo = startedAt;
  let hi = until;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (cost(mid) <= remaining) lo = mid;
    else hi = mid;
  }
  return lo;
}
