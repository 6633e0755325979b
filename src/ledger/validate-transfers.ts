// The ledger's rules in one place: the store loads what a batch touches, asks this function what the
// batch does, and writes exactly that (transfers to insert, holds whose status changes, balance
// deltas). Nothing here reads a database or a clock: the store passes `now`.
import type { Account, Balances, PendingStatus, Transfer, TransferInput, TransferResult } from './model.js';
import { phaseOf } from './model.js';

/** What a batch may read: the accounts it names and every stored transfer it names (by id or pendingId). */
export interface LedgerView {
  readonly accounts: ReadonlyMap<string, Account>;
  readonly transfers: ReadonlyMap<string, Transfer>;
}

/** A hold whose status changed (posted, voided or expired). */
export interface StatusChange {
  readonly id: string;
  readonly status: PendingStatus;
}

/** What a batch does: a result per input (same order), and the writes that make it so. */
export interface BatchOutcome {
  readonly results: readonly TransferResult[];
  /** New transfers, in batch order, with their final status (a hold posted in the same batch says so). */
  readonly created: readonly Transfer[];
  /** Holds stored before this batch whose status changes. */
  readonly statusChanges: readonly StatusChange[];
  /** Signed change of each account's balances (accounts left unchanged are absent). */
  readonly deltas: ReadonlyMap<string, Balances>;
}

export const USER_DATA_MAX = 128;

/**
 * Applies `inputs` in order to `view` at time `now` (epoch ms) with TigerBeetle's semantics and returns
 * the per-transfer results and the writes; `view` itself is not changed. Holds named by a post or void
 * that have passed their timeout are expired first, whatever the rest of the batch does.
 */
export function validateTransfers(view: LedgerView, inputs: readonly TransferInput[], now: number): BatchOutcome {
  const w = new Working(view);
  for (const input of inputs) {
    const held = input.pendingId === undefined ? undefined : view.transfers.get(input.pendingId);
    if (held && isDue(held, now) && w.statusOf(held) === 'pending') w.release(held, 'expired', 0);
  }
  w.journal = [];
  const results: TransferResult[] = new Array<TransferResult>(inputs.length);
  let i = 0;
  while (i < inputs.length) {
    let end = i;
    while (end < inputs.length && inputs[end]!.flags?.linked) end++;
    const open = end === inputs.length;
    if (open) end = inputs.length - 1;
    if (end === i && !open) {
      const mark = w.journal.length;
      results[i] = w.apply(inputs[i]!, now);
      if (results[i] !== 'ok') w.undo(mark);
    } else {
      applyChain(w, inputs, i, end, open, now, results);
    }
    i = end + 1;
  }
  return w.outcome(results);
}

/** A linked chain: every member applies, or none does (a chain wholly retried answers `exists`). */
function applyChain(w: Working, inputs: readonly TransferInput[], from: number, to: number, open: boolean, now: number, results: TransferResult[]): void {
  const mark = w.journal.length;
  let failedAt = -1;
  for (let k = from; k <= to; k++) {
    const r = open && k === to ? 'linked_event_chain_open' : w.apply(inputs[k]!, now);
    results[k] = r;
    if (r !== 'ok' && r !== 'exists') {
      failedAt = k;
      break;
    }
  }
  const codes = results.slice(from, to + 1);
  const allExist = failedAt < 0 && codes.every((r) => r === 'exists');
  const allOk = failedAt < 0 && codes.every((r) => r === 'ok');
  if (allOk || allExist) return;
  w.undo(mark);
  for (let k = from; k <= to; k++) {
    if (k === failedAt || results[k] === 'exists') continue;
    results[k] = 'linked_event_failed';
  }
}

function isDue(t: Transfer, now: number): boolean {
  return t.expiresAt !== null && t.expiresAt <= now;
}

/**
 * Expires every hold of `holds` whose timeout has passed at `now` (epoch ms): each becomes `expired`
 * and its amount leaves the pending balances of `accounts` (which must hold both sides of each).
 */
export function expireHolds(accounts: ReadonlyMap<string, Account>, holds: readonly Transfer[], now: number): Pick<BatchOutcome, 'statusChanges' | 'deltas'> {
  const w = new Working({ accounts, transfers: new Map(holds.map((h) => [h.id, h])) });
  for (const h of holds) if (h.phase === 'pending' && isDue(h, now) && w.statusOf(h) === 'pending') w.release(h, 'expired', 0);
  const { statusChanges, deltas } = w.outcome([]);
  return { statusChanges, deltas };
}

