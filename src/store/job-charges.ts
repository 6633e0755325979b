// The job_charges table (0010): what billing held for each job attempt at placement and what its
// end settled. Kept out of schema.ts's `Database` (like the 0009 tables) so the billing work stays
// in files of its own; repositories reach it with `withTables`.
import { sql, type ColumnType, type Kysely, type Selectable } from 'kysely';
import type { BillingTables, Database } from './schema.js';
import type { Queryable } from './transaction.js';

export interface JobChargesTable {
  job_id: string;
  attempt: number;
  org_id: string;
  user_id: string;
  center_id: string;
  pool_id: string;
  accelerator: string | null;
  price_version: number;
  product_id: string | null;
  compute_hold_fen: number;
  app_fee_hold_fen: number;
  granted_hold_fen: number;
  paid_hold_fen: number;
  state: 'held' | 'settled';
  placed_at: Date;
  outcome: string | null;
  reason: string | null;
  started_at: Date | null;
  ended_at: Date | null;
  bill_fen: Defaulted<number>;
  voucher_fen: Defaulted<number>;
  voucher_program_id: string | null;
  app_fee_fen: Defaulted<number>;
  provider_fen: Defaulted<number>;
  operator_fen: Defaulted<number>;
  center_fen: Defaulted<number>;
  user_paid_fen: Defaulted<number>;
  from_granted_fen: Defaulted<number>;
  from_paid_fen: Defaulted<number>;
  billing_milli_unit_hours: Defaulted<number>;
  lines: ColumnType<unknown, string | undefined, string>;
  settled_at: Date | null;
}

/** A column with a default: optional on insert. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

// A type, not an interface: Kysely's withTables<T>() needs T's implicit index signature.
type ChargeTables = { job_charges: JobChargesTable };

function charges(q: Queryable): Kysely<Database & ChargeTables> {
  return q.withTables<ChargeTables>();
}

/** A held attempt as placement records it. */
export interface NewHeldCharge {
  readonly jobId: string;
  readonly attempt: number;
  readonly orgId: string;
  readonly userId: string;
  readonly centerId: string;
  readonly poolId: string;
  readonly accelerator: string | null;
  readonly priceVersion: number;
  readonly productId: string | null;
  readonly computeHold: number;
  readonly appFeeHold: number;
  readonly grantedHold: number;
  readonly paidHold: number;
  readonly placedAt: Date;
}

/** What settlement worked out for an attempt: its run, its bill and who got what (fen). */
export interface SettledFigures {
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly bill: number;
  readonly voucher: number;
  readonly voucherProgramId: string | null;
  readonly appFee: number;
  readonly provider: number;
  readonly operator: number;
  readonly center: number;
  readonly userPaid: number;
  readonly fromGranted: number;
  readonly fromPaid: number;
  readonly billingMilliUnitHours: number;
  readonly lines: unknown;
}

/** One attempt's charge: its hold, and once settled its outcome and figures (zero until then). */
export interface ChargeRow extends SettledFigures {
  readonly jobId: string;
  readonly attempt: number;
  readonly orgId: string;
  readonly userId: string;
  readonly centerId: string;
  readonly poolId: string;
  readonly accelerator: string | null;
  readonly priceVersion: number;
  readonly productId: string | null;
  readonly computeHold: number;
  readonly appFeeHold: number;
  readonly grantedHold: number;
  readonly paidHold: number;
  readonly state: 'held' | 'settled';
  readonly placedAt: number;
  readonly outcome: string | null;
  readonly reason: string | null;
  readonly settledAt: number | null;
}

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());

function toRow(r: Selectable<JobChargesTable>): ChargeRow {
  return {
    jobId: r.job_id,
    attempt: r.attempt,
    orgId: r.org_id,
    userId: r.user_id,
    centerId: r.center_id,
    poolId: r.pool_id,
    accelerator: r.accelerator,
    priceVersion: r.price_version,
    productId: r.product_id,
    computeHold: Number(r.compute_hold_fen),
    appFeeHold: Number(r.app_fee_hold_fen),
    grantedHold: Number(r.granted_hold_fen),
    paidHold: Number(r.paid_hold_fen),
    state: r.state,
    placedAt: r.placed_at.getTime(),
    outcome: r.outcome,
    reason: r.reason,
    startedAt: ms(r.started_at),
    endedAt: ms(r.ended_at),
    bill: Number(r.bill_fen),
    voucher: Number(r.voucher_fen),
    voucherProgramId: r.voucher_program_id,
    appFee: Number(r.app_fee_fen),
    provider: Number(r.provider_fen),
    operator: Number(r.operator_fen),
    center: Number(r.center_fen),
    userPaid: Number(r.user_paid_fen),
    fromGranted: Number(r.from_granted_fen),
    fromPaid: Number(r.from_paid_fen),
    billingMilliUnitHours: Number(r.billing_milli_unit_hours),
    lines: r.lines,
    settledAt: ms(r.settled_at),
  };
}

