// A store product's price, charged on top of the compute, and its split between the provider, the
// center that ran it and the operator's fee. The split always adds up to the price exactly: the two
// named shares are rounded down and the operator takes the remainder (at most 2 fen more than its
// share), so rounding never creates or loses a fen and the choice is the same on every run.
import { fen, type Fen } from '../core/money.js';
import { SuanwangError } from '../core/errors.js';
import { BPS, HOUR_MS, roundHalfUp } from './pricing.js';

/**
 * What the provider charges per run: nothing, a fee per launch, or a surcharge per hour of run time.
 * The same shape as the catalog's `PriceTerms`, so a product's terms pass through unchanged.
 */
export type AppPrice =
  | { readonly kind: 'free' }
  | { readonly kind: 'per-run'; readonly fen: number }
  | { readonly kind: 'per-hour'; readonly fenPerHour: number };

/** Shares of an app fee in basis points; they must add up to 10,000. */
export interface FeeShares {
  readonly providerBps: number;
  readonly centerBps: number;
  readonly operatorBps: number;
}

export interface FeeSplit {
  readonly provider: Fen;
  readonly center: Fen;
  readonly operator: Fen;
}

/** Throws `invalid_field` naming the share when shares are not whole basis points adding to 10,000. */
export function checkShares(shares: FeeShares): FeeShares {
  for (const key of ['providerBps', 'centerBps', 'operatorBps'] as const) {
    const v = shares[key];
    if (!Number.isSafeInteger(v) || v < 0 || v > BPS)
      throw new SuanwangError('invalid_field', `shares.${key} is ${v}`, { field: `shares.${key}`, hint: 'give whole basis points between 0 and 10000' });
  }
  const sum = shares.providerBps + shares.centerBps + shares.operatorBps;
  if (sum !== BPS)
    throw new SuanwangError('invalid_field', `shares add up to ${sum} basis points`, { field: 'shares', hint: 'provider, center and operator shares must add up to 10000 (100%)' });
  return shares;
}

/** The app fee for one run of `runMs` milliseconds (per-hour prorated to the millisecond, rounded half up once). */
export function appFee(price: AppPrice, runMs: number): Fen {
  switch (price.kind) {
    case 'free':
      return fen(0);
    case 'per-run':
      return fen(price.fen);
    case 'per-hour':
      return roundHalfUp(BigInt(fen(price.fenPerHour)) * BigInt(Math.max(0, Math.floor(runMs))), BigInt(HOUR_MS));
  }
}

/** Splits `amount` by `shares`: provider and center rounded down, the operator takes the rest; the parts add up to `amount`. */
export function splitFee(amount: Fen, shares: FeeShares): FeeSplit {
  checkShares(shares);
  if (!Number.isSafeInteger(amount) || amount < 0) throw new SuanwangError('invalid_field', `amount is ${amount}`, { field: 'amount', hint: 'a fee is whole fen >= 0' });
  const provider = Number((BigInt(amount) * BigInt(shares.providerBps)) / BigInt(BPS));
  const center = Number((BigInt(amount) * BigInt(shares.centerBps)) / BigInt(BPS));
  return { provider: fen(provider), center: fen(center), operator: fen(amount - provider - center) };
}

/** The fee for a run and its split, ready to become linked transfers. */
export function appCharge(price: AppPrice, runMs: number, shares: FeeShares): { readonly amount: Fen; readonly split: FeeSplit } {
  const amount = appFee(price, runMs);
  return { amount, split: splitFee(amount, shares) };
}
