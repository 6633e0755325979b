import type { Kysely } from 'kysely';
import { fen, type Fen } from '../core/money.js';
import type { BillingDatabase, BillingTables } from './schema.js';
import type { Queryable } from './transaction.js';

/**
 * The billing rules' tables (0009): price book versions, voucher programs, grants, redemptions,
 * budgets and their alerts, app prices and usage events. Rows come back in the shapes src/ledger's
 * pure rules take (camelCase, epoch ms, integer fen), so the engine passes them straight through.
 * Uniqueness that a rule depends on is the database's job (one redemption per job, one alert per
 * threshold and period, one usage event per id): the insert says whether it was the first.
 */

/** The billing tables on `q` (the same connection or transaction; `Database` does not list them yet). */
function billing(q: Queryable): Kysely<BillingDatabase> {
  return q.withTables<BillingTables>();
}

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());

// ---- price books ----

export interface StoredPriceBookVersion {
  readonly poolId: string;
  readonly version: number;
  readonly effectiveFrom: number;
  readonly accelerator: string | null;
  readonly rates: { readonly fenPerAcceleratorHour: Fen; readonly fenPerCoreHour: Fen; readonly fenPerGiBHour: Fen };
  readonly timeOfUse: { readonly factorsBps: readonly number[]; readonly utcOffsetHours: number } | null;
  readonly billingWeights: {
    readonly milliPerAccelerator: Readonly<Record<string, number>>;
    readonly milliPerCore: number;
    readonly milliPerGiB: number;
    readonly mode: 'sum' | 'max';
  } | null;
}

/** Adds a version of a pool's price book; a second version with the same number or start time is refused (versions are never rewritten). */
export async function insertPriceBookVersion(q: Queryable, v: Omit<StoredPriceBookVersion, 'accelerator'>, at: Date): Promise<void> {
  await billing(q)
    .insertInto('price_book_versions')
    .values({
      pool_id: v.poolId,
      version: v.version,
      effective_from: new Date(v.effectiveFrom),
      fen_per_accelerator_hour: v.rates.fenPerAcceleratorHour,
      fen_per_core_hour: v.rates.fenPerCoreHour,
      fen_per_gib_hour: v.rates.fenPerGiBHour,
      time_of_use: JSON.stringify(v.timeOfUse),
      billing_weights: JSON.stringify(v.billingWeights),
      created_at: at,
    })
    .execute();
}

/** Every version of a pool's price book, oldest first, with the pool's accelerator (what ledger's priceBookAt takes). */
export async function listPriceBookVersions(q: Queryable, poolId: string): Promise<StoredPriceBookVersion[]> {
  const rows = await billing(q)
    .selectFrom('price_book_versions as v')
    .innerJoin('pools as p', 'p.id', 'v.pool_id')
    .selectAll('v')
    .select('p.accelerator')
    .where('v.pool_id', '=', poolId)
    .orderBy('v.effective_from')
    .orderBy('v.version')
    .execute();
  return rows.map((r) => ({
    poolId: r.pool_id,
    version: r.version,
    effectiveFrom: r.effective_from.getTime(),
    accelerator: r.accelerator,
    rates: { fenPerAcceleratorHour: fen(r.fen_per_accelerator_hour), fenPerCoreHour: fen(r.fen_per_core_hour), fenPerGiBHour: fen(r.fen_per_gib_hour) },
    timeOfUse: r.time_of_use,
    billingWeights: r.billing_weights,
  }));
}

// ---- voucher programs, grants, redemptions ----

export interface StoredVoucherProgram {
  readonly id: string;
  readonly name: string;
  readonly funding: { readonly kind: 'per-voucher'; readonly faceValue: Fen } | { readonly kind: 'pool'; readonly total: Fen };
  readonly coPayBps: number;
  readonly coPayBpsByCategory: Readonly<Record<string, number>>;
  readonly scope: { readonly domesticOnly: boolean; readonly categories: readonly string[]; readonly regions: readonly string[]; readonly centers: readonly string[] };
  readonly validFrom: number;
  readonly validUntil: number;
  readonly orgAnnualCap: Fen | null;
  readonly utcOffsetHours: number;
  readonly enrolment: 'open' | 'by-code';
}

