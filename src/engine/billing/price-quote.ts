// What a job would cost on each pool it fits, before it is submitted (`suanwang quote`): the hold
// (its maximum bill at the price book in force now), the voucher share a program would pay of that
// bill, and what the user would pay at most. Reads only (a pool's first book is not written here).
import { fen, type Fen } from '../../core/money.js';
import { priceBookAt, type PriceBookVersion } from '../../ledger/pricing.js';
import { applyVouchers, type VoucherProgram } from '../../ledger/vouchers.js';
import { listPriceBookVersions, listEnrolments, listRedemptions, listVoucherPrograms, programSpent } from '../../store/billing.js';
import { listCenters, listPools } from '../../store/centers.js';
import type { PoolRow } from '../../store/schema.js';
import type { EngineContext } from '../context.js';
import type { JobSpec } from '../jobs.js';
import { appFeeMax, computeHoldOn, fitsPool, requestOf, type AppTerms } from './job-pricing.js';
import { SuanwangError } from '../../core/errors.js';
import { findProductByName } from '../../store/products.js';
import { getAppPrice } from '../../store/billing.js';

/** The parts of a job's spec its price depends on. */
export type PriceQuoteSpec = Pick<JobSpec, 'nodes' | 'acceleratorsPerNode' | 'coresPerNode' | 'memoryMiBPerNode' | 'walltimeSeconds' | 'accelerators' | 'forbidAccelerators'>;

export interface PoolPrice {
  readonly center: string;
  readonly pool: string;
  readonly accelerator: string | null;
  readonly priceVersion: number;
  readonly fenPerAcceleratorHour: Fen;
  /** The most the walltime can cost there (what placement holds). */
  readonly maxBill: Fen;
  readonly voucherShare: Fen;
  readonly voucherProgram: string | null;
  /** The most the app's fee can be (per run, or per hour over the walltime); 0 for a raw job or a free app. */
  readonly appFeeAtMost: Fen;
  /** maxBill − voucherShare + appFeeAtMost. */
  readonly youPayAtMost: Fen;
}

/**
 * Prices of the job on every pool it fits, cheapest first; `billing` says whether the network charges.
 * With `appName` (a store product), its fee is added and vouchers see the product's category.
 */
export async function priceQuote(ctx: EngineContext, orgId: string, spec: PriceQuoteSpec, appName?: string): Promise<{ readonly billing: 'off' | 'on'; readonly pools: readonly PoolPrice[] }> {
  const db = ctx.store.db;
  const terms = appName === undefined ? null : await productTerms(ctx, appName);
  const appFeeAtMost = appFeeMax({ walltime_seconds: spec.walltimeSeconds }, terms);
  const now = ctx.now().getTime();
  const job = {
    nodes: spec.nodes,
    accelerators_per_node: spec.acceleratorsPerNode,
    cores_per_node: spec.coresPerNode,
    memory_mib_per_node: spec.memoryMiBPerNode,
    walltime_seconds: spec.walltimeSeconds,
    allowed_accelerators: [...spec.accelerators],
    forbidden_accelerators: [...spec.forbidAccelerators],
    app_version_id: null,
  };
  const centers = new Map((await listCenters(db)).map((c) => [c.id, c]));
  const programs = (await listVoucherPrograms(db, new Date(now))) as VoucherProgram[];
  const spent = await programSpent(db, programs.map((p) => p.id));
  const redemptions = await listRedemptions(db, orgId);
  const enrolled = await listEnrolments(db, orgId);
  const out: PoolPrice[] = [];
  for (const pool of (await listPools(db)).filter((p: PoolRow) => fitsPool(job, p))) {
    const center = centers.get(pool.center_id);
    if (!center) continue;
    const versions = await listPriceBookVersions(db, pool.id);
    const book: PriceBookVersion = priceBookAt(versions, now) ?? {
      poolId: pool.id,
      version: 1,
      effectiveFrom: 0,
      accelerator: pool.accelerator,
      rates: { fenPerAcceleratorHour: fen(Number(pool.fen_per_accelerator_hour)), fenPerCoreHour: fen(Number(pool.fen_per_core_hour)), fenPerGiBHour: fen(0) },
      timeOfUse: null,
      billingWeights: null,
    };
    const maxBill = computeHoldOn(job, book);
    const usage = { ...requestOf(job), startedAt: now, endedAt: now + spec.walltimeSeconds * 1000 };
    const v = applyVouchers(
      { poolId: pool.id, version: book.version, lines: [], total: maxBill, billingMilliUnitHours: 0 },
      { jobId: '(quote)', orgId, at: now, accelerator: pool.accelerator, category: terms?.category ?? 'compute', region: center.region, centerId: center.id, usage, alreadySubsidised: false, programSpentSoFar: spent, enrolledPrograms: enrolled },
      programs,
      redemptions,
    );
    const r = v.redemptions[0];
    out.push({
      center: center.name,
      pool: pool.name,
      accelerator: pool.accelerator,
      priceVersion: book.version,
      fenPerAcceleratorHour: book.rates.fenPerAcceleratorHour,
      maxBill,
      voucherShare: r?.amount ?? fen(0),
      voucherProgram: r ? (programs.find((p) => p.id === r.programId)?.name ?? r.programId) : null,
      appFeeAtMost,
      youPayAtMost: fen(v.userPays + appFeeAtMost),
    });
  }
  out.sort((a, b) => a.youPayAtMost - b.youPayAtMost || (a.center < b.center ? -1 : 1));
  return { billing: ctx.config.billing, pools: out };
}

async function productTerms(ctx: EngineContext, name: string): Promise<AppTerms> {
  const product = await findProductByName(ctx.store.db, name);
  if (!product) throw new SuanwangError('product_not_found', `no product "${name}"`, { field: 'app', hint: 'search the store with `suanwang store search`' });
  return { productId: product.id, providerOrgId: product.provider_org_id, category: product.category, price: await getAppPrice(ctx.store.db, product.id) };
}
