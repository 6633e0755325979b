// Voucher programs (admins create them) and store apps' prices (their provider or an admin sets them).
import { randomBytes, randomUUID } from 'node:crypto';
import { SuanwangError } from '../../core/errors.js';
import { fen } from '../../core/money.js';
import { checkShares, type AppPrice, type FeeShares } from '../../ledger/app-fees.js';
import { insertVoucherCodes, insertVoucherProgram, listVoucherPrograms, redeemVoucherCode, setAppPrice, type StoredVoucherProgram } from '../../store/billing.js';
import { inTransaction } from '../../store/transaction.js';
import { hashSecret } from '../secrets.js';
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
  /** `open` (default): pays every org; `by-code`: only orgs that redeem one of its codes. */
  readonly enrolment?: 'open' | 'by-code' | undefined;
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
    enrolment: input.enrolment ?? 'open',
  };
  await insertVoucherProgram(ctx.store.db, program, now);
  await ensureAccounts(ctx.store.db, now, [voucherReceivable(program.id)]);
  return program;
}

/** Most codes one request issues. */
export const MAX_CODES_PER_REQUEST = 10_000;

/**
 * Issues `count` voucher codes for a `by-code` program (admins). The codes are returned once; the
 * store keeps their hashes. A code looks like `SWV-7K2Q-M9XD-4TPA-RB3F` (Crockford base32, 100 bits).
 */
export async function issueVoucherCodes(ctx: EngineContext, programName: string, count: number): Promise<{ readonly program: StoredVoucherProgram; readonly codes: readonly string[] }> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_CODES_PER_REQUEST)
    throw new SuanwangError('invalid_field', `count is ${count}`, { field: 'count', hint: `ask for 1 to ${MAX_CODES_PER_REQUEST} codes at a time` });
  const program = (await listVoucherPrograms(ctx.store.db)).find((p) => p.name === programName);
  if (!program) throw new SuanwangError('not_found', `no voucher program "${programName}"`, { field: 'name', hint: '`suanwang vouchers` or GET /v1/voucher-programs lists them' });
  if (program.enrolment !== 'by-code')
    throw new SuanwangError('invalid_field', `voucher program "${programName}" is open to every org; it has no codes`, { field: 'name', hint: 'create the program with enrolment by-code (`--by-code`) to hand out codes' });
  const codes = Array.from({ length: count }, () => newVoucherCode());
  await insertVoucherCodes(ctx.store.db, program.id, codes.map(hashSecret), ctx.now());
  return { program, codes };
}

/**
 * Redeems a voucher code for the caller's org: from then on the program pays its share of the org's
 * eligible bills. A code works once; codes are matched case-insensitively and without dashes or spaces.
 */
export async function redeemCode(ctx: EngineContext, user: Extract<Principal, { kind: 'user' }>, code: string): Promise<StoredVoucherProgram> {
  const unknown = () => new SuanwangError('not_found', `no voucher code "${code}"`, { field: 'code', hint: 'check the code as it was given to you (SWV- and five groups of four letters or digits)' });
  const normal = normalVoucherCode(code);
  if (normal === undefined) throw unknown();
  const now = ctx.now();
  const r = await inTransaction(ctx.store.db, (trx) => redeemVoucherCode(trx, hashSecret(normal), user.orgId, now));
  if (r.result === 'unknown') throw unknown();
  if (r.result === 'used') throw new SuanwangError('conflict', `voucher code "${code}" was redeemed already`, { field: 'code', hint: 'each code works once; ask the program for another' });
  const programId = r.programId;
  const program = (await listVoucherPrograms(ctx.store.db)).find((p) => p.id === programId)!;
  if (r.result === 'already-enrolled')
    throw new SuanwangError('conflict', `your org already holds a voucher of "${program.name}"; the code was not used`, { field: 'code', hint: 'give the code to another org, or keep it' });
  if (now.getTime() >= program.validUntil) throw new SuanwangError('invalid_field', `voucher program "${program.name}" ended on ${new Date(program.validUntil).toISOString()}`, { field: 'code', hint: 'the code was redeemed, but the program pays no more bills' });
  return program;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function newVoucherCode(): string {
  const bytes = randomBytes(20);
  let body = '';
  for (const b of bytes) body += CROCKFORD[b & 31];
  return `SWV-${body.match(/.{4}/g)!.join('-')}`;
}

/** The canonical form of a code as typed (`swv 7k2q-m9xd…` → `SWV-7K2Q-M9XD-…`), or undefined when it cannot be one. */
export function normalVoucherCode(typed: string): string | undefined {
  const plain = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  const m = /^SWV([0-9A-HJKMNP-TV-Z]{20})$/.exec(plain);
  return m ? `SWV-${m[1]!.match(/.{4}/g)!.join('-')}` : undefined;
}

/** Sets a store product's price and split (and the price of calls to its endpoints, `serving`); only its provider org or an admin may (else `forbidden`). */
export async function setProductPrice(
  ctx: EngineContext,
  user: Extract<Principal, { kind: 'user' }>,
  productName: string,
  price: AppPrice,
  shares: FeeShares,
  serving?: { readonly fenPerRequest: number; readonly fenPer1kTokens: number },
): Promise<void> {
  const product = await findProductByName(ctx.store.db, productName);
  if (!product) throw new SuanwangError('product_not_found', `no product "${productName}"`, { field: 'name', hint: 'search the store with `suanwang store search`' });
  if (user.role !== 'admin' && product.provider_org_id !== user.orgId) throw new SuanwangError('forbidden', `${productName} belongs to another provider`, { field: 'name' });
  checkShares(shares);
  await setAppPrice(ctx.store.db, { productId: product.id, price, shares, serving }, ctx.now());
}