/** Adds a voucher program; its id and name are unique, a co-pay over 100% or an empty validity window is refused. */
export async function insertVoucherProgram(q: Queryable, p: StoredVoucherProgram, at: Date): Promise<void> {
  await billing(q)
    .insertInto('voucher_programs')
    .values({
      id: p.id,
      name: p.name,
      funding_kind: p.funding.kind,
      funding_fen: p.funding.kind === 'pool' ? p.funding.total : p.funding.faceValue,
      co_pay_bps: p.coPayBps,
      co_pay_bps_by_category: JSON.stringify(p.coPayBpsByCategory),
      scope: JSON.stringify(p.scope),
      valid_from: new Date(p.validFrom),
      valid_until: new Date(p.validUntil),
      org_annual_cap_fen: p.orgAnnualCap,
      utc_offset_minutes: Math.round(p.utcOffsetHours * 60),
      enrolment: p.enrolment,
      created_at: at,
    })
    .execute();
}

/** Programs valid at `at` (all of them when `at` is omitted), by id. */
export async function listVoucherPrograms(q: Queryable, at?: Date): Promise<StoredVoucherProgram[]> {
  let query = billing(q).selectFrom('voucher_programs').selectAll().orderBy('id');
  if (at) query = query.where('valid_from', '<=', at).where('valid_until', '>', at);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    funding: r.funding_kind === 'pool' ? { kind: 'pool' as const, total: fen(r.funding_fen) } : { kind: 'per-voucher' as const, faceValue: fen(r.funding_fen) },
    coPayBps: r.co_pay_bps,
    coPayBpsByCategory: r.co_pay_bps_by_category,
    scope: r.scope,
    validFrom: r.valid_from.getTime(),
    validUntil: r.valid_until.getTime(),
    orgAnnualCap: r.org_annual_cap_fen === null ? null : fen(r.org_annual_cap_fen),
    utcOffsetHours: r.utc_offset_minutes / 60,
    enrolment: r.enrolment,
  }));
}

/** Adds voucher codes (their hashes) to a program. */
export async function insertVoucherCodes(q: Queryable, programId: string, codeHashes: readonly string[], at: Date): Promise<void> {
  if (codeHashes.length === 0) return;
  await billing(q).insertInto('voucher_codes').values(codeHashes.map((code_hash) => ({ code_hash, program_id: programId, created_at: at }))).execute();
}

/**
 * Redeems a code for an org: marks it used and enrols the org in its program, in the caller's
 * transaction. `unknown`: no such code; `used`: redeemed before (by whom is not said to another org);
 * `already-enrolled`: the org holds a code of this program already (the code stays unused).
 */
export async function redeemVoucherCode(
  q: Queryable,
  codeHash: string,
  orgId: string,
  at: Date,
): Promise<{ readonly result: 'enrolled' | 'already-enrolled'; readonly programId: string } | { readonly result: 'unknown' } | { readonly result: 'used' }> {
  const code = await billing(q).selectFrom('voucher_codes').selectAll().where('code_hash', '=', codeHash).forUpdate().executeTakeFirst();
  if (!code) return { result: 'unknown' };
  if (code.redeemed_at !== null) return { result: 'used' };
  const enrolled = await billing(q).selectFrom('voucher_enrolments').select('org_id').where('program_id', '=', code.program_id).where('org_id', '=', orgId).executeTakeFirst();
  if (enrolled) return { result: 'already-enrolled', programId: code.program_id };
  const taken = await billing(q)
    .updateTable('voucher_codes')
    .set({ redeemed_by_org: orgId, redeemed_at: at })
    .where('code_hash', '=', codeHash)
    .where('redeemed_at', 'is', null)
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) !== 1) return { result: 'used' };
  await billing(q).insertInto('voucher_enrolments').values({ program_id: code.program_id, org_id: orgId, code_hash: codeHash, enrolled_at: at }).execute();
  return { result: 'enrolled', programId: code.program_id };
}

/** The `by-code` programs an org is enrolled in. */
export async function listEnrolments(q: Queryable, orgId: string): Promise<string[]> {
  const rows = await billing(q).selectFrom('voucher_enrolments').select('program_id').where('org_id', '=', orgId).orderBy('program_id').execute();
  return rows.map((r) => r.program_id);
}

