import type { InfeasibleReason } from './types.js';

/**
 * Reasons that no change of load or center state can lift: the pool as built never runs the job
 * as asked. The order is the precedence when several apply: the place (residency), then the chip,
 * then the software, then the sizes.
 */
export const STATIC_REASONS = [
  'residency-forbids',
  'no-accelerator',
  'forbidden-accelerator',
  'no-adapted-accelerator',
  'command-not-found',
  'node-too-small',
  'gang-does-not-fit',
] as const satisfies readonly InfeasibleReason[];
export type StaticReason = (typeof STATIC_REASONS)[number];

/**
 * Reasons from the job's own limits held against the estimate on a pool (after the static ones, in
 * this order): they do not pass either, since time only moves forward and prices and links are the
 * pool's. `over-budget` is judged at the cheapest hour a time-of-use price offers.
 */
export const LIMIT_REASONS = ['data-unreachable', 'exceeds-walltime', 'over-budget', 'misses-deadline'] as const satisfies readonly InfeasibleReason[];
export type LimitReason = (typeof LIMIT_REASONS)[number];

/** Reasons that pass: the center comes back online, running jobs end. */
export const TRANSIENT_REASONS = ['center-offline', 'insufficient-capacity'] as const satisfies readonly InfeasibleReason[];

const STATIC_SET: ReadonlySet<InfeasibleReason> = new Set(STATIC_REASONS);
const PERMANENT_SET: ReadonlySet<InfeasibleReason> = new Set([...STATIC_REASONS, ...LIMIT_REASONS]);

/** True for reasons of the pool's make-up (see `STATIC_REASONS`). */
export function isStaticReason(reason: InfeasibleReason): reason is StaticReason {
  return STATIC_SET.has(reason);
}

/** True for every reason that will not pass for this job as asked: static ones and limits. */
export function isPermanentReason(reason: InfeasibleReason): boolean {
  return PERMANENT_SET.has(reason);
}