/** True when `input` asks for the same transfer as the stored `t` (a retry), as TigerBeetle compares them. */
export function sameTransfer(input: TransferInput, t: Transfer): boolean {
  const phase = phaseOf(input.flags);
  if (phase !== t.phase || (input.flags?.linked ?? false) !== t.linked || input.code !== t.code) return false;
  if ((input.userData ?? null) !== t.userData || (input.pendingId ?? null) !== t.pendingId) return false;
  if ((input.timeoutSeconds ?? 0) !== t.timeoutSeconds) return false;
  const resolves = phase === 'post_pending' || phase === 'void_pending';
  if (input.debitAccountId === undefined ? !resolves : input.debitAccountId !== t.debitAccountId) return false;
  if (input.creditAccountId === undefined ? !resolves : input.creditAccountId !== t.creditAccountId) return false;
  return phase === 'void_pending' && input.amount === 0 ? true : input.amount === t.amount;
}

type Undo = () => void;

/** The batch's working copy: touched balances and statuses, with a journal to undo a failed chain. */
class Working {
  readonly #view: LedgerView;
  readonly #balances = new Map<string, Balances>();
  readonly #created = new Map<string, Transfer>();
  readonly #status = new Map<string, PendingStatus>();
  journal: Undo[] = [];

  constructor(view: LedgerView) {
    this.#view = view;
  }

  statusOf(t: Transfer): PendingStatus | null {
    return this.#status.get(t.id) ?? this.#created.get(t.id)?.status ?? t.status;
  }

  undo(mark: number): void {
    while (this.journal.length > mark) this.journal.pop()!();
  }

