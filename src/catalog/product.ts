import { formatFen, priceOf, type Fen } from '../core/money.js';

/**
 * The store's seven product categories. `compute` is a center's pool sold as a spec (created from
 * pools, not from manifests); `software`, `model` and `code` may ship a runnable app.
 */
export const PRODUCT_CATEGORIES = ['compute', 'software', 'saas', 'model', 'dataset', 'service', 'code'] as const;
export type ProductCategory = (typeof PRODUCT_CATEGORIES)[number];

/** Categories whose versions may carry an `app` section (a launch template and adaptation matrix). */
export const RUNNABLE_CATEGORIES = ['software', 'model', 'code'] as const satisfies readonly ProductCategory[];
export type RunnableCategory = (typeof RUNNABLE_CATEGORIES)[number];

export function isRunnableCategory(category: ProductCategory): category is RunnableCategory {
  return (RUNNABLE_CATEGORIES as readonly string[]).includes(category);
}

/** Who may see a product: everyone, or only members of the provider's org. */
export const VISIBILITIES = ['public', 'org'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/**
 * Review status of a product version. Only a draft may be edited: a version under review is frozen
 * while an admin looks at it, and a version that was ever listed is immutable forever, because jobs
 * and invoices refer to it (a fix is a new version).
 */
export const PRODUCT_STATUSES = ['draft', 'in-review', 'listed', 'delisted'] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];

/**
 * The status machine, one row per action. `by` says who normally takes the action (the provider
 * submits; admins approve, reject and relist; either may delist); authorisation is the API's call.
 */
export const STATUS_ACTIONS = {
  submit: { from: 'draft', to: 'in-review', by: ['provider'] },
  approve: { from: 'in-review', to: 'listed', by: ['admin'] },
  reject: { from: 'in-review', to: 'draft', by: ['admin'] },
  delist: { from: 'listed', to: 'delisted', by: ['admin', 'provider'] },
  relist: { from: 'delisted', to: 'listed', by: ['admin'] },
} as const satisfies Record<string, { from: ProductStatus; to: ProductStatus; by: readonly ('provider' | 'admin')[] }>;
export type StatusAction = keyof typeof STATUS_ACTIONS;

/** True when one action of the machine leads from `from` to `to`. */
export function canTransition(from: ProductStatus, to: ProductStatus): boolean {
  return Object.values(STATUS_ACTIONS).some((a) => a.from === from && a.to === to);
}

/** The actions possible from `status`, in table order. */
export function actionsFrom(status: ProductStatus): StatusAction[] {
  return (Object.keys(STATUS_ACTIONS) as StatusAction[]).filter((a) => STATUS_ACTIONS[a].from === status);
}

/** The status after `action`, or a message naming the status, the action and what is possible instead. */
export function applyAction(
  status: ProductStatus,
  action: StatusAction,
): { readonly ok: true; readonly status: ProductStatus } | { readonly ok: false; readonly message: string; readonly hint: string } {
  const row = STATUS_ACTIONS[action];
  if (row.from === status) return { ok: true, status: row.to };
  const possible = actionsFrom(status);
  return {
    ok: false,
    message: `cannot ${action}: the version is ${status}, and only a version that is ${row.from} can be ${pastTense(action)}`,
    hint: possible.length > 0 ? `from ${status} you can: ${possible.join(', ')}` : `nothing leads out of ${status}`,
  };
}

function pastTense(action: StatusAction): string {
  return { submit: 'submitted', approve: 'approved', reject: 'rejected', delist: 'delisted', relist: 'relisted' }[action];
}

/** Only a draft may change; everything else is frozen (in review) or immutable (ever listed). */
export function isEditable(status: ProductStatus): boolean {
  return status === 'draft';
}

/** Whether users may find and launch it. */
export function isLaunchable(status: ProductStatus): boolean {
  return status === 'listed';
}

/**
 * What the provider charges on top of the compute: nothing, a fee per run, or a surcharge per hour
 * of run time. Always whole fen (0.01 CNY).
 */
export const PRICE_KINDS = ['free', 'per-run', 'per-hour'] as const;
export type PriceKind = (typeof PRICE_KINDS)[number];
export type PriceTerms =
  | { readonly kind: 'free' }
  | { readonly kind: 'per-run'; readonly fen: number }
  | { readonly kind: 'per-hour'; readonly fenPerHour: number };

/** The provider's charge for one run of `runHours` (fractional hours are prorated, rounded half up). */
export function providerCharge(terms: PriceTerms, runHours: number): Fen {
  switch (terms.kind) {
    case 'free':
      return priceOf(0, 0);
    case 'per-run':
      return priceOf(terms.fen, 1);
    case 'per-hour':
      return priceOf(terms.fenPerHour, Math.max(0, runHours));
  }
}

/** `free`, `¥1.00 per run`, `¥0.50 per hour`: how the store shows the terms. */
export function describePrice(terms: PriceTerms): string {
  switch (terms.kind) {
    case 'free':
      return 'free';
    case 'per-run':
      return `${formatFen(terms.fen)} per run`;
    case 'per-hour':
      return `${formatFen(terms.fenPerHour)} per hour`;
  }
}