/** Records held attempts (one multi-row insert); an attempt already recorded is left as it is. */
export async function insertHeldCharges(q: Queryable, rows: readonly NewHeldCharge[]): Promise<void> {
  if (rows.length === 0) return;
  await charges(q)
    .insertInto('job_charges')
    .values(
      rows.map((r) => ({
        job_id: r.jobId,
        attempt: r.attempt,
        org_id: r.orgId,
        user_id: r.userId,
        center_id: r.centerId,
        pool_id: r.poolId,
        accelerator: r.accelerator,
        price_version: r.priceVersion,
        product_id: r.productId,
        compute_hold_fen: r.computeHold,
        app_fee_hold_fen: r.appFeeHold,
        granted_hold_fen: r.grantedHold,
        paid_hold_fen: r.paidHold,
        state: 'held' as const,
        placed_at: r.placedAt,
      })),
    )
    .onConflict((oc) => oc.columns(['job_id', 'attempt']).doNothing())
    .execute();
}

/**
 * The held (unsettled) attempts of these jobs, locked (FOR UPDATE) so two settlements of one
 * attempt queue up and the second finds it settled.
 */
export async function lockHeldCharges(q: Queryable, jobIds: readonly string[]): Promise<ChargeRow[]> {
  if (jobIds.length === 0) return [];
  const rows = await charges(q)
    .selectFrom('job_charges')
    .selectAll()
    .where(sql<boolean>`job_id = ANY(${[...new Set(jobIds)]}::text[])`)
    .where('state', '=', 'held')
    .orderBy('job_id')
    .orderBy('attempt')
    .forUpdate()
    .execute();
  return rows.map(toRow);
}

export interface Settled extends SettledFigures {
  readonly outcome: string;
  readonly reason: string;
}

/** Marks a held attempt settled with its figures; false when it was settled already (then nothing changes). */
export async function markSettled(q: Queryable, jobId: string, attempt: number, s: Settled, at: Date): Promise<boolean> {
  const row = await charges(q)
    .updateTable('job_charges')
    .set({
      state: 'settled',
      outcome: s.outcome,
      reason: s.reason,
      started_at: s.startedAt === null ? null : new Date(s.startedAt),
      ended_at: s.endedAt === null ? null : new Date(s.endedAt),
      bill_fen: s.bill,
      voucher_fen: s.voucher,
      voucher_program_id: s.voucherProgramId,
      app_fee_fen: s.appFee,
      provider_fen: s.provider,
      operator_fen: s.operator,
      center_fen: s.center,
      user_paid_fen: s.userPaid,
      from_granted_fen: s.fromGranted,
      from_paid_fen: s.fromPaid,
      billing_milli_unit_hours: s.billingMilliUnitHours,
      lines: JSON.stringify(s.lines),
      settled_at: at,
    })
    .where('job_id', '=', jobId)
    .where('attempt', '=', attempt)
    .where('state', '=', 'held')
    .returning('job_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** An org's settled charges in [from, to) by settlement time (all orgs when orgId is null), oldest first. */
export async function listSettledCharges(q: Queryable, orgId: string | null, from: Date, to: Date): Promise<ChargeRow[]> {
  let query = charges(q).selectFrom('job_charges').selectAll().where('state', '=', 'settled').where('settled_at', '>=', from).where('settled_at', '<', to);
  if (orgId !== null) query = query.where('org_id', '=', orgId);
  const rows = await query.orderBy('settled_at').orderBy('job_id').orderBy('attempt').execute();
  return rows.map(toRow);
}

/** Every charge row of a job, by attempt (for `show`). */
export async function chargesOfJob(q: Queryable, jobId: string): Promise<ChargeRow[]> {
  const rows = await charges(q).selectFrom('job_charges').selectAll().where('job_id', '=', jobId).orderBy('attempt').execute();
  return rows.map(toRow);
}

/**
 * Records version 1 of a pool's price book (effective from the epoch) unless the pool has a version
 * already: the default built from the pool's prices at first use. Safe under concurrency (ON CONFLICT).
 */
export async function ensureFirstPriceBook(
  q: Queryable,
  v: { readonly poolId: string; readonly fenPerAcceleratorHour: number; readonly fenPerCoreHour: number; readonly fenPerGiBHour: number },
  at: Date,
): Promise<void> {
  await q
    .withTables<BillingTables>()
    .insertInto('price_book_versions')
    .values({
      pool_id: v.poolId,
      version: 1,
      effective_from: new Date(0),
      fen_per_accelerator_hour: v.fenPerAcceleratorHour,
      fen_per_core_hour: v.fenPerCoreHour,
      fen_per_gib_hour: v.fenPerGiBHour,
      time_of_use: JSON.stringify(null),
      billing_weights: JSON.stringify(null),
      created_at: at,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** The held charges of an org's running attempts whose stop was not asked for yet, oldest start first. */
export async function runningHeldCharges(q: Queryable, orgId: string): Promise<ChargeRow[]> {
  const rows = await charges(q)
    .selectFrom('job_charges as c')
    .innerJoin('jobs as j', (join) => join.onRef('j.id', '=', 'c.job_id').onRef('j.attempt', '=', 'c.attempt'))
    .selectAll('c')
    .where('c.org_id', '=', orgId)
    .where('c.state', '=', 'held')
    .where('j.state', '=', 'running')
    .where('j.cancel_requested_at', 'is', null)
    .orderBy('j.started_at')
    .orderBy('j.id')
    .execute();
  return rows.map(toRow);
}
