// Price books per pool, versioned (0009's price_book_versions): a job is held and charged at the
// version in force when it was placed. A pool that never had one gets version 1 at first use, built
// from its current prices (pools.fen_per_accelerator_hour / fen_per_core_hour) and effective from
// the epoch, so existing centers keep their prices and every earlier placement has a version.
import { SuanwangError } from '../../core/errors.js';
import { fen } from '../../core/money.js';
import { checkPriceBook, priceBookAt, type BillingWeights, type PriceBookVersion, type Rates, type TimeOfUse } from '../../ledger/pricing.js';
import { insertPriceBookVersion, listPriceBookVersions } from '../../store/billing.js';
import { findCenterByName, listPools } from '../../store/centers.js';
import { ensureFirstPriceBook } from '../../store/job-charges.js';
import type { PoolRow } from '../../store/schema.js';
import { inTransaction, type Queryable } from '../../store/transaction.js';
import type { EngineContext } from '../context.js';

/** Every version of the pool's book, creating version 1 from the pool's prices when it has none. */
export async function priceBookVersions(q: Queryable, pool: Pick<PoolRow, 'id' | 'fen_per_accelerator_hour' | 'fen_per_core_hour'>, at: Date): Promise<PriceBookVersion[]> {
  let versions = await listPriceBookVersions(q, pool.id);
  if (versions.length === 0) {
    await ensureFirstPriceBook(q, { poolId: pool.id, fenPerAcceleratorHour: Number(pool.fen_per_accelerator_hour), fenPerCoreHour: Number(pool.fen_per_core_hour), fenPerGiBHour: 0 }, at);
    versions = await listPriceBookVersions(q, pool.id);
  }
  return versions;
}

/** The version in force at `at` (version 1 at the latest, which is effective from the epoch). */
export async function priceBookFor(q: Queryable, pool: Pick<PoolRow, 'id' | 'fen_per_accelerator_hour' | 'fen_per_core_hour'>, at: Date): Promise<PriceBookVersion> {
  return priceBookAt(await priceBookVersions(q, pool, at), at.getTime())!;
}

/** A cache of books in force at one instant, for a pass that prices many jobs on few pools. */
export function priceBookCache(q: Queryable, at: Date): (pool: PoolRow) => Promise<PriceBookVersion> {
  const books = new Map<string, Promise<PriceBookVersion>>();
  return (pool) => {
    let b = books.get(pool.id);
    if (!b) {
      b = priceBookFor(q, pool, at);
      books.set(pool.id, b);
    }
    return b;
  };
}

export interface PriceBookInput {
  readonly center: string;
  readonly pool: string;
  readonly rates: Rates;
  readonly timeOfUse?: TimeOfUse | null | undefined;
  readonly billingWeights?: BillingWeights | null | undefined;
  /** Epoch ms; absent: now. Never before now (a placed job keeps the version it was placed at). */
  readonly effectiveFrom?: number | undefined;
}

/**
 * Adds the next version of a pool's price book (admins and the center's operator set prices),
 * effective from `effectiveFrom` (default now); returns it. Versions are never rewritten.
 */
export async function setPriceBook(ctx: EngineContext, input: PriceBookInput): Promise<PriceBookVersion> {
  const now = ctx.now();
  const center = await findCenterByName(ctx.store.db, input.center);
  if (!center) throw new SuanwangError('center_not_found', `center "${input.center}" does not exist`, { field: 'center', hint: 'list centers with `suanwang centers`' });
  const pool = (await listPools(ctx.store.db, center.id)).find((p) => p.name === input.pool);
  if (!pool) throw new SuanwangError('not_found', `center ${input.center} has no pool "${input.pool}"`, { field: 'pool', hint: 'the pools are listed by `suanwang centers`' });
  const effectiveFrom = input.effectiveFrom ?? now.getTime();
  if (effectiveFrom < now.getTime())
    throw new SuanwangError('invalid_field', `effectiveFrom ${new Date(effectiveFrom).toISOString()} is in the past`, { field: 'effectiveFrom', hint: 'a new price applies from now on; leave it out for now' });
  return inTransaction(ctx.store.db, async (trx) => {
    const versions = await priceBookVersions(trx, pool, now);
    const version = Math.max(...versions.map((v) => v.version)) + 1;
    const book = checkPriceBook({
      poolId: pool.id,
      version,
      effectiveFrom,
      accelerator: pool.accelerator,
      rates: { fenPerAcceleratorHour: fen(input.rates.fenPerAcceleratorHour), fenPerCoreHour: fen(input.rates.fenPerCoreHour), fenPerGiBHour: fen(input.rates.fenPerGiBHour) },
      timeOfUse: input.timeOfUse ?? null,
      billingWeights: input.billingWeights ?? null,
    });
    if (versions.some((v) => v.effectiveFrom === effectiveFrom))
      throw new SuanwangError('conflict', `pool ${input.center}/${input.pool} already has a version effective from ${new Date(effectiveFrom).toISOString()}`, { field: 'effectiveFrom', hint: 'give another start time' });
    await insertPriceBookVersion(trx, book, now);
    return book;
  });
}
