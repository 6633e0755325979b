// Money in (admin top-ups and grants) and the wallet as a user sees it: paid credit, granted credit
// (only grants not yet expired count), what is held for placed jobs, and what is available.
import { randomUUID } from 'node:crypto';
import { SuanwangError } from '../../core/errors.js';
import { fen, formatFen, type Fen } from '../../core/money.js';
import { spendOrder } from '../../ledger/vouchers.js';
import { findOrgByName } from '../../store/accounts.js';
import { insertGrant, listGrants, type StoredGrant } from '../../store/billing.js';
import { lookupAccounts } from '../../store/ledger.js';
import { inTransaction, type Queryable } from '../../store/transaction.js';
import type { EngineContext } from '../context.js';
import { applied, orgGranted, orgPaid, transfer, WORLD } from './accounts.js';

export interface GrantView {
  readonly id: string;
  readonly amount: Fen;
  /** What is left of it (grants are spent in spendOrder's order: priority, earliest expiry, id). */
  readonly remaining: Fen;
  readonly priority: number;
  readonly expiresAt: number | null;
  readonly expired: boolean;
  readonly programId: string | null;
}

export interface Wallet {
  readonly orgId: string;
  /** Paid credit posted (top-ups minus what was spent). */
  readonly paid: Fen;
  /** Granted credit of grants not yet expired, after what was spent. */
  readonly granted: Fen;
  /** Held for placed jobs (pending holds on both accounts). */
  readonly held: Fen;
  /** What a new job may still be held for: paid + granted − held. */
  readonly available: Fen;
  /** Of `held`, what is held on granted credit (the rest is on paid credit). */
  readonly heldGranted: Fen;
  readonly grants: readonly GrantView[];
}

/**
 * An org's wallet at `now`. The ledger keeps one granted account per org; which grant a spent fen
 * came from is attributed in spend order (priority, earliest expiry, id), so a grant's remainder and
 * its expiry are derived, not stored: an expired grant's remainder stops counting as credit.
 */
export async function walletOf(q: Queryable, orgId: string, now: number): Promise<Wallet> {
  const [accounts, grants] = await Promise.all([lookupAccounts(q, [orgPaid(orgId), orgGranted(orgId)]), listGrants(q, orgId)]);
  const paidAcc = accounts.find((a) => a.kind === 'org-paid');
  const grantedAcc = accounts.find((a) => a.kind === 'org-granted');
  const paidPosted = paidAcc ? paidAcc.creditsPosted - paidAcc.debitsPosted : 0;
  const paidHeld = paidAcc?.debitsPending ?? 0;
  const grantedConsumed = grantedAcc ? grantedAcc.debitsPosted + grantedAcc.debitsPending : 0;
  const views = grantViews(grants, grantedConsumed, now);
  const liveRemaining = views.filter((g) => !g.expired).reduce((s, g) => s + g.remaining, 0);
  const grantedHeld = grantedAcc?.debitsPending ?? 0;
  // Live credit on the granted account: what live grants still have, plus what is held on it now.
  const granted = Math.min(liveRemaining + grantedHeld, grantedAcc ? grantedAcc.creditsPosted - grantedAcc.debitsPosted : 0);
  const held = paidHeld + grantedHeld;
  return {
    orgId,
    paid: fen(paidPosted),
    granted: fen(Math.max(0, granted)),
    held: fen(held),
    heldGranted: fen(grantedHeld),
    available: fen(Math.max(0, paidPosted - paidHeld) + Math.max(0, granted - grantedHeld)),
    grants: views,
  };
}

/** Each grant's remainder, attributing `consumed` fen of granted credit to grants in spend order. */
function grantViews(grants: readonly StoredGrant[], consumed: number, now: number): GrantView[] {
  // Attribution ignores expiry (a spent fen was spent while its grant was live): now = -Infinity.
  const plan = spendOrder(fen(consumed), grants.map((g) => ({ id: g.id, remaining: g.amount, priority: g.priority, expiresAt: g.expiresAt })), fen(0), Number.NEGATIVE_INFINITY);
  const taken = new Map(plan.fromGrants.map((p) => [p.grantId, p.amount as number]));
  return grants.map((g) => ({
    id: g.id,
    amount: g.amount,
    remaining: fen(g.amount - (taken.get(g.id) ?? 0)),
    priority: g.priority,
    expiresAt: g.expiresAt,
    expired: g.expiresAt !== null && g.expiresAt <= now,
    programId: g.programId,
  }));
}

