// Price books and bills: what a run on a center's pool costs, in whole fen.
//
// Rounding rule (one rule, applied once): a bill has one line per resource (accelerator-hours,
// core-hours, GiB-hours) and time-of-use factor; each line's exact amount, rate × quantity × factor,
// is computed in exact integer arithmetic (BigInt, no floating point) and rounded half up to a whole
// fen once; the total is the sum of the rounded lines, so the lines always add up to the total.
import { fen, type Fen } from '../core/money.js';
import { SuanwangError } from '../core/errors.js';

export const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Factors and shares are written in basis points: 10,000 is 1.0 (integers keep the arithmetic exact). */
export const BPS = 10_000;
const MIB_PER_GIB = 1024;

/** Base rates of one pool, in whole fen per unit-hour. */
export interface Rates {
  readonly fenPerAcceleratorHour: Fen;
  readonly fenPerCoreHour: Fen;
  readonly fenPerGiBHour: Fen;
}

/**
 * Time-of-use factors, one per local hour of day (index 0 = 00:00–01:00 at the center), in basis
 * points (15,000 = ×1.5 at the peak, 5,000 = ×0.5 in the night valley). The same idea as the
 * scheduler's `priceFactorByHour`, but integers so that a bill is exact.
 */
export interface TimeOfUse {
  readonly factorsBps: readonly number[];
  readonly utcOffsetHours: number;
}

/**
 * Slurm-style TRESBillingWeights: how many billing units one accelerator of a model, one core and
 * one GiB count for per hour, in thousandths of a unit (so 1,000 = 1.0). `mode: 'sum'` adds the
 * resources (Slurm's default), `'max'` takes the largest (PriorityFlags=MAX_TRES). They normalise
 * usage across chips (an A100-hour and a 910B-hour become comparable units) for reports and quotas.
 */
export interface BillingWeights {
  readonly milliPerAccelerator: Readonly<Record<string, number>>;
  readonly milliPerCore: number;
  readonly milliPerGiB: number;
  readonly mode: 'sum' | 'max';
}

/** One version of a pool's price book; a job is charged at the version in force when it was placed. */
export interface PriceBookVersion {
  readonly poolId: string;
  readonly version: number;
  /** Epoch ms from which this version applies (to jobs placed at or after it). */
  readonly effectiveFrom: number;
  /** The pool's accelerator key (`ascend-910b`), or null for a CPU pool. */
  readonly accelerator: string | null;
  readonly rates: Rates;
  /** null: one price around the clock. */
  readonly timeOfUse: TimeOfUse | null;
  readonly billingWeights: BillingWeights | null;
}

/** What a run held and for how long. Times are epoch ms (whole milliseconds). */
export interface Usage {
  readonly nodes: number;
  readonly perNode: { readonly accelerators: number; readonly cores: number; readonly memoryGiB: number };
  readonly startedAt: number;
  readonly endedAt: number;
}

export const BILL_RESOURCES = ['accelerator', 'core', 'memory'] as const;
export type BillResource = (typeof BILL_RESOURCES)[number];

/** One line of a bill: a resource at one time-of-use factor. */
export interface BillLine {
  readonly what: BillResource;
  /** `accelerator-hours ascend-910b ×1.5`: how a statement names the line. */
  readonly label: string;
  /** Unit-hours (accelerator-hours, core-hours, GiB-hours); for display, the amount is exact. */
  readonly quantity: number;
  /** Base rate in fen per unit-hour, before the factor. */
  readonly rate: Fen;
  readonly factorBps: number;
  readonly amount: Fen;
}

export interface Bill {
  readonly poolId: string;
  readonly version: number;
  readonly lines: readonly BillLine[];
  /** Exactly the sum of the lines' amounts. */
  readonly total: Fen;
  /** Normalised usage in thousandths of a billing-unit-hour (0 when the book has no weights). */
  readonly billingMilliUnitHours: number;
}

/** The version in force at `placedAt`: the latest `effectiveFrom` not after it (ties: the highest version); undefined if none yet. */
export function priceBookAt(versions: readonly PriceBookVersion[], placedAt: number): PriceBookVersion | undefined {
  let best: PriceBookVersion | undefined;
  for (const v of versions) {
    if (v.effectiveFrom > placedAt) continue;
    if (!best || v.effectiveFrom > best.effectiveFrom || (v.effectiveFrom === best.effectiveFrom && v.version > best.version)) best = v;
  }
  return best;
}