/** How many codes a program has, and how many were redeemed. */
export async function voucherCodeCounts(q: Queryable, programId: string): Promise<{ readonly issued: number; readonly redeemed: number }> {
  const r = await billing(q)
    .selectFrom('voucher_codes')
    .select((e) => [e.fn.countAll<string>().as('issued'), e.fn.count<string>('redeemed_at').as('redeemed')])
    .where('program_id', '=', programId)
    .executeTakeFirstOrThrow();
  return { issued: Number(r.issued), redeemed: Number(r.redeemed) };
}

export interface StoredGrant {
  readonly id: string;
  readonly orgId: string;
  readonly programId: string | null;
  readonly amount: Fen;
  readonly priority: number;
  readonly expiresAt: number | null;
  readonly grantedAt: number;
}

/** Records a grant's terms (org, amount, priority, expiry); the credit itself moves in the ledger. */
export async function insertGrant(q: Queryable, g: StoredGrant): Promise<void> {
  await billing(q)
    .insertInto('credit_grants')
    .values({
      id: g.id,
      org_id: g.orgId,
      program_id: g.programId,
      amount_fen: g.amount,
      priority: g.priority,
      expires_at: g.expiresAt === null ? null : new Date(g.expiresAt),
      granted_at: new Date(g.grantedAt),
    })
    .execute();
}

/** An org's grants in the order they are spent (priority, then earliest expiry, never-expiring last, then id). */
export async function listGrants(q: Queryable, orgId: string): Promise<StoredGrant[]> {
  const rows = await billing(q)
    .selectFrom('credit_grants')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('priority')
    .orderBy('expires_at', (o) => o.asc().nullsLast())
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    orgId: r.org_id,
    programId: r.program_id,
    amount: fen(r.amount_fen),
    priority: r.priority,
    expiresAt: ms(r.expires_at),
    grantedAt: r.granted_at.getTime(),
  }));
}

export interface StoredRedemption {
  readonly id: string;
  readonly programId: string;
  readonly orgId: string;
  readonly jobId: string;
  readonly amount: Fen;
  readonly at: number;
  readonly evidence: unknown;
}

/**
 * Records a redemption, or does nothing when the job already has one from any program (the table's
 * unique job_id): 'inserted' or 'already-subsidised'. ON CONFLICT keeps a concurrent second
 * settlement of the same job from failing its transaction; it simply finds the job subsidised.
 */
export async function insertRedemption(q: Queryable, r: StoredRedemption): Promise<'inserted' | 'already-subsidised'> {
  const row = await billing(q)
    .insertInto('voucher_redemptions')
    .values({
      id: r.id,
      program_id: r.programId,
      org_id: r.orgId,
      job_id: r.jobId,
      amount_fen: r.amount,
      at: new Date(r.at),
      evidence: JSON.stringify(r.evidence),
    })
    .onConflict((oc) => oc.column('job_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row ? 'inserted' : 'already-subsidised';
}

/** An org's redemptions (of one program when given) since `since`, oldest first: what the annual cap and face value are judged on. */
export async function listRedemptions(q: Queryable, orgId: string, opts: { programId?: string; since?: Date } = {}): Promise<StoredRedemption[]> {
  let query = billing(q).selectFrom('voucher_redemptions').selectAll().where('org_id', '=', orgId);
  if (opts.programId !== undefined) query = query.where('program_id', '=', opts.programId);
  if (opts.since !== undefined) query = query.where('at', '>=', opts.since);
  const rows = await query.orderBy('at').orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, programId: r.program_id, orgId: r.org_id, jobId: r.job_id, amount: fen(r.amount_fen), at: r.at.getTime(), evidence: r.evidence }));
}

/** What every org together has redeemed per program (for pool-funded programs), by program id. */
export async function programSpent(q: Queryable, programIds: readonly string[]): Promise<Record<string, Fen>> {
  const out: Record<string, Fen> = {};
  for (const id of programIds) out[id] = fen(0);
  if (programIds.length === 0) return out;
  const rows = await billing(q)
    .selectFrom('voucher_redemptions')
    .select('program_id')
    .select((eb) => eb.fn.sum<string | number>('amount_fen').as('spent'))
    .where('program_id', 'in', programIds)
    .groupBy('program_id')
    .execute();
  for (const r of rows) out[r.program_id] = fen(Number(r.spent));
  return out;
}

