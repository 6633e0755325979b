// What a job may cost: the request as the pricing rules see it, the pools it could run on, the app
// it launches (its price and split), and its maximum bill (holdFor: the walltime at the highest
// rate of the book, plus the app fee for the whole walltime).
import { fen, type Fen } from '../../core/money.js';
import { appFee } from '../../ledger/app-fees.js';
import { holdFor } from '../../ledger/metering.js';
import type { PriceBookVersion, Usage } from '../../ledger/pricing.js';
import { getAppPrice, type StoredAppPrice } from '../../store/billing.js';
import type { JobRow, PoolRow } from '../../store/schema.js';
import type { Queryable } from '../../store/transaction.js';

type PricedJob = Pick<JobRow, 'nodes' | 'accelerators_per_node' | 'cores_per_node' | 'memory_mib_per_node' | 'walltime_seconds' | 'allowed_accelerators' | 'forbidden_accelerators' | 'app_version_id'>;

/** The job's allocation as pricing.ts bills it. */
export function requestOf(job: PricedJob): Pick<Usage, 'nodes' | 'perNode'> {
  return { nodes: job.nodes, perNode: { accelerators: job.accelerators_per_node, cores: job.cores_per_node, memoryGiB: job.memory_mib_per_node / 1024 } };
}

/** True when the pool could hold the job (size and chip rules): the pools its maximum bill is taken over. */
export function fitsPool(job: PricedJob, pool: PoolRow): boolean {
  if (pool.nodes < job.nodes || pool.cores_per_node < job.cores_per_node || pool.memory_mib_per_node < job.memory_mib_per_node) return false;
  if (job.accelerators_per_node === 0) return true;
  const allowed = job.allowed_accelerators as readonly string[];
  const forbidden = job.forbidden_accelerators as readonly string[];
  return pool.accelerator !== null && pool.accelerators_per_node >= job.accelerators_per_node && (allowed.length === 0 || allowed.includes(pool.accelerator)) && !forbidden.includes(pool.accelerator);
}

/** The store product a job launches: its provider, category and price terms (none: a raw job). */
export interface AppTerms {
  readonly productId: string;
  readonly providerOrgId: string;
  readonly category: string;
  readonly price: StoredAppPrice | undefined;
}

/** The product behind a job's app version, or null for a raw job. */
export async function appTermsOf(q: Queryable, job: Pick<JobRow, 'app_version_id'>): Promise<AppTerms | null> {
  if (!job.app_version_id) return null;
  const p = await q
    .selectFrom('product_versions as v')
    .innerJoin('products as p', 'p.id', 'v.product_id')
    .select(['p.id', 'p.provider_org_id', 'p.category'])
    .where('v.id', '=', job.app_version_id)
    .executeTakeFirst();
  if (!p) return null;
  return { productId: p.id, providerOrgId: p.provider_org_id, category: p.category, price: await getAppPrice(q, p.id) };
}

/** The most the app's fee can be for a run of the job's walltime (0 for a free or raw job). */
export function appFeeMax(job: Pick<JobRow, 'walltime_seconds'>, terms: AppTerms | null): Fen {
  return terms?.price ? appFee(terms.price.price, job.walltime_seconds * 1000) : fen(0);
}

/** The compute hold on one pool: holdFor at that pool's book over the whole walltime. */
export function computeHoldOn(job: PricedJob, book: PriceBookVersion): Fen {
  return holdFor(requestOf(job), job.walltime_seconds * 1000, book);
}

/**
 * The job's maximum bill before it is placed: the largest compute hold over the pools it fits
 * (it may land on the dearest), plus the app fee's maximum. 0 when it fits no pool (the
 * feasibility check refuses that job anyway).
 */
export async function maxBillOf(job: PricedJob, pools: readonly PoolRow[], bookOf: (pool: PoolRow) => Promise<PriceBookVersion>, terms: AppTerms | null): Promise<{ readonly compute: Fen; readonly appFee: Fen; readonly total: Fen }> {
  let compute = 0;
  for (const pool of pools) if (fitsPool(job, pool)) compute = Math.max(compute, computeHoldOn(job, await bookOf(pool)));
  const app = appFeeMax(job, terms);
  return { compute: fen(compute), appFee: app, total: fen(compute + app) };
}
