import type { InfeasibleReason } from './types.js';

/**
 * Reasons that no change of load or center state can lift: the job as asked never runs there.
 * The order is the precedence when several apply: the chip, then the software, then the sizes.
 */
export const STATIC_REASONS = [
  'no-accelerator',
  'no-adapted-accelerator',
  'command-not-found',
  'node-too-small',
  'gang-does-not-fit',
] as const satisfies readonly InfeasibleReason[];
export type StaticReason = (typeof STATIC_REASONS)[number];

/** Reasons that pass: the center comes back online, running jobs end. */
export const TRANSIENT_REASONS = ['center-offline', 'insufficient-capacity'] as const satisfies readonly InfeasibleReason[];

const STATIC_SET: ReadonlySet<InfeasibleReason> = new Set(STATIC_REASONS);

/** True for reasons that are permanent for this job as asked (see `STATIC_REASONS`). */
export function isStaticReason(reason: InfeasibleReason): reason is StaticReason {
  return STATIC_SET.has(reason);
}