  #balance(id: string): Balances {
    return this.#balances.get(id) ?? this.#view.accounts.get(id)!;
  }

  /** Adds `d` to an account's working balances (a copy made on first touch), journaled for undo. */
  #add(id: string, d: Partial<Balances>): void {
    let b = this.#balances.get(id);
    if (b === undefined) {
      const a = this.#view.accounts.get(id)!;
      b = { debitsPending: a.debitsPending, debitsPosted: a.debitsPosted, creditsPending: a.creditsPending, creditsPosted: a.creditsPosted };
      this.#balances.set(id, b);
    }
    const m = b as { -readonly [K in keyof Balances]: number };
    const dp = d.debitsPending ?? 0;
    const dpo = d.debitsPosted ?? 0;
    const cp = d.creditsPending ?? 0;
    const cpo = d.creditsPosted ?? 0;
    m.debitsPending += dp;
    m.debitsPosted += dpo;
    m.creditsPending += cp;
    m.creditsPosted += cpo;
    // Fen stay exact only below 2^53: a balance beyond it is a bug or an attack, never rounded.
    if (!(Number.isSafeInteger(m.debitsPending + m.debitsPosted) && Number.isSafeInteger(m.creditsPending + m.creditsPosted))) {
      throw new RangeError(`account ${id}: balances ${JSON.stringify(m)} fen are beyond a safe integer`);
    }
    this.journal.push(() => {
      m.debitsPending -= dp;
      m.debitsPosted -= dpo;
      m.creditsPending -= cp;
      m.creditsPosted -= cpo;
    });
  }

  #setStatus(id: string, status: PendingStatus): void {
    const had = this.#status.get(id);
    this.#status.set(id, status);
    this.journal.push(() => (had === undefined ? this.#status.delete(id) : this.#status.set(id, had)));
  }

  /** Takes a hold's amount out of pending, posting `posted` of it, and marks the hold. */
  release(hold: Transfer, status: PendingStatus, posted: number): void {
    this.#add(hold.debitAccountId, { debitsPending: -hold.amount, debitsPosted: posted });
    this.#add(hold.creditAccountId, { creditsPending: -hold.amount, creditsPosted: posted });
    this.#setStatus(hold.id, status);
  }

  #create(t: Transfer): void {
    this.#created.set(t.id, t);
    this.journal.push(() => this.#created.delete(t.id));
  }

  /** One transfer against the working state; on anything but `ok` the caller undoes its writes. */
  apply(input: TransferInput, now: number): TransferResult {
    if (input.id === '') return 'id_must_not_be_empty';
    const f = input.flags ?? {};
    if ([f.pending, f.postPending, f.voidPending].filter(Boolean).length > 1) return 'flags_are_mutually_exclusive';
    const existing = this.#created.get(input.id) ?? this.#view.transfers.get(input.id);
    if (existing) return sameTransfer(input, existing) ? 'exists' : 'exists_with_different_fields';
    if (!Number.isSafeInteger(input.amount) || input.amount < 0) return 'amount_must_be_whole_fen';
    if (input.userData !== undefined && input.userData.length > USER_DATA_MAX) return 'user_data_too_long';
    const timeout = input.timeoutSeconds ?? 0;
    if (!Number.isSafeInteger(timeout) || timeout < 0) return 'timeout_must_be_whole_seconds';
    const phase = phaseOf(f);
    if (timeout > 0 && phase !== 'pending') return 'timeout_reserved_for_pending_transfer';
    const base = { id: input.id, code: input.code, userData: input.userData ?? null, phase, linked: f.linked ?? false, timeoutSeconds: timeout, timestamp: now };

    if (phase === 'single' || phase === 'pending') {
      if (input.pendingId !== undefined) return 'pending_id_must_be_empty';
      const { debitAccountId: dr, creditAccountId: cr } = input;
      if (dr !== undefined && dr === cr) return 'accounts_must_be_different';
      if (dr === undefined || !this.#view.accounts.has(dr)) return 'debit_account_not_found';
      if (cr === undefined || !this.#view.accounts.has(cr)) return 'credit_account_not_found';
      if (input.amount === 0) return 'amount_must_not_be_zero';
      const d = this.#balance(dr);
      const c = this.#balance(cr);
      const amount = input.amount;
      if (this.#view.accounts.get(dr)!.flag === 'debits_must_not_exceed_credits' && d.debitsPending + d.debitsPosted + amount > d.creditsPosted) return 'exceeds_credits';
      if (this.#view.accounts.get(cr)!.flag === 'credits_must_not_exceed_debits' && c.creditsPending + c.creditsPosted + amount > c.debitsPosted) return 'exceeds_debits';
      const pending = phase === 'pending';
      this.#add(dr, pending ? { debitsPending: amount } : { debitsPosted: amount });
      this.#add(cr, pending ? { creditsPending: amount } : { creditsPosted: amount });
      this.#create({ ...base, debitAccountId: dr, creditAccountId: cr, amount, pendingId: null, expiresAt: pending && timeout > 0 ? now + timeout * 1000 : null, status: pending ? 'pending' : null });
      return 'ok';
    }

    if (input.pendingId === undefined || input.pendingId === '') return 'pending_id_must_not_be_empty';
    if (input.pendingId === input.id) return 'pending_id_must_be_different';
    const hold = this.#created.get(input.pendingId) ?? this.#view.transfers.get(input.pendingId);
    if (!hold) return 'pending_transfer_not_found';
    if (hold.phase !== 'pending') return 'pending_transfer_not_pending';
    if (input.debitAccountId !== undefined && input.debitAccountId !== hold.debitAccountId) return 'pending_transfer_has_different_debit_account_id';
    if (input.creditAccountId !== undefined && input.creditAccountId !== hold.creditAccountId) return 'pending_transfer_has_different_credit_account_id';
    const status = this.statusOf(hold);
    if (status === 'posted') return 'pending_transfer_already_posted';
    if (status === 'voided') return 'pending_transfer_already_voided';
    if (status === 'expired' || isDue(hold, now)) return 'pending_transfer_expired';
    let amount: number;
    if (phase === 'post_pending') {
      if (input.amount === 0) return 'amount_must_not_be_zero';
      if (input.amount > hold.amount) return 'exceeds_pending_transfer_amount';
      amount = input.amount;
      this.release(hold, 'posted', amount);
    } else {
      if (input.amount !== 0 && input.amount !== hold.amount) return 'pending_transfer_has_different_amount';
      amount = hold.amount;
      this.release(hold, 'voided', 0);
    }
    this.#create({ ...base, debitAccountId: hold.debitAccountId, creditAccountId: hold.creditAccountId, amount, pendingId: hold.id, expiresAt: null, status: null });
    return 'ok';
  }

  outcome(results: readonly TransferResult[]): BatchOutcome {
    const created = [...this.#created.values()].map((t) => {
      const s = this.#status.get(t.id);
      return s === undefined ? t : { ...t, status: s };
    });
    const statusChanges: StatusChange[] = [];
    for (const [id, status] of this.#status) if (!this.#created.has(id)) statusChanges.push({ id, status });
    const deltas = new Map<string, Balances>();
    for (const [id, b] of this.#balances) {
      const a = this.#view.accounts.get(id)!;
      const d = {
        debitsPending: b.debitsPending - a.debitsPending,
        debitsPosted: b.debitsPosted - a.debitsPosted,
        creditsPending: b.creditsPending - a.creditsPending,
        creditsPosted: b.creditsPosted - a.creditsPosted,
      };
      if (d.debitsPending !== 0 || d.debitsPosted !== 0 || d.creditsPending !== 0 || d.creditsPosted !== 0) deltas.set(id, d);
    }
    return { results, created, statusChanges, deltas };
  }
}
