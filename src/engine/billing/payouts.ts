// Money leaving the platform (admins): payouts of what a center, a provider or the operator earned,
// and refunds of an org's paid credit. Each is one transfer to the world account with the ledger's
// floor as the hard limit (an earnings or paid account may not go negative, counting what is held),
// refused earlier with the figures. With a `reference` a retry changes nothing.
import { randomUUID } from 'node:crypto';
import { SuanwangError } from '../../core/errors.js';
import { fen, type Fen } from '../../core/money.js';
import { findCenterByName } from '../../store/centers.js';
import { lookupAccounts } from '../../store/ledger.js';
import type { EngineContext } from '../context.js';
import { applied, centerEarnings, OPERATOR_FEES, orgPaid, providerEarnings, transfer, WORLD } from './accounts.js';
import { orgIdByName, yuan } from './wallet.js';

export type Payee = { readonly kind: 'center'; readonly name: string } | { readonly kind: 'provider'; readonly name: string } | { readonly kind: 'operator' };

export interface MoneyOut {
  readonly transferId: string;
  readonly account: string;
  readonly amount: Fen;
  /** What is left on the account to pay out or refund (posted credits − posted and pending debits). */
  readonly balance: Fen;
}

/** Pays out part of what a center, provider or the operator earned (earnings → world, code `payout`). */
export async function payout(ctx: EngineContext, payee: Payee, amountFen: number, reference?: string): Promise<MoneyOut> {
  const account = await payeeAccount(ctx, payee);
  const who = payee.kind === 'operator' ? 'the operator' : `${payee.kind} ${payee.name}`;
  return moneyOut(ctx, account, amountFen, 'payout', reference, (amount, balance) =>
    new SuanwangError('insufficient_funds', `a payout of ${yuan(amount)} is more than ${who} has earned and not yet been paid (${yuan(balance)})`, {
      field: 'amountFen',
      hint: `pay out at most ${balance} fen; \`suanwang billing statement\` shows the earnings`,
    }),
  );
}

/** Refunds part of an org's paid credit to it (org-paid → world, code `refund`); granted credit is not refundable. */
export async function refund(ctx: EngineContext, orgName: string, amountFen: number, reference?: string): Promise<MoneyOut> {
  const account = orgPaid(await orgIdByName(ctx.store.db, orgName));
  return moneyOut(ctx, account, amountFen, 'refund', reference, (amount, balance) =>
    new SuanwangError('insufficient_funds', `a refund of ${yuan(amount)} is more than org ${orgName}'s paid credit not held for jobs (${yuan(balance)})`, {
      field: 'amountFen',
      hint: `refund at most ${balance} fen, or wait for its running jobs to end; granted credit is not refundable`,
    }),
  );
}

async function payeeAccount(ctx: EngineContext, payee: Payee): Promise<string> {
  if (payee.kind === 'operator') return OPERATOR_FEES;
  if (payee.kind === 'provider') return providerEarnings(await orgIdByName(ctx.store.db, payee.name));
  const center = await findCenterByName(ctx.store.db, payee.name);
  if (!center) throw new SuanwangError('center_not_found', `no center named ${payee.name}`, { field: 'center', hint: '`suanwang centers` lists them' });
  return centerEarnings(center.id);
}

async function moneyOut(
  ctx: EngineContext,
  account: string,
  amountFen: number,
  code: 'payout' | 'refund',
  reference: string | undefined,
  tooMuch: (amount: number, balance: number) => SuanwangError,
): Promise<MoneyOut> {
  if (!Number.isSafeInteger(amountFen) || amountFen <= 0)
    throw new SuanwangError('invalid_field', `amountFen is ${amountFen}`, { field: 'amountFen', hint: 'give a whole number of fen greater than 0 (10000 = ¥100.00)' });
  const db = ctx.store.db;
  const balance = async () => {
    const [a] = await lookupAccounts(db, [account]);
    return a ? a.creditsPosted - a.debitsPosted - a.debitsPending : 0;
  };
  const transferId = `${code}:${account}:${reference ?? randomUUID()}`;
  const before = await balance();
  const [r] = await transfer(db, ctx.now(), [{ id: transferId, debitAccountId: account, creditAccountId: WORLD, amount: fen(amountFen), code, userData: reference }], [account, WORLD]);
  if (r === 'exceeds_credits') throw tooMuch(amountFen, before);
  if (r === 'exists_with_different_fields')
    throw new SuanwangError('idempotency_key_reused', `${code} reference "${reference}" was used for another amount or account`, { field: 'reference', hint: `use a new reference for a new ${code}` });
  if (!applied(r!)) throw new Error(`${code} ${transferId}: ${r}`);
  return { transferId, account, amount: fen(amountFen), balance: fen(await balance()) };
}