/** Checks a price book an operator submits; throws `invalid_field` naming the field, value and fix. */
export function checkPriceBook(book: PriceBookVersion): PriceBookVersion {
  const bad = (field: string, value: unknown, hint: string): never => {
    throw new SuanwangError('invalid_field', `${field} is ${JSON.stringify(value)}`, { field, hint });
  };
  for (const key of ['fenPerAcceleratorHour', 'fenPerCoreHour', 'fenPerGiBHour'] as const) {
    const v = book.rates[key];
    if (!Number.isSafeInteger(v) || v < 0) bad(`rates.${key}`, v, 'give a whole, non-negative number of fen per unit-hour');
  }
  if (!Number.isSafeInteger(book.effectiveFrom)) bad('effectiveFrom', book.effectiveFrom, 'give a time in whole epoch milliseconds');
  if (book.timeOfUse) {
    const { factorsBps, utcOffsetHours } = book.timeOfUse;
    if (factorsBps.length !== 24) bad('timeOfUse.factorsBps', factorsBps.length, 'give exactly 24 factors, one per local hour');
    factorsBps.forEach((f, h) => {
      if (!Number.isSafeInteger(f) || f < 0) bad(`timeOfUse.factorsBps[${h}]`, f, 'give basis points, a whole number >= 0 (10000 = 1.0)');
    });
    if (!Number.isFinite(utcOffsetHours) || Math.abs(utcOffsetHours) > 14 || !Number.isInteger(utcOffsetHours * 4))
      bad('timeOfUse.utcOffsetHours', utcOffsetHours, 'give the center’s UTC offset in quarter hours, between -14 and 14');
  }
  return book;
}

/** Fen of `num / den`, rounded half up (num, den >= 0, den > 0): the one rounding step of a line. */
export function roundHalfUp(num: bigint, den: bigint): Fen {
  return fen(Number((2n * num + den) / (2n * den)));
}

/** Whole MiB in `memoryGiB` (memory is billed to the MiB, so a fractional GiB stays exact). */
function mibOf(memoryGiB: number): number {
  return Math.round(memoryGiB * MIB_PER_GIB);
}

/** Milliseconds of [startedAt, endedAt) spent at each factor (bps → ms), split exactly at local hour boundaries. */
export function msByFactor(timeOfUse: TimeOfUse | null, startedAt: number, endedAt: number): Map<number, number> {
  const out = new Map<number, number>();
  const span = Math.max(0, endedAt - startedAt);
  if (span === 0) return out;
  if (timeOfUse === null) return out.set(BPS, span);
  const add = (bps: number, ms: number) => {
    if (ms > 0) out.set(bps, (out.get(bps) ?? 0) + ms);
  };
  const offsetMs = Math.round(timeOfUse.utcOffsetHours * HOUR_MS);
  const factorAt = (h: number) => timeOfUse.factorsBps[h] ?? BPS;
  // Any span of whole days covers every local hour the same number of times, wherever it starts.
  const days = Math.floor(span / DAY_MS);
  if (days > 0) for (let h = 0; h < 24; h++) add(factorAt(h), days * HOUR_MS);
  let t = startedAt + days * DAY_MS;
  while (t < endedAt) {
    const local = t + offsetMs;
    const hourIndex = Math.floor(local / HOUR_MS);
    const next = Math.min(endedAt, (hourIndex + 1) * HOUR_MS - offsetMs);
    add(factorAt(((hourIndex % 24) + 24) % 24), next - t);
    t = next;
  }
  return out;
}

interface ResourceLine {
  readonly what: BillResource;
  readonly name: string;
  readonly rate: Fen;
  /** Units held over the whole allocation (MiB for memory). */
  readonly units: number;
  /** Units per unit-hour's unit: 1, or 1024 MiB per GiB. */
  readonly scale: number;
}

function resourcesOf(usage: Usage, book: PriceBookVersion): ResourceLine[] {
  const { nodes, perNode } = usage;
  return [
    { what: 'accelerator', name: `accelerator-hours ${book.accelerator ?? 'none'}`, rate: book.rates.fenPerAcceleratorHour, units: nodes * perNode.accelerators, scale: 1 },
    { what: 'core', name: 'core-hours', rate: book.rates.fenPerCoreHour, units: nodes * perNode.cores, scale: 1 },
    { what: 'memory', name: 'GiB-hours', rate: book.rates.fenPerGiBHour, units: nodes * mibOf(perNode.memoryGiB), scale: MIB_PER_GIB },
  ];
}

