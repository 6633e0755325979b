// The ledger accounts billing uses, named from their owner so that they need no lookup table: an
// org's wallet (paid and granted credit), a center's earnings, a provider's earnings, the operator's
// fees, a voucher program's receivable and the world (money entering and leaving the platform).
// Each is created on first use, idempotently (createAccounts answers `exists` for a retry).
import type { Clock } from '../../core/clock.js';
import { accountSpec, LEDGER_RULES, type AccountKind, type TransferInput, type TransferResult } from '../../ledger/index.js';
import { createAccounts, createTransfers } from '../../store/ledger.js';
import type { Queryable } from '../../store/transaction.js';

export const PLATFORM = 'platform';

/** Account ids by owner: `org-paid:org_…`, `center-earnings:ctr_…`, … (one account per kind and owner). */
export const accountId = (kind: AccountKind, ownerId: string): string => `${kind}:${ownerId}`;
export const orgPaid = (orgId: string): string => accountId('org-paid', orgId);
export const orgGranted = (orgId: string): string => accountId('org-granted', orgId);
export const centerEarnings = (centerId: string): string => accountId('center-earnings', centerId);
export const providerEarnings = (orgId: string): string => accountId('provider-earnings', orgId);
export const voucherReceivable = (programId: string): string => accountId('voucher-receivable', programId);
export const OPERATOR_FEES = accountId('operator-fees', PLATFORM);
export const WORLD = accountId('world', PLATFORM);

/** A clock stopped at `at`: the ledger stamps a transaction's transfers with the engine's `now`. */
export const clockAt = (at: Date): Clock => ({ now: () => at.getTime() });

/** Parses an id made by `accountId` back into its kind and owner. */
function parse(id: string): { kind: AccountKind; ownerId: string } {
  const i = id.indexOf(':');
  return { kind: id.slice(0, i) as AccountKind, ownerId: id.slice(i + 1) };
}

/** Creates the accounts (ids from `accountId`) that do not exist yet; throws if one exists with other fields. */
export async function ensureAccounts(q: Queryable, at: Date, ids: readonly string[]): Promise<void> {
  const unique = [...new Set(ids)];
  const results = await createAccounts(
    q,
    clockAt(at),
    unique.map((id) => {
      const { kind, ownerId } = parse(id);
      return accountSpec(id, kind, ownerId);
    }),
  );
  const bad = unique.filter((_, i) => results[i] === 'exists_with_different_fields');
  if (bad.length > 0) throw new Error(`ledger accounts ${bad.join(', ')} exist with other fields`);
}

/**
 * Applies transfers (creating their accounts first) and returns the ledger's result per transfer;
 * in a transaction `q` they commit or roll back with it.
 */
export async function transfer(q: Queryable, at: Date, batch: readonly TransferInput[], accounts: readonly string[]): Promise<TransferResult[]> {
  await ensureAccounts(q, at, accounts);
  return createTransfers(q, clockAt(at), batch, LEDGER_RULES);
}

/** True for the results that leave the transfer applied (now or by an earlier identical request). */
export const applied = (r: TransferResult): boolean => r === 'ok' || r === 'exists';

/** The id of an attempt's hold on one of the org's two accounts (a retried placement finds it: `exists`). */
export const holdId = (jobId: string, attempt: number, part: 'granted' | 'paid'): string => `hold:${jobId}:${attempt}:${part}`;
