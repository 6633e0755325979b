// Voucher programs (admins create them) and store apps' prices (their provider or an admin sets them).
import { randomUUID } from 'node:crypto';
import { SuanwangError } from '../../core/errors.js';
import { fen } from '../../core/money.js';
import { checkShares, type AppPrice, type FeeShares } from '../../ledger/app-fees.js';
import { insertVoucherProgram, listVoucherPrograms, setAppPrice, type StoredVoucherProgram } from '../../store/billing.js';
import { findProductByName } from '../../store/products.js';
import type { Principal } from '../accounts.js';
import type { EngineContext } from '../context.js';
import { ensureAccounts, voucherReceivable } from './accounts.js';

export interface ProgramInput {
  readonly name: string;
  readonly funding: { readonly kind: 'per-voucher'; readonly faceValue: number } | { readonly kind: 'pool'; readonly total: number };
  readonly coPayBps: number;
  readonly coPayBpsByCategory?: Readonly<Record<string, number>> | undefined;
  readonly scope?: Partial<StoredVoucherProgram['scope']> | undefined;
  readonly validFrom?: number | undefined;
  readonly validUntil: number;
  readonly orgAnnualCap?: number | null | undefined;
  readonly utcOffsetHours?: number | undefined;
}

/** Creates a voucher program and its receivable account; a duplicate name is a 409 `conflict`. */
export async function createProgram(ctx: EngineContext, input: ProgramInput): Promise<StoredVoucherProgram> {
  const now = ctx.now();
  const validFrom = input.validFrom ?? now.getTime();
  if (input.validUntil <= validFrom) throw new SuanwangError('invalid_field', `validUntil is not after validFrom`, { field: 'validUntil', hint: 'give an end after the start' });
  if (!Number.isInteger(input.coPayBps) || input.coPayBps < 0 || input.coPayBps > 10_000)
    throw new SuanwangError('invalid_field', `coPayBps is ${input.coPayBps}`, { field: 'coPayBps', hint: 'basis points between 0 and 10000 (3000 = 30%)' });
  if ((await listVoucherPrograms(ctx.store.db)).some((p) => p.name === input.name))
    throw new SuanwangError('conflict', `a voucher program named "${input.name}" exists`, { field: 'name', hint: 'choose another name' });
  const program: StoredVoucherProgram = {
    id: `vp_${randomUUID()}`,
    name: input.name,
    funding: input.funding.kind === 'pool' ? { kind: 'pool', total: fen(input.funding.total) } : { kind: 'per-voucher', faceValue: fen(input.funding.faceValue) },
    coPayBps: input.coPayBps,
    coPayBpsByCategory: input.coPayBpsByCategory ?? {},
    scope: { domesticOnly: input.scope?.domesticOnly ?? false, categories: input.scope?.categories ?? [], regions: input.scope?.regions ?? [], centers: input.scope?.centers ?? [] },
    validFrom,
    validUntil: input.validUntil,
    orgAnnualCap: input.orgAnnualCap === undefined || input.orgAnnualCap === null ? null : fen(input.orgAnnualCap),
    utcOffsetHours: input.utcOffsetHours ?? 8,
  };
  await insertVoucherProgram(ctx.store.db, program, now);
  await ensureAccounts(ctx.store.db, now, [voucherReceivable(program.id)]);
  return program;
}

/** Sets a store product's price and split; only its provider org or an admin may (else `forbidden`). */
export async function setProductPrice(ctx: EngineContext, user: Extract<Principal, { kind: 'user' }>, productName: string, price: AppPrice, shares: FeeShares): Promise<void> {
  const product = await findProductByName(ctx.store.db, productName);
  if (!product) throw new SuanwangError('product_not_found', `no product "${productName}"`, { field: 'name', hint: 'search the store with `suanwang store search`' });
  if (user.role !== 'admin' && product.provider_org_id !== user.orgId) throw new SuanwangError('forbidden', `${productName} belongs to another provider`, { field: 'name' });
  checkShares(shares);
  await setAppPrice(ctx.store.db, { productId: product.id, price, shares }, ctx.now());
}
