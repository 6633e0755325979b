// Compute vouchers (算力券 / 训力券) as programs write them, and the order credit is spent in.
//
// A program pays a co-pay share of an eligible bill (e.g. up to 30% of it, 50% for models), within
// its scope (domestic chips only, categories, regions, centers) and validity window, up to what is
// left of its funding (a face value per org, or a pool shared by every org) and of the org's annual
// cap. A job is subsidised by one program at most: a job any program already paid for gets nothing
// more, and of several eligible programs the one paying most is used (ties: the smaller id), so
// the choice never depends on the order programs are listed in.
import { acceleratorByKey, type AcceleratorFamily } from '../core/accelerators.js';
import { fen, type Fen } from '../core/money.js';
import type { Bill, BillLine, Usage } from './pricing.js';
import { BPS, HOUR_MS } from './pricing.js';

/** Families of chips designed in China: the scope `domesticOnly` accepts these and nothing else. */
export const DOMESTIC_FAMILIES: readonly AcceleratorFamily[] = ['cann', 'dtk', 'bang', 'musa', 'xpu', 'supa', 'corex', 'maca'];

/** True for a known accelerator of a domestic family (an unknown key is not assumed domestic). */
export function isDomestic(accelerator: string | null): boolean {
  const spec = accelerator === null ? undefined : acceleratorByKey(accelerator);
  return spec !== undefined && DOMESTIC_FAMILIES.includes(spec.family);
}

export type Funding =
  /** Each org holds one voucher of this face value for the program. */
  | { readonly kind: 'per-voucher'; readonly faceValue: Fen }
  /** One pool for every org; what is left is `total` minus every org's redemptions. */
  | { readonly kind: 'pool'; readonly total: Fen };

export interface VoucherScope {
  readonly domesticOnly: boolean;
  /** Product categories (`compute` for a raw job, `model`, `software`, ...); empty: any. */
  readonly categories: readonly string[];
  readonly regions: readonly string[];
  readonly centers: readonly string[];
}

export interface VoucherProgram {
  readonly id: string;
  readonly name: string;
  readonly funding: Funding;
  /** Share of an eligible bill the program pays, in basis points (3,000 = up to 30%). */
  readonly coPayBps: number;
  /** A different share for some categories (`{ model: 5000 }`: 50% for models). */
  readonly coPayBpsByCategory: Readonly<Record<string, number>>;
  readonly scope: VoucherScope;
  /** Valid for bills at `validFrom` <= at < `validUntil` (epoch ms). */
  readonly validFrom: number;
  readonly validUntil: number;
  /** Most one org may receive in a calendar year of the program's time zone; null: no cap. */
  readonly orgAnnualCap: Fen | null;
  readonly utcOffsetHours: number;
  /**
   * `open`: every org's eligible bills; `by-code`: only orgs that redeemed one of the program's voucher
   * codes (as programs that issue vouchers to approved applicants work).
   */
  readonly enrolment: 'open' | 'by-code';
}

/** The job a bill is for, as a program's scope sees it. */
export interface VoucherContext {
  readonly jobId: string;
  readonly orgId: string;
  /** When the bill is settled (epoch ms): validity and the annual cap are judged at this time. */
  readonly at: number;
  readonly accelerator: string | null;
  readonly category: string;
  readonly region: string;
  readonly centerId: string;
  readonly usage: Usage;
  /** True when any program already subsidised this job (e.g. an earlier attempt). */
  readonly alreadySubsidised: boolean;
  /** What every org has redeemed so far per program (for pool funding). */
  readonly programSpentSoFar: Readonly<Record<string, Fen>>;
  /** The `by-code` programs the org has redeemed a voucher code of. */
  readonly enrolledPrograms: readonly string[];
}

/** A past or new redemption. */
export interface Redemption {
  readonly programId: string;
  readonly orgId: string;
  readonly jobId: string;
  readonly amount: Fen;
  readonly at: number;
}

