// The ledger's vocabulary: accounts, transfers and result codes, with TigerBeetle's semantics
// (double entry, immutable transfers with idempotent ids, two-phase holds, linked chains). Amounts are
// integer fen. Pure: no database, no clock of its own.
import type { Fen } from '../core/money.js';

/**
 * A balance rule. A wallet or an earnings account holds a credit balance that may not go negative
 * (`debits_must_not_exceed_credits`); a voucher program's receivable holds a debit balance that may
 * not go negative (`credits_must_not_exceed_debits`); the world account (money entering and leaving
 * the platform) has no floor.
 */
export const ACCOUNT_FLAGS = ['debits_must_not_exceed_credits', 'credits_must_not_exceed_debits', 'none'] as const;
export type AccountFlag = (typeof ACCOUNT_FLAGS)[number];

/** Every kind of account and the balance rule it always has (the flag follows from the kind). */
export const ACCOUNT_KINDS = {
  // An org's wallet is two accounts so paid and granted credit never mix.
  'org-paid': 'debits_must_not_exceed_credits',
  'org-granted': 'debits_must_not_exceed_credits',
  'center-earnings': 'debits_must_not_exceed_credits',
  'provider-earnings': 'debits_must_not_exceed_credits',
  'operator-fees': 'debits_must_not_exceed_credits',
  // Owed by a voucher program's sponsor: grows by debits (redemptions), shrinks by its payments.
  'voucher-receivable': 'credits_must_not_exceed_debits',
  world: 'none',
} as const satisfies Record<string, AccountFlag>;
export type AccountKind = keyof typeof ACCOUNT_KINDS;

/** Why money moved. */
export const TRANSFER_CODES = ['top-up', 'grant', 'compute', 'app-fee', 'voucher', 'payout', 'refund', 'adjustment', 'serving'] as const;
export type TransferCode = (typeof TRANSFER_CODES)[number];

/** The four balance fields of an account, in fen. */
export interface Balances {
  readonly debitsPending: number;
  readonly debitsPosted: number;
  readonly creditsPending: number;
  readonly creditsPosted: number;
}

export const ZERO_BALANCES: Balances = { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0 };

export interface Account extends Balances {
  readonly id: string;
  readonly kind: AccountKind;
  /** The org, center, provider or voucher program it belongs to ('platform' for operator and world). */
  readonly ownerId: string;
  readonly flag: AccountFlag;
}

/** How a transfer acts: a plain posting, a hold, or the post or void of a hold. */
export const TRANSFER_PHASES = ['single', 'pending', 'post_pending', 'void_pending'] as const;
export type TransferPhase = (typeof TRANSFER_PHASES)[number];

export interface TransferFlags {
  /** Links this transfer to the next one in the batch: the chain succeeds or fails as one. */
  readonly linked?: boolean;
  /** A two-phase hold: counted as pending until posted, voided or expired. */
  readonly pending?: boolean;
  /** Posts the hold `pendingId` (in part or in full; the rest is released). */
  readonly postPending?: boolean;
  /** Releases the hold `pendingId` entirely. */
  readonly voidPending?: boolean;
}

/**
 * A transfer as a caller asks for it. For post and void, the accounts may be left out (they are the
 * hold's); a void's amount may be 0 (it is the hold's amount); a post's amount is what to post.
 */
export interface TransferInput {
  readonly id: string;
  readonly debitAccountId?: string | undefined;
  readonly creditAccountId?: string | undefined;
  readonly amount: Fen | number;
  readonly code: TransferCode;
  /** The caller's reference, e.g. a job id (at most 128 characters). */
  readonly userData?: string | undefined;
  readonly flags?: TransferFlags | undefined;
  readonly pendingId?: string | undefined;
  /** A hold's lifetime in seconds; 0 or absent: it never expires. */
  readonly timeoutSeconds?: number | undefined;
}

/** The status of a hold (undefined for every other transfer). */
export const PENDING_STATUSES = ['pending', 'posted', 'voided', 'expired'] as const;
export type PendingStatus = (typeof PENDING_STATUSES)[number];

/** A stored transfer: accounts and amount resolved, stamped with the clock's time. */
export interface Transfer {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: number;
  readonly code: TransferCode;
  readonly userData: string | null;
  readonly phase: TransferPhase;
  readonly linked: boolean;
  readonly pendingId: string | null;
  readonly timeoutSeconds: number;
  /** Epoch ms. */
  readonly timestamp: number;
  /** Epoch ms when a hold with a timeout expires; null otherwise. */
  readonly expiresAt: number | null;
  readonly status: PendingStatus | null;
}

/** Per-transfer outcomes, as TigerBeetle names them. A failed transfer is not stored. */
export const TRANSFER_RESULTS = [
  'ok',
  'exists',
  'exists_with_different_fields',
  'id_must_not_be_empty',
  'flags_are_mutually_exclusive',
  'accounts_must_be_different',
  'amount_must_not_be_zero',
  'amount_must_be_whole_fen',
  'user_data_too_long',
  'timeout_reserved_for_pending_transfer',
  'timeout_must_be_whole_seconds',
  'pending_id_must_not_be_empty',
  'pending_id_must_be_empty',
  'pending_id_must_be_different',
  'debit_account_not_found',
  'credit_account_not_found',
  'exceeds_credits',
  'exceeds_debits',
  'pending_transfer_not_found',
  'pending_transfer_not_pending',
  'pending_transfer_has_different_debit_account_id',
  'pending_transfer_has_different_credit_account_id',
  'pending_transfer_has_different_amount',
  'pending_transfer_expired',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'exceeds_pending_transfer_amount',
  'linked_event_failed',
  'linked_event_chain_open',
] as const;
export type TransferResult = (typeof TRANSFER_RESULTS)[number];

/** The account creation outcomes (an account id is idempotent like a transfer id). */
export const ACCOUNT_RESULTS = ['ok', 'exists', 'exists_with_different_fields', 'id_must_not_be_empty'] as const;
export type AccountResult = (typeof ACCOUNT_RESULTS)[number];

export interface AccountInput {
  readonly id: string;
  readonly kind: AccountKind;
  readonly ownerId: string;
}

/** An account's available balance: what its flag lets it still spend (credit side minus debits). */
export function available(a: Account): number {
  if (a.flag === 'debits_must_not_exceed_credits') return a.creditsPosted - a.debitsPosted - a.debitsPending;
  if (a.flag === 'credits_must_not_exceed_debits') return a.debitsPosted - a.creditsPosted - a.creditsPending;
  return Number.POSITIVE_INFINITY;
}

/** The phase named by a transfer's flags (validation reports two at once as mutually exclusive). */
export function phaseOf(flags: TransferFlags | undefined): TransferPhase {
  if (flags?.pending) return 'pending';
  if (flags?.postPending) return 'post_pending';
  if (flags?.voidPending) return 'void_pending';
  return 'single';
}