// ---- budgets ----

export interface StoredBudget {
  readonly id: string;
  readonly orgId: string;
  readonly projectId: string | null;
  readonly limit: Fen;
  readonly period: { readonly kind: 'month'; readonly utcOffsetHours: number } | { readonly kind: 'window'; readonly from: number; readonly until: number };
  readonly thresholdsBps: readonly number[];
  readonly onExhaustion: 'finish' | 'stop-at-limit';
}

/** Adds a budget for an org (projectId null) or one of its projects; a window must end after it starts. */
export async function insertBudget(q: Queryable, b: StoredBudget, at: Date): Promise<void> {
  await billing(q)
    .insertInto('budgets')
    .values({
      id: b.id,
      org_id: b.orgId,
      project_id: b.projectId,
      limit_fen: b.limit,
      period_kind: b.period.kind,
      utc_offset_minutes: b.period.kind === 'month' ? Math.round(b.period.utcOffsetHours * 60) : 0,
      window_from: b.period.kind === 'window' ? new Date(b.period.from) : null,
      window_until: b.period.kind === 'window' ? new Date(b.period.until) : null,
      thresholds_bps: JSON.stringify(b.thresholdsBps),
      on_exhaustion: b.onExhaustion,
      created_at: at,
    })
    .execute();
}

/** The budgets that apply to a job of `orgId` (and of `projectId`): the org's own and that project's, by id. */
export async function listBudgets(q: Queryable, orgId: string, projectId?: string | null): Promise<StoredBudget[]> {
  let query = billing(q).selectFrom('budgets').selectAll().where('org_id', '=', orgId);
  if (projectId !== undefined) query = query.where((eb) => (projectId === null ? eb('project_id', 'is', null) : eb.or([eb('project_id', 'is', null), eb('project_id', '=', projectId)])));
  const rows = await query.orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    orgId: r.org_id,
    projectId: r.project_id,
    limit: fen(r.limit_fen),
    period:
      r.period_kind === 'month'
        ? { kind: 'month' as const, utcOffsetHours: r.utc_offset_minutes / 60 }
        : { kind: 'window' as const, from: r.window_from!.getTime(), until: r.window_until!.getTime() },
    thresholdsBps: r.thresholds_bps,
    onExhaustion: r.on_exhaustion,
  }));
}

/**
 * Records that a budget's alert fired for a period; true the first time, false when it had already
 * fired (the primary key makes "once per period" hold across concurrent control-plane processes).
 */