/** A new redemption with the evidence an auditor asks for: the job, its usage and its bill. */
export interface RedemptionWithEvidence extends Redemption {
  readonly evidence: {
    readonly usage: Usage;
    readonly lines: readonly BillLine[];
    readonly billTotal: Fen;
    readonly coPayBps: number;
  };
}

export type Ineligibility =
  | 'already-subsidised'
  | 'outside-validity'
  | 'not-enrolled'
  | 'not-domestic'
  | 'category-out-of-scope'
  | 'region-out-of-scope'
  | 'center-out-of-scope'
  | 'funding-exhausted'
  | 'annual-cap-reached'
  | 'another-program-pays-more';

export interface VoucherOutcome {
  /** What each program pays (at most one is non-zero); every program given appears. */
  readonly voucherShares: Readonly<Record<string, Fen>>;
  readonly userPays: Fen;
  readonly redemptions: readonly RedemptionWithEvidence[];
  /** Why each program that pays nothing pays nothing. */
  readonly reasons: Readonly<Record<string, Ineligibility>>;
}

/** Epoch ms bounds of the calendar year containing `at` on a clock `utcOffsetHours` ahead of UTC. */
export function yearOf(at: number, utcOffsetHours: number): { readonly from: number; readonly until: number } {
  const offsetMs = Math.round(utcOffsetHours * HOUR_MS);
  const year = new Date(at + offsetMs).getUTCFullYear();
  return { from: Date.UTC(year, 0, 1) - offsetMs, until: Date.UTC(year + 1, 0, 1) - offsetMs };
}

/** The co-pay share of `program` for a bill of `category`, in basis points. */
export function coPayFor(program: VoucherProgram, category: string): number {
  return program.coPayBpsByCategory[category] ?? program.coPayBps;
}

/**
 * What `program` could pay towards `bill` on its own, or why nothing: the co-pay share rounded down,
 * capped by its remaining funding and the org's remaining annual cap.
 */
export function programShare(
  bill: Pick<Bill, 'total'>,
  context: VoucherContext,
  program: VoucherProgram,
  orgRedemptionsSoFar: readonly Redemption[],
): { readonly amount: Fen; readonly coPayBps: number } | { readonly amount: 0; readonly why: Ineligibility } {
  if (context.at < program.validFrom || context.at >= program.validUntil) return { amount: 0, why: 'outside-validity' };
  if (program.enrolment === 'by-code' && !context.enrolledPrograms.includes(program.id)) return { amount: 0, why: 'not-enrolled' };
  const { scope } = program;
  if (scope.domesticOnly && !isDomestic(context.accelerator)) return { amount: 0, why: 'not-domestic' };
  if (scope.categories.length > 0 && !scope.categories.includes(context.category)) return { amount: 0, why: 'category-out-of-scope' };
  if (scope.regions.length > 0 && !scope.regions.includes(context.region)) return { amount: 0, why: 'region-out-of-scope' };
  if (scope.centers.length > 0 && !scope.centers.includes(context.centerId)) return { amount: 0, why: 'center-out-of-scope' };
  const mine = orgRedemptionsSoFar.filter((r) => r.programId === program.id && r.orgId === context.orgId);
  const funding =
    program.funding.kind === 'per-voucher'
      ? program.funding.faceValue - sum(mine.map((r) => r.amount))
      : program.funding.total - (context.programSpentSoFar[program.id] ?? 0);
  if (funding <= 0) return { amount: 0, why: 'funding-exhausted' };
  let cap = Infinity;
  if (program.orgAnnualCap !== null) {
    const year = yearOf(context.at, program.utcOffsetHours);
    cap = program.orgAnnualCap - sum(mine.filter((r) => r.at >= year.from && r.at < year.until).map((r) => r.amount));
    if (cap <= 0) return { amount: 0, why: 'annual-cap-reached' };
  }
  const coPayBps = Math.min(BPS, Math.max(0, coPayFor(program, context.category)));
  const share = Number((BigInt(Math.max(0, bill.total)) * BigInt(coPayBps)) / BigInt(BPS));
  return { amount: fen(Math.min(share, funding, cap)), coPayBps };
}

