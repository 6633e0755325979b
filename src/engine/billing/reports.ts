// Reports on settled charges (job_charges) and the ledger: usage like Slurm's sreport (by period,
// center, chip, user, project), monthly statements per org, and the voucher programs an org can use.
import { SuanwangError } from '../../core/errors.js';
import { fen, type Fen } from '../../core/money.js';
import { HOUR_MS } from '../../ledger/pricing.js';
import { yearOf } from '../../ledger/vouchers.js';
import { listEnrolments, listRedemptions, listVoucherPrograms, programSpent } from '../../store/billing.js';
import { listEndpointCharges } from '../../store/endpoints.js';
import { listSettledCharges, type ChargeRow } from '../../store/job-charges.js';
import { accountTransfers, lookupAccounts } from '../../store/ledger.js';
import type { Queryable } from '../../store/transaction.js';
import { centerEarnings, orgGranted, orgPaid, providerEarnings } from './accounts.js';
import { walletOf, type Wallet } from './wallet.js';

/** China Standard Time: months of statements and usage periods are local months (UTC+8). */
export const STATEMENT_UTC_OFFSET_HOURS = 8;
const OFFSET_MS = STATEMENT_UTC_OFFSET_HOURS * HOUR_MS;

/** [from, to) epoch ms of a `YYYY-MM` month in UTC+8; `invalid_field` naming `month` otherwise. */
export function monthRange(month: string): { readonly from: number; readonly to: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const mm = m ? Number(m[2]) : 0;
  if (!m || mm < 1 || mm > 12) throw new SuanwangError('invalid_field', `month "${month.slice(0, 20)}" is not YYYY-MM`, { field: 'month', hint: 'give a month such as 2026-06' });
  const y = Number(m[1]);
  return { from: Date.UTC(y, mm - 1, 1) - OFFSET_MS, to: Date.UTC(y, mm, 1) - OFFSET_MS };
}

/** Accelerator-hours of a settled charge, from its bill's accelerator lines. */
function acceleratorHours(c: ChargeRow): number {
  const lines = Array.isArray(c.lines) ? (c.lines as { what?: string; quantity?: number }[]) : [];
  return lines.filter((l) => l.what === 'accelerator').reduce((s, l) => s + (l.quantity ?? 0), 0);
}

export const USAGE_GROUPS = ['period', 'center', 'chip', 'user', 'project'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageRow {
  readonly key: string;
  readonly jobs: number;
  readonly acceleratorHours: number;
  readonly billingUnitHours: number;
  readonly bill: Fen;
  readonly voucher: Fen;
  readonly appFee: Fen;
  readonly userPaid: Fen;
}

/**
 * Usage of an org (all orgs for null) settled in [from, to), grouped by `by`: `period` is the local
 * day, `chip` the accelerator (`cpu` for none), `project` is the job's project (or, for a job without one,
 * its name prefix before `/`). Rows sorted by key; names of centers and users resolved.
 */
export async function usageReport(q: Queryable, orgId: string | null, from: number, to: number, by: UsageGroup): Promise<UsageRow[]> {
  const charges = (await listSettledCharges(q, orgId, new Date(from), new Date(to))).filter((c) => c.bill > 0 || c.appFee > 0);
  const names = async (table: 'centers' | 'users', ids: string[]) =>
    ids.length === 0 ? new Map<string, string>() : new Map((await q.selectFrom(table).select(['id', 'name']).where('id', 'in', ids).execute()).map((r) => [r.id, r.name]));
  const centers = await names('centers', [...new Set(charges.map((c) => c.centerId))]);
  const users = await names('users', [...new Set(charges.map((c) => c.userId))]);
  const jobNames = charges.length === 0 ? new Map<string, { name: string; project: string | null }>() : new Map((await q.selectFrom('jobs').select(['id', 'name', 'project']).where('id', 'in', [...new Set(charges.map((c) => c.jobId))]).execute()).map((r) => [r.id, r]));
  const keyOf = (c: ChargeRow): string => {
    switch (by) {
      case 'period':
        return new Date(c.settledAt! + OFFSET_MS).toISOString().slice(0, 10);
      case 'center':
        return centers.get(c.centerId) ?? c.centerId;
      case 'chip':
        return c.accelerator ?? 'cpu';
      case 'user':
        return users.get(c.userId) ?? c.userId;
      case 'project': {
        const job = jobNames.get(c.jobId);
        if (job?.project) return job.project;
        const name = job?.name ?? '';
        return name.includes('/') ? name.slice(0, name.indexOf('/')) : '(none)';
      }
    }
  };
  const groups = new Map<string, { jobs: Set<string>; acc: number; units: number; bill: number; voucher: number; appFee: number; userPaid: number }>();
  for (const c of charges) {
    const k = keyOf(c);
    const g = groups.get(k) ?? { jobs: new Set<string>(), acc: 0, units: 0, bill: 0, voucher: 0, appFee: 0, userPaid: 0 };
    g.jobs.add(c.jobId);
    g.acc += acceleratorHours(c);
    g.units += c.billingMilliUnitHours / 1000;
    g.bill += c.bill;
    g.voucher += c.voucher;
    g.appFee += c.appFee;
    g.userPaid += c.userPaid;
    groups.set(k, g);
  }
  return [...groups]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, g]) => ({ key, jobs: g.jobs.size, acceleratorHours: Math.round(g.acc * 1000) / 1000, billingUnitHours: Math.round(g.units * 1000) / 1000, bill: fen(g.bill), voucher: fen(g.voucher), appFee: fen(g.appFee), userPaid: fen(g.userPaid) }));
}

