// The ledger's public surface: the vocabulary, the rules, and the rules bundled for the store.
import type { AccountInput, AccountKind } from './model.js';
import { ACCOUNT_KINDS } from './model.js';
import { expireHolds, validateTransfers } from './validate-transfers.js';

export * from './model.js';
export { expireHolds, sameTransfer, validateTransfers, USER_DATA_MAX } from './validate-transfers.js';
export type { BatchOutcome, LedgerView, StatusChange } from './validate-transfers.js';

/** The rules as src/store/ledger.ts takes them (`createTransfers(q, clock, batch, LEDGER_RULES)`). */
export const LEDGER_RULES = { validateTransfers, expireHolds } as const;

/** An account to create: its flag follows from its kind (wallets and earnings may not go negative). */
export function accountSpec(id: string, kind: AccountKind, ownerId: string): AccountInput & { readonly flag: (typeof ACCOUNT_KINDS)[AccountKind] } {
  return { id, kind, ownerId, flag: ACCOUNT_KINDS[kind] };
}