/**
 * Applies the programs to one job's bill: at most one program pays (the one paying most, ties by
 * id), never more than its co-pay share, its remaining funding or the org's remaining annual cap;
 * a job already subsidised gets nothing. `userPays + sum(voucherShares) = bill.total`.
 */
export function applyVouchers(
  bill: Bill,
  context: VoucherContext,
  programs: readonly VoucherProgram[],
  orgRedemptionsSoFar: readonly Redemption[],
): VoucherOutcome {
  const shares: Record<string, Fen> = {};
  const reasons: Record<string, Ineligibility> = {};
  for (const p of programs) shares[p.id] = fen(0);
  const subsidised = context.alreadySubsidised || orgRedemptionsSoFar.some((r) => r.jobId === context.jobId);
  let best: { program: VoucherProgram; amount: Fen; coPayBps: number } | undefined;
  for (const p of [...programs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (subsidised) {
      reasons[p.id] = 'already-subsidised';
      continue;
    }
    const s = programShare(bill, context, p, orgRedemptionsSoFar);
    if ('why' in s) reasons[p.id] = s.why;
    else if (s.amount > 0 && (!best || s.amount > best.amount)) best = { program: p, amount: s.amount, coPayBps: s.coPayBps };
  }
  const redemptions: RedemptionWithEvidence[] = [];
  if (best) {
    shares[best.program.id] = best.amount;
    for (const p of programs) if (p.id !== best.program.id && reasons[p.id] === undefined) reasons[p.id] = 'another-program-pays-more';
    redemptions.push({
      programId: best.program.id,
      orgId: context.orgId,
      jobId: context.jobId,
      amount: best.amount,
      at: context.at,
      evidence: { usage: context.usage, lines: bill.lines, billTotal: bill.total, coPayBps: best.coPayBps },
    });
  }
  return { voucherShares: shares, userPays: fen(bill.total - (best?.amount ?? 0)), redemptions, reasons };
}

/** Granted credit (from a program or an admin): spent before paid credit. */
export interface Grant {
  readonly id: string;
  readonly remaining: Fen;
  /** Lower numbers are spent first (priority 1 before priority 2). */
  readonly priority: number;
  /** Epoch ms after which the grant is void; null: never expires. */
  readonly expiresAt: number | null;
}

export interface SpendPlan {
  /** Grants in the order spent, each with what it pays (no zero entries). */
  readonly fromGrants: readonly { readonly grantId: string; readonly amount: Fen }[];
  readonly fromPaid: Fen;
  /** What neither grants nor paid credit cover (0 when the bill is paid in full). */
  readonly shortfall: Fen;
}

/**
 * Which credit pays `amount`: unexpired grants by priority, then earliest expiry (a grant that never
 * expires last), then id; then paid credit. Grants with `expiresAt <= now` are skipped. The parts
 * plus the shortfall add up to `amount` exactly.
 */
export function spendOrder(amount: Fen, grants: readonly Grant[], paid: Fen, now: number): SpendPlan {
  const live = grants
    .filter((g) => g.remaining > 0 && (g.expiresAt === null || g.expiresAt > now))
    .sort(
      (a, b) =>
        a.priority - b.priority ||
        (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity) ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  let left = Math.max(0, amount);
  const fromGrants: { grantId: string; amount: Fen }[] = [];
  for (const g of live) {
    if (left === 0) break;
    const take = Math.min(left, g.remaining);
    fromGrants.push({ grantId: g.id, amount: fen(take) });
    left -= take;
  }
  const fromPaid = Math.min(left, Math.max(0, paid));
  return { fromGrants, fromPaid: fen(fromPaid), shortfall: fen(left - fromPaid) };
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
