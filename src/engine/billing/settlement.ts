// Settlement at a run's end, in the transaction that records the end: ledger/metering.ts
// settlement() says what to post of the compute hold; vouchers pay their share (applyVouchers, the
// redemption recorded with its evidence); the app fee is split provider/center/operator; granted
// credit pays before paid credit. Posts and splits are one linked chain: all or nothing. The
// attempt's job_charges row is marked settled in the same transaction, guarded by state = 'held',
// so an attempt is settled once whatever retries or races happen.
import type { Transaction } from 'kysely';
import { fen } from '../../core/money.js';
import { splitFee, appFee } from '../../ledger/app-fees.js';
import type { TransferInput } from '../../ledger/index.js';
import { settlement, type Outcome } from '../../ledger/metering.js';
import { BPS, priceBookAt, type Usage } from '../../ledger/pricing.js';
import { applyVouchers, type VoucherProgram } from '../../ledger/vouchers.js';
import { insertRedemption, listEnrolments, listPriceBookVersions, listRedemptions, listVoucherPrograms, programSpent, recordUsageEvent } from '../../store/billing.js';
import { getJobs } from '../../store/jobs.js';
import { lockHeldCharges, markSettled, type ChargeRow } from '../../store/job-charges.js';
import type { Database, JobRow } from '../../store/schema.js';
import type { Queryable } from '../../store/transaction.js';
import type { EngineContext } from '../context.js';
import { applied, centerEarnings, holdId, OPERATOR_FEES, orgGranted, orgPaid, providerEarnings, transfer, voucherReceivable } from './accounts.js';
import { appTermsOf, requestOf } from './job-pricing.js';
import { fireBudgetAlerts } from './budgets.js';

export interface SettlementSettings {
  /** The operator's fee on compute bills, basis points. */
  readonly operatorFeeBps: number;
  /** The end was the platform's fault (agent lost, center degraded, infrastructure failure): release the hold, charge nothing. */
  readonly platformFailure?: boolean;
}

/** The engine's settlement settings. */
export const settingsOf = (ctx: EngineContext): SettlementSettings => ({ operatorFeeBps: ctx.config.operatorFeeBps });

/**
 * How an attempt ended for billing, from its job row after the change; null while the attempt is
 * still placed or running (nothing to settle yet).
 */
export function outcomeOf(job: Pick<JobRow, 'state' | 'attempt' | 'started_at' | 'reason'> | undefined, attempt: number, platformFailure: boolean): Outcome | null {
  if (platformFailure) return 'infrastructure-failure';
  if (!job || job.attempt !== attempt || job.state === 'submitted' || job.state === 'queued') return 'requeued';
  switch (job.state) {
    case 'placed':
    case 'running':
      return null;
    case 'succeeded':
      return 'succeeded';
    case 'failed':
      if (job.started_at === null) return 'cancelled-before-start';
      return job.reason?.startsWith('walltime exceeded') ? 'timed-out' : 'failed-by-program';
    case 'cancelled':
      return job.started_at === null ? 'cancelled-before-start' : 'cancelled-while-running';
  }
}

/**
 * Settles every held attempt of these jobs whose run has ended (see outcomeOf). Call it in the
 * transaction that changed the jobs' state; a job with nothing held costs one indexed read.
 */
export async function settleJobs(q: Queryable, jobIds: readonly string[], now: Date, settings: SettlementSettings): Promise<void> {
  if (jobIds.length === 0) return;
  const held = await lockHeldCharges(q, jobIds);
  if (held.length === 0) return;
  const jobs = new Map((await getJobs(q, held.map((h) => h.jobId))).map((j) => [j.id, j]));
  for (const charge of held) {
    const job = jobs.get(charge.jobId);
    const outcome = outcomeOf(job, charge.attempt, settings.platformFailure === true);
    if (outcome === null) continue;
    await settleOne(q as Transaction<Database>, charge, job, outcome, now, settings);
  }
}

