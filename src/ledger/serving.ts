// What an inference endpoint's callers owe: per request and per 1,000 tokens, integer fen. Charged
// from readings of the endpoint's cumulative counters, so each charge is the difference of two
// totals priced whole: however the usage is cut into passes, the sum is the total's price (rounded
// down once), never a fen more or less.
import { fen, type Fen } from '../core/money.js';
import { BPS } from './pricing.js';

/** An endpoint's price terms; both whole fen ≥ 0. */
export interface ServingPrice {
  readonly fenPerRequest: number;
  readonly fenPer1kTokens: number;
}

/** A reading of an endpoint's billable counters: answered requests and their tokens. */
export interface ServingUsage {
  readonly requests: number;
  readonly tokens: number;
}

export const isPriced = (p: ServingPrice): boolean => p.fenPerRequest > 0 || p.fenPer1kTokens > 0;

/** The price of a cumulative reading (tokens rounded down once, over the whole total). */
export function servingTotal(price: ServingPrice, usage: ServingUsage): Fen {
  const tokenFen = (BigInt(usage.tokens) * BigInt(price.fenPer1kTokens)) / 1000n;
  return fen(usage.requests * price.fenPerRequest + Number(tokenFen));
}

/** What the usage between two readings costs (`to` at or past `from`). */
export function servingCharge(price: ServingPrice, from: ServingUsage, to: ServingUsage): Fen {
  if (to.requests < from.requests || to.tokens < from.tokens) throw new RangeError(`usage went back: ${JSON.stringify(from)} → ${JSON.stringify(to)}`);
  return fen(servingTotal(price, to) - servingTotal(price, from));
}

/**
 * How a charge is paid: granted credit first, then paid credit; null when the two do not cover it
 * (nothing is charged then: the usage waits, unbilled, for credit). The operator's fee is
 * `operatorFeeBps` of it rounded down, the rest is the provider's.
 */
export function servingPayment(amount: Fen, granted: number, paid: number, operatorFeeBps: number): { readonly fromGranted: Fen; readonly fromPaid: Fen; readonly operatorFee: Fen; readonly provider: Fen } | null {
  if (amount > Math.max(0, granted) + Math.max(0, paid)) return null;
  const fromGranted = Math.min(amount, Math.max(0, granted));
  const operatorFee = Number((BigInt(amount) * BigInt(operatorFeeBps)) / BigInt(BPS));
  return { fromGranted: fen(fromGranted), fromPaid: fen(amount - fromGranted), operatorFee: fen(operatorFee), provider: fen(amount - operatorFee) };
}