function checkUsage(usage: Usage): void {
  const { nodes, perNode } = usage;
  const whole = (field: string, v: number) => {
    if (!Number.isSafeInteger(v) || v < 0) throw new SuanwangError('invalid_field', `${field} is ${v}`, { field, hint: 'give a whole number >= 0' });
  };
  whole('usage.nodes', nodes);
  whole('usage.perNode.accelerators', perNode.accelerators);
  whole('usage.perNode.cores', perNode.cores);
  whole('usage.startedAt', usage.startedAt);
  whole('usage.endedAt', usage.endedAt);
  if (!(perNode.memoryGiB >= 0)) throw new SuanwangError('invalid_field', `usage.perNode.memoryGiB is ${perNode.memoryGiB}`, { field: 'usage.perNode.memoryGiB', hint: 'give GiB >= 0' });
}

/**
 * The bill for `usage` at `book`'s rates: one line per resource and time-of-use factor, each rounded
 * half up to a whole fen once; the total is the sum of the lines. A run that ends before it starts costs nothing.
 */
export function chargeFor(usage: Usage, book: PriceBookVersion): Bill {
  checkUsage(usage);
  const byFactor = [...msByFactor(book.timeOfUse, usage.startedAt, usage.endedAt)].sort((a, b) => a[0] - b[0]);
  const lines: BillLine[] = [];
  let total = 0;
  for (const r of resourcesOf(usage, book)) {
    if (r.units === 0 || r.rate === 0) continue;
    for (const [bps, ms] of byFactor) {
      if (bps === 0) continue;
      const amount = roundHalfUp(BigInt(r.rate) * BigInt(r.units) * BigInt(ms) * BigInt(bps), BigInt(HOUR_MS) * BigInt(BPS) * BigInt(r.scale));
      const factor = bps === BPS ? '' : ` ×${bps / BPS}`;
      lines.push({ what: r.what, label: `${r.name}${factor}`, quantity: (r.units * ms) / HOUR_MS / r.scale, rate: r.rate, factorBps: bps, amount });
      total += amount;
    }
  }
  const ms = Math.max(0, usage.endedAt - usage.startedAt);
  const billingMilliUnitHours = book.billingWeights ? Number(roundHalfUpBig(BigInt(billingUnits(usage, book.accelerator, book.billingWeights)) * BigInt(ms), BigInt(HOUR_MS))) : 0;
  return { poolId: book.poolId, version: book.version, lines, total: fen(total), billingMilliUnitHours };
}

function roundHalfUpBig(num: bigint, den: bigint): bigint {
  return (2n * num + den) / (2n * den);
}

/**
 * Billing units per hour of the whole allocation, in thousandths (Slurm's billing TRES): per node,
 * the weighted sum (or max) of its accelerators, cores and GiB, times the nodes. An accelerator
 * model without a weight counts 0, so a missing weight never silently counts as an A100.
 */
export function billingUnits(usage: Pick<Usage, 'nodes' | 'perNode'>, accelerator: string | null, weights: BillingWeights): number {
  const perAccelerator = accelerator === null ? 0 : (weights.milliPerAccelerator[accelerator] ?? 0);
  const parts = [
    usage.perNode.accelerators * perAccelerator,
    usage.perNode.cores * weights.milliPerCore,
    Math.round((mibOf(usage.perNode.memoryGiB) * weights.milliPerGiB) / MIB_PER_GIB),
  ];
  const perNode = weights.mode === 'max' ? Math.max(...parts) : parts[0]! + parts[1]! + parts[2]!;
  return usage.nodes * perNode;
}

/**
 * The most any run of `request` lasting at most `walltimeMs` can be billed at `book`, whatever hour
 * it starts: every line at the highest factor, plus half a fen for each line a resource may be split
 * into (each line rounds up by at most half a fen). So chargeFor(run) <= maxChargeFor(...) always.
 */
export function maxChargeFor(request: Pick<Usage, 'nodes' | 'perNode'>, walltimeMs: number, book: PriceBookVersion): Fen {
  const maxBps = book.timeOfUse ? Math.max(...book.timeOfUse.factorsBps) : BPS;
  const distinct = book.timeOfUse ? new Set(book.timeOfUse.factorsBps.filter((f) => f > 0)).size : 1;
  let total = 0n;
  const ms = Math.max(0, Math.floor(walltimeMs));
  for (const r of resourcesOf({ ...request, startedAt: 0, endedAt: ms }, book)) {
    if (r.units === 0 || r.rate === 0 || maxBps === 0) continue;
    const num = BigInt(r.rate) * BigInt(r.units) * BigInt(ms) * BigInt(maxBps);
    const den = BigInt(HOUR_MS) * BigInt(BPS) * BigInt(r.scale);
    // floor(exact + lines/2): the sum of `lines` half-up roundings of parts never exceeds it.
    total += (2n * num + BigInt(distinct) * den) / (2n * den);
  }
  return fen(Number(total));
}