/** The usage rows as CSV (a header line, then one line per row; amounts in fen). */
export function usageCsv(by: UsageGroup, rows: readonly UsageRow[]): string {
  const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const head = `${by},jobs,accelerator_hours,billing_unit_hours,bill_fen,voucher_fen,app_fee_fen,user_paid_fen`;
  return [head, ...rows.map((r) => [esc(r.key), r.jobs, r.acceleratorHours, r.billingUnitHours, r.bill, r.voucher, r.appFee, r.userPaid].join(','))].join('\n') + '\n';
}

export interface StatementJob {
  readonly jobId: string;
  readonly attempt: number;
  readonly center: string;
  readonly pool: string;
  readonly accelerator: string | null;
  readonly product: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly bill: Fen;
  readonly voucher: Fen;
  readonly voucherProgram: string | null;
  readonly appFee: Fen;
  readonly providerShare: Fen;
  readonly centerEarnings: Fen;
  readonly operatorFee: Fen;
  readonly userPaid: Fen;
  readonly fromGranted: Fen;
  readonly fromPaid: Fen;
  readonly lines: unknown;
}

export interface StatementEndpoint {
  readonly endpoint: string;
  readonly endpointId: string;
  readonly requests: number;
  readonly tokens: number;
  readonly charged: Fen;
  readonly fromGranted: Fen;
  readonly fromPaid: Fen;
  /** How many charges (one per controller pass with calls) make it up. */
  readonly charges: number;
}

export interface Statement {
  readonly org: string;
  readonly month: string;
  readonly from: string;
  readonly to: string;
  readonly jobs: readonly StatementJob[];
  /** Calls to the org's priced inference endpoints charged in the month, per endpoint (src/engine/serving/metering.ts). */
  readonly endpoints: readonly StatementEndpoint[];
  /** Credit that came in (top-ups and grants) in the month. */
  readonly credits: readonly { readonly at: string; readonly code: string; readonly amount: Fen; readonly reference: string | null }[];
  readonly totals: { readonly bills: Fen; readonly vouchers: Fen; readonly appFees: Fen; readonly userPaid: Fen; readonly credited: Fen; readonly endpointCalls: Fen };
  /** The wallet now (not at the month's end). */
  readonly wallet: Wallet;
  /** Earnings of the org's own centers and products in the month (for operators and providers; 0 otherwise). */
  readonly earnings: { readonly centers: Fen; readonly provider: Fen };
}