export async function recordBudgetAlert(
  q: Queryable,
  a: { readonly budgetId: string; readonly periodFrom: number; readonly thresholdBps: number; readonly spent: Fen },
  at: Date,
): Promise<boolean> {
  const row = await billing(q)
    .insertInto('budget_alerts')
    .values({ budget_id: a.budgetId, period_from: new Date(a.periodFrom), threshold_bps: a.thresholdBps, spent_fen: a.spent, fired_at: at })
    .onConflict((oc) => oc.columns(['budget_id', 'period_from', 'threshold_bps']).doNothing())
    .returning('budget_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** The alerts a budget has fired in the period starting at `periodFrom` (what ledger's alertsToFire takes as `fired`). */
export async function listBudgetAlerts(q: Queryable, budgetId: string, periodFrom: number): Promise<{ budgetId: string; periodFrom: number; thresholdBps: number }[]> {
  const rows = await billing(q)
    .selectFrom('budget_alerts')
    .select(['budget_id', 'period_from', 'threshold_bps'])
    .where('budget_id', '=', budgetId)
    .where('period_from', '=', new Date(periodFrom))
    .orderBy('threshold_bps')
    .execute();
  return rows.map((r) => ({ budgetId: r.budget_id, periodFrom: r.period_from.getTime(), thresholdBps: r.threshold_bps }));
}

// ---- app prices ----

export interface StoredAppPrice {
  readonly productId: string;
  readonly price: { readonly kind: 'free' } | { readonly kind: 'per-run'; readonly fen: number } | { readonly kind: 'per-hour'; readonly fenPerHour: number };
  readonly shares: { readonly providerBps: number; readonly centerBps: number; readonly operatorBps: number };
  /** What a call to an endpoint serving the product costs (fen per request and per 1,000 tokens); none: free to call. */
  readonly serving?: { readonly fenPerRequest: number; readonly fenPer1kTokens: number } | undefined;
}

/** Sets a product's price and split (replacing the previous terms: a launch is charged at the terms read when it is settled). */
export async function setAppPrice(q: Queryable, p: StoredAppPrice, at: Date): Promise<void> {
  const amount = p.price.kind === 'free' ? 0 : p.price.kind === 'per-run' ? p.price.fen : p.price.fenPerHour;
  const values = {
    kind: p.price.kind,
    fen: amount,
    provider_bps: p.shares.providerBps,
    center_bps: p.shares.centerBps,
    operator_bps: p.shares.operatorBps,
    fen_per_request: p.serving?.fenPerRequest ?? 0,
    fen_per_1k_tokens: p.serving?.fenPer1kTokens ?? 0,
    updated_at: at,
  };
  await billing(q)
    .insertInto('app_prices')
    .values({ product_id: p.productId, ...values })
    .onConflict((oc) => oc.column('product_id').doUpdateSet(values))
    .execute();
}

/** A product's price and split; undefined when it has none (the engine treats that as free). */
export async function getAppPrice(q: Queryable, productId: string): Promise<StoredAppPrice | undefined> {
  const r = await billing(q).selectFrom('app_prices').selectAll().where('product_id', '=', productId).executeTakeFirst();
  if (!r) return undefined;
  const price = r.kind === 'free' ? { kind: 'free' as const } : r.kind === 'per-run' ? { kind: 'per-run' as const, fen: r.fen } : { kind: 'per-hour' as const, fenPerHour: r.fen };
  const serving = r.fen_per_request > 0 || r.fen_per_1k_tokens > 0 ? { fenPerRequest: r.fen_per_request, fenPer1kTokens: r.fen_per_1k_tokens } : undefined;
  return { productId: r.product_id, price, shares: { providerBps: r.provider_bps, centerBps: r.center_bps, operatorBps: r.operator_bps }, ...(serving ? { serving } : {}) };
}

// ---- usage events ----

export interface StoredUsageEvent {
  readonly eventId: string;
  readonly jobId: string;
  readonly attempt: number;
  readonly kind: 'started' | 'ended';
  readonly at: number;
  readonly nodes: number;
}

/**
 * Records an agent's usage event once: 'inserted', 'duplicate' (the same id and content again: a
 * retry), or 'conflict' (the same id with other content, which the caller refuses).
 */
export async function recordUsageEvent(q: Queryable, e: StoredUsageEvent, receivedAt: Date): Promise<'inserted' | 'duplicate' | 'conflict'> {
  const row = await billing(q)
    .insertInto('usage_events')
    .values({ event_id: e.eventId, job_id: e.jobId, attempt: e.attempt, kind: e.kind, at: new Date(e.at), nodes: e.nodes, received_at: receivedAt })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .returning('event_id')
    .executeTakeFirst();
  if (row) return 'inserted';
  const seen = await billing(q).selectFrom('usage_events').selectAll().where('event_id', '=', e.eventId).executeTakeFirstOrThrow();
  const same = seen.job_id === e.jobId && seen.attempt === e.attempt && seen.kind === e.kind && seen.at.getTime() === e.at && seen.nodes === e.nodes;
  return same ? 'duplicate' : 'conflict';
}

/** A job's usage events, by attempt then time. */
export async function listUsageEvents(q: Queryable, jobId: string): Promise<StoredUsageEvent[]> {
  const rows = await billing(q).selectFrom('usage_events').selectAll().where('job_id', '=', jobId).orderBy('attempt').orderBy('at').orderBy('event_id').execute();
  return rows.map((r) => ({ eventId: r.event_id, jobId: r.job_id, attempt: r.attempt, kind: r.kind, at: r.at.getTime(), nodes: r.nodes }));
}