async function settleOne(q: Queryable, charge: ChargeRow, job: JobRow | undefined, outcome: Outcome, now: Date, settings: SettlementSettings): Promise<void> {
  const versions = await listPriceBookVersions(q, charge.poolId);
  const book = versions.find((v) => v.version === charge.priceVersion) ?? priceBookAt(versions, charge.placedAt)!;
  const ran = job && job.attempt === charge.attempt && job.started_at !== null && job.finished_at !== null;
  const usage: Usage | null = ran ? { ...requestOf(job), startedAt: job.started_at!.getTime(), endedAt: job.finished_at!.getTime() } : null;
  const s = settlement(outcome, fen(charge.computeHold), usage, book);
  const post = s.post as number;

  // The voucher share of the compute bill actually posted (at most one program per job).
  let voucher = 0;
  let programId: string | null = null;
  const terms = job ? await appTermsOf(q, job) : null;
  if (post > 0 && s.bill && usage) {
    const programs = (await listVoucherPrograms(q, now)) as VoucherProgram[];
    if (programs.length > 0) {
      const center = await q.selectFrom('centers').select('region').where('id', '=', charge.centerId).executeTakeFirst();
      const outcomeV = applyVouchers(
        { ...s.bill, total: fen(post) },
        {
          jobId: charge.jobId,
          orgId: charge.orgId,
          at: now.getTime(),
          accelerator: charge.accelerator,
          category: terms?.category ?? 'compute',
          region: center?.region ?? '',
          centerId: charge.centerId,
          usage,
          alreadySubsidised: false,
          programSpentSoFar: await programSpent(q, programs.map((p) => p.id)),
          enrolledPrograms: programs.some((p) => p.enrolment === 'by-code') ? await listEnrolments(q, charge.orgId) : [],
        },
        programs,
        await listRedemptions(q, charge.orgId),
      );
      const r = outcomeV.redemptions[0];
      if (r) {
        const inserted = await insertRedemption(q, { id: `rdm:${charge.jobId}`, programId: r.programId, orgId: r.orgId, jobId: r.jobId, amount: r.amount, at: r.at, evidence: { ...r.evidence, attempt: charge.attempt } });
        if (inserted === 'inserted') {
          voucher = r.amount;
          programId = r.programId;
        }
      }
    }
  }

  // The app fee: charged whenever the outcome is (even on a free pool; the run's time for a per-hour
  // price), never above its hold.
  let fee = 0;
  let split = { provider: 0, center: 0, operator: 0 };
  if (usage && s.bill && terms?.price) {
    fee = Math.min(appFee(terms.price.price, usage.endedAt - usage.startedAt), charge.appFeeHold);
    split = splitFee(fen(fee), terms.price.shares);
  }
  const computeOperatorFee = Math.floor((post * settings.operatorFeeBps) / BPS);
  const userPays = post - voucher + fee;
  const fromGranted = Math.min(userPays, charge.grantedHold);
  const fromPaid = userPays - fromGranted;

  const center = centerEarnings(charge.centerId);
  const id = (part: string) => `settle:${charge.jobId}:${charge.attempt}:${part}`;
  const batch: TransferInput[] = [];
  const release = (part: 'granted' | 'paid', hold: number, amount: number) => {
    if (hold === 0) return;
    const pendingId = holdId(charge.jobId, charge.attempt, part);
    if (amount > 0) batch.push({ id: id(`post-${part}`), pendingId, amount, code: 'compute', userData: charge.jobId, flags: { postPending: true } });
    else batch.push({ id: id(`void-${part}`), pendingId, amount: 0, code: 'compute', userData: charge.jobId, flags: { voidPending: true } });
  };
  release('granted', charge.grantedHold, fromGranted);
  release('paid', charge.paidHold, fromPaid);
  const accounts = [center, orgGranted(charge.orgId), orgPaid(charge.orgId)];
  if (voucher > 0) {
    batch.push({ id: id('voucher'), debitAccountId: voucherReceivable(programId!), creditAccountId: center, amount: voucher, code: 'voucher', userData: charge.jobId });
    accounts.push(voucherReceivable(programId!));
  }
  if (computeOperatorFee > 0) batch.push({ id: id('operator-fee'), debitAccountId: center, creditAccountId: OPERATOR_FEES, amount: computeOperatorFee, code: 'compute', userData: charge.jobId });
  if (split.operator > 0) batch.push({ id: id('app-operator'), debitAccountId: center, creditAccountId: OPERATOR_FEES, amount: split.operator, code: 'app-fee', userData: charge.jobId });
  if (computeOperatorFee > 0 || split.operator > 0) accounts.push(OPERATOR_FEES);
  if (split.provider > 0 && terms) {
    batch.push({ id: id('app-provider'), debitAccountId: center, creditAccountId: providerEarnings(terms.providerOrgId), amount: split.provider, code: 'app-fee', userData: charge.jobId });
    accounts.push(providerEarnings(terms.providerOrgId));
  }
  // One linked chain: the posts, the voucher share and the splits succeed or fail together.
  const chain = batch.map((t, i) => ({ ...t, flags: { ...t.flags, linked: i < batch.length - 1 } }));
  if (chain.length > 0) {
    const results = await transfer(q, now, chain, accounts);
    const bad = results.findIndex((r) => !applied(r));
    if (bad >= 0) throw new Error(`settlement of ${charge.jobId} attempt ${charge.attempt}: transfer ${chain[bad]!.id} answered ${results[bad]}`);
  }
  if (usage) {
    const ev = (kind: 'started' | 'ended', at: number) => ({ eventId: `${charge.jobId}:${charge.attempt}:${kind}`, jobId: charge.jobId, attempt: charge.attempt, kind, at, nodes: usage.nodes });
    await recordUsageEvent(q, ev('started', usage.startedAt), now);
    await recordUsageEvent(q, ev('ended', usage.endedAt), now);
  }
  await markSettled(
    q,
    charge.jobId,
    charge.attempt,
    {
      outcome,
      reason: s.reason,
      startedAt: usage?.startedAt ?? null,
      endedAt: usage?.endedAt ?? null,
      bill: post,
      voucher,
      voucherProgramId: programId,
      appFee: fee,
      provider: split.provider,
      operator: computeOperatorFee + split.operator,
      center: post - computeOperatorFee + split.center,
      userPaid: userPays,
      fromGranted,
      fromPaid,
      billingMilliUnitHours: s.bill?.billingMilliUnitHours ?? 0,
      lines: s.bill?.lines ?? [],
    },
    now,
  );
  if (userPays > 0) await fireBudgetAlerts(q, charge.orgId, charge.jobId, charge.attempt, now);
}