/** An org's statement for a month (UTC+8): each settled job's bill and split, credits in, totals. */
export async function statementOf(q: Queryable, orgId: string, orgName: string, month: string, now: number): Promise<Statement> {
  const { from, to } = monthRange(month);
  const charges = (await listSettledCharges(q, orgId, new Date(from), new Date(to))).filter((c) => c.bill > 0 || c.appFee > 0);
  const centerNames = new Map((await q.selectFrom('centers').select(['id', 'name', 'operator_org_id']).execute()).map((r) => [r.id, r]));
  const pools = new Map((await q.selectFrom('pools').select(['id', 'name']).execute()).map((r) => [r.id, r.name]));
  const productIds = [...new Set(charges.flatMap((c) => (c.productId ? [c.productId] : [])))];
  const products = productIds.length === 0 ? new Map<string, string>() : new Map((await q.selectFrom('products').select(['id', 'name']).where('id', 'in', productIds).execute()).map((r) => [r.id, r.name]));
  const jobs: StatementJob[] = charges.map((c) => ({
    jobId: c.jobId,
    attempt: c.attempt,
    center: centerNames.get(c.centerId)?.name ?? c.centerId,
    pool: pools.get(c.poolId) ?? c.poolId,
    accelerator: c.accelerator,
    product: c.productId ? (products.get(c.productId) ?? c.productId) : null,
    startedAt: c.startedAt === null ? null : new Date(c.startedAt).toISOString(),
    endedAt: c.endedAt === null ? null : new Date(c.endedAt).toISOString(),
    bill: fen(c.bill),
    voucher: fen(c.voucher),
    voucherProgram: c.voucherProgramId,
    appFee: fen(c.appFee),
    providerShare: fen(c.provider),
    centerEarnings: fen(c.center),
    operatorFee: fen(c.operator),
    userPaid: fen(c.userPaid),
    fromGranted: fen(c.fromGranted),
    fromPaid: fen(c.fromPaid),
    lines: c.lines,
  }));
  const credits = [];
  for (const account of [orgPaid(orgId), orgGranted(orgId)]) {
    for (const t of await accountTransfers(q, account, { from, to, limit: 10_000 })) {
      if (t.creditAccountId === account && (t.code === 'top-up' || t.code === 'grant')) credits.push({ at: new Date(t.timestamp).toISOString(), code: t.code, amount: fen(t.amount), reference: t.userData });
    }
  }
  credits.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const sum = (f: (j: StatementJob) => number) => fen(jobs.reduce((s, j) => s + f(j), 0));
  const endpoints = new Map<string, { endpoint: string; endpointId: string; requests: number; tokens: number; charged: number; fromGranted: number; fromPaid: number; charges: number }>();
  for (const c of await listEndpointCharges(q, orgId, new Date(from), new Date(to))) {
    const e = endpoints.get(c.endpoint_id) ?? { endpoint: c.endpoint_name, endpointId: c.endpoint_id, requests: 0, tokens: 0, charged: 0, fromGranted: 0, fromPaid: 0, charges: 0 };
    e.requests += c.requests;
    e.tokens += c.tokens;
    e.charged += c.amount;
    e.fromGranted += c.from_granted;
    e.fromPaid += c.from_paid;
    e.charges++;
    endpoints.set(c.endpoint_id, e);
  }
  const endpointLines: StatementEndpoint[] = [...endpoints.values()].map((e) => ({ ...e, charged: fen(e.charged), fromGranted: fen(e.fromGranted), fromPaid: fen(e.fromPaid) }));
  // Earnings in the month of what the org runs (centers it operates) or sells (its products).
  const ownCenters = [...centerNames.values()].filter((c) => c.operator_org_id === orgId).map((c) => centerEarnings(c.id));
  let centersEarned = 0;
  for (const id of ownCenters) for (const t of await accountTransfers(q, id, { from, to, limit: 100_000 })) centersEarned += earned(t, id);
  let providerEarned = 0;
  const prov = providerEarnings(orgId);
  if ((await lookupAccounts(q, [prov])).length > 0) for (const t of await accountTransfers(q, prov, { from, to, limit: 100_000 })) providerEarned += earned(t, prov);
  return {
    org: orgName,
    month,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    jobs,
    endpoints: endpointLines,
    credits,
    totals: {
      bills: sum((j) => j.bill),
      vouchers: sum((j) => j.voucher),
      appFees: sum((j) => j.appFee),
      userPaid: sum((j) => j.userPaid),
      credited: fen(credits.reduce((s, c) => s + c.amount, 0)),
      endpointCalls: fen(endpointLines.reduce((s, e) => s + e.charged, 0)),
    },
    wallet: await walletOf(q, orgId, now),
    earnings: { centers: fen(centersEarned), provider: fen(providerEarned) },
  };
}

/** A posted transfer's effect on an account's earnings (credits in, debits out; holds do not count). */
function earned(t: { phase: string; creditAccountId: string; debitAccountId: string; amount: number }, account: string): number {
  if (t.phase !== 'single' && t.phase !== 'post_pending') return 0;
  return t.creditAccountId === account ? t.amount : t.debitAccountId === account ? -t.amount : 0;
}

export interface VoucherView {
  readonly id: string;
  readonly name: string;
  readonly coPayBps: number;
  readonly scope: unknown;
  readonly validFrom: string;
  readonly validUntil: string;
  /** What the org has received from it so far. */
  readonly redeemed: Fen;
  /** What it can still pay this org (funding left, within the org's cap; null: no limit known). */
  readonly remaining: Fen | null;
  /** `open`: pays every org; `by-code`: pays this org because it redeemed a code. */
  readonly enrolment: 'open' | 'by-code';
}

/**
 * The voucher programs valid now that can pay this org (open ones, and `by-code` ones it redeemed a
 * code of), with what it has redeemed and what is left for it.
 */
export async function vouchersFor(q: Queryable, orgId: string, now: number): Promise<VoucherView[]> {
  const enrolled = new Set(await listEnrolments(q, orgId));
  const programs = (await listVoucherPrograms(q, new Date(now))).filter((p) => p.enrolment === 'open' || enrolled.has(p.id));
  const spent = await programSpent(q, programs.map((p) => p.id));
  const mine = await listRedemptions(q, orgId);
  return programs.map((p) => {
    const ofProgram = mine.filter((r) => r.programId === p.id);
    const redeemed = ofProgram.reduce((s, r) => s + r.amount, 0);
    const funding = p.funding.kind === 'per-voucher' ? p.funding.faceValue - redeemed : p.funding.total - (spent[p.id] ?? 0);
    // The cap is per calendar year in the program's time zone, as settlement counts it (applyVouchers).
    const year = yearOf(now, p.utcOffsetHours);
    const thisYear = ofProgram.filter((r) => r.at >= year.from && r.at < year.until).reduce((s, r) => s + r.amount, 0);
    const cap = p.orgAnnualCap === null ? Infinity : p.orgAnnualCap - thisYear;
    const remaining = Math.max(0, Math.min(funding, cap));
    return { id: p.id, name: p.name, coPayBps: p.coPayBps, scope: p.scope, validFrom: new Date(p.validFrom).toISOString(), validUntil: new Date(p.validUntil).toISOString(), redeemed: fen(redeemed), remaining: fen(remaining), enrolment: p.enrolment };
  });
}