/** The org with this name, or `not_found` naming it. */
export async function orgIdByName(q: Queryable, name: string): Promise<string> {
  const org = await findOrgByName(q, name);
  if (!org) throw new SuanwangError('not_found', `org "${name}" does not exist`, { field: 'org', hint: 'list orgs with `suanwang admin orgs list`' });
  return org.id;
}

function positiveFen(field: string, amount: number): Fen {
  if (!Number.isSafeInteger(amount) || amount <= 0)
    throw new SuanwangError('invalid_field', `${field} is ${amount}`, { field, hint: 'give a whole number of fen greater than 0 (10000 = ¥100.00)' });
  return fen(amount);
}

/**
 * Adds paid credit to an org's wallet (world → org-paid, code `top-up`). With a `reference` the top-up
 * is idempotent: the same reference again changes nothing and answers the wallet.
 */
export async function topUp(ctx: EngineContext, orgName: string, amountFen: number, reference?: string): Promise<Wallet> {
  const amount = positiveFen('amountFen', amountFen);
  const orgId = await orgIdByName(ctx.store.db, orgName);
  const now = ctx.now();
  const id = `top-up:${orgId}:${reference ?? randomUUID()}`;
  const [r] = await transfer(ctx.store.db, now, [{ id, debitAccountId: WORLD, creditAccountId: orgPaid(orgId), amount, code: 'top-up', userData: reference }], [WORLD, orgPaid(orgId)]);
  if (r === 'exists_with_different_fields')
    throw new SuanwangError('idempotency_key_reused', `top-up reference "${reference}" was used for another amount`, { field: 'reference', hint: 'use a new reference for a new top-up' });
  if (!applied(r!)) throw new Error(`top-up ${id}: ${r}`);
  return walletOf(ctx.store.db, orgId, now.getTime());
}

export interface GrantInput {
  readonly org: string;
  readonly amountFen: number;
  /** Lower is spent first (default 0). */
  readonly priority?: number | undefined;
  /** Epoch ms; absent: never expires. */
  readonly expiresAt?: number | undefined;
  readonly programId?: string | undefined;
}

/**
 * Grants credit to an org (world → org-granted, code `grant`), recording its priority and expiry in
 * credit_grants, in one transaction. Granted credit is spent before paid credit.
 */
export async function grantCredit(ctx: EngineContext, input: GrantInput): Promise<Wallet> {
  const amount = positiveFen('amountFen', input.amountFen);
  const now = ctx.now();
  if (input.expiresAt !== undefined && !(Number.isSafeInteger(input.expiresAt) && input.expiresAt > now.getTime()))
    throw new SuanwangError('invalid_field', `expiresAt ${input.expiresAt} is not in the future`, { field: 'expiresAt', hint: 'give a future time, or leave it out for a grant that never expires' });
  const orgId = await orgIdByName(ctx.store.db, input.org);
  const id = `grant_${randomUUID()}`;
  await inTransaction(ctx.store.db, async (trx) => {
    await insertGrant(trx, { id, orgId, programId: input.programId ?? null, amount, priority: input.priority ?? 0, expiresAt: input.expiresAt ?? null, grantedAt: now.getTime() });
    const [r] = await transfer(trx, now, [{ id: `grant:${id}`, debitAccountId: WORLD, creditAccountId: orgGranted(orgId), amount, code: 'grant', userData: id }], [WORLD, orgGranted(orgId)]);
    if (!applied(r!)) throw new Error(`grant ${id}: ${r}`);
  });
  return walletOf(ctx.store.db, orgId, now.getTime());
}

/** `¥12.34` for messages. */
export const yuan = (amount: number): string => formatFen(amount);
