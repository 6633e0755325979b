// A tiny reference ledger, written apart from src/ledger/validate-transfers.ts on purpose: the
// simulation compares the store with it, so a bug shared by the validator and the store (the same
// code) still shows. It keeps state in layers (a batch on the ledger, a linked chain on the batch) and
// commits a layer only when everything in it succeeded: no journal, no undo.
import type { TransferInput, TransferResult } from '../../src/ledger/index.js';

export interface RefAccount {
  readonly flag: string;
  readonly dp: number;
  readonly dpo: number;
  readonly cp: number;
  readonly cpo: number;
}

export interface RefTransfer {
  readonly input: TransferInput;
  readonly dr: string;
  readonly cr: string;
  readonly amount: number;
  readonly hold: boolean;
  readonly status: 'pending' | 'posted' | 'voided' | 'expired' | null;
  readonly expiresAt: number | null;
  readonly pendingId: string | null;
}

class Layer {
  readonly accounts = new Map<string, RefAccount>();
  readonly transfers = new Map<string, RefTransfer>();
  constructor(readonly parent: Layer | undefined) {}
  account(id: string): RefAccount | undefined {
    return this.accounts.get(id) ?? this.parent?.account(id);
  }
  transfer(id: string): RefTransfer | undefined {
    return this.transfers.get(id) ?? this.parent?.transfer(id);
  }
  commit(): void {
    for (const [k, v] of this.accounts) this.parent!.accounts.set(k, v);
    for (const [k, v] of this.transfers) this.parent!.transfers.set(k, v);
  }
}

export class ReferenceLedger {
  #base = new Layer(undefined);
  /** Holds with a timeout that may still be pending (expireDue looks only at these). */
  readonly #timed = new Set<string>();

  addAccount(id: string, flag: string): void {
    this.#base.accounts.set(id, { flag, dp: 0, dpo: 0, cp: 0, cpo: 0 });
  }
  account(id: string): RefAccount | undefined {
    return this.#base.account(id);
  }
  transfer(id: string): RefTransfer | undefined {
    return this.#base.transfer(id);
  }
  get accounts(): ReadonlyMap<string, RefAccount> {
    return this.#base.accounts;
  }
  get transfers(): ReadonlyMap<string, RefTransfer> {
    return this.#base.transfers;
  }

  /** What `inputs` would do at `now`, and a commit that makes it so (or drop it to forget it). */
  plan(inputs: readonly TransferInput[], now: number, on: ReferencePlan | undefined = undefined): ReferencePlan {
    const batch = new Layer(on ? on.layer : this.#base);
    for (const inp of inputs) {
      const h = inp.pendingId === undefined ? undefined : batch.transfer(inp.pendingId);
      if (h && h.status === 'pending' && h.expiresAt !== null && h.expiresAt <= now) expire(batch, inp.pendingId!, h);
    }
    const results: TransferResult[] = [];
    let i = 0;
    while (i < inputs.length) {
      let end = i;
      while (end < inputs.length && inputs[end]!.flags?.linked === true) end++;
      const open = end === inputs.length;
      if (open) end--;
      const chain = new Layer(batch);
      const rs: TransferResult[] = [];
      let failed = false;
      for (let k = i; k <= end; k++) {
        const r = open && k === end ? 'linked_event_chain_open' : one(chain, inputs[k]!, now);
        rs.push(r);
        if (r !== 'ok' && r !== 'exists') {
          failed = true;
          break;
        }
      }
      const okAll = !failed && rs.every((r) => r === 'ok');
      const existAll = !failed && rs.every((r) => r === 'exists');
      if (okAll) chain.commit();
      for (let k = i; k <= end; k++) {
        const r = rs[k - i];
        if (okAll || existAll) results.push(r!);
        else if (r === 'exists' || (failed && k - i === rs.length - 1)) results.push(r!);
        else results.push('linked_event_failed');
      }
      i = end + 1;
    }
    return new ReferencePlan(batch, results, () => {
      let layer: Layer = batch;
      const chainOfLayers: Layer[] = [];
      while (layer !== this.#base) {
        chainOfLayers.unshift(layer);
        layer = layer.parent!;
      }
      for (const l of chainOfLayers) this.#commitToBase(l);
    });
  }

  #commitToBase(l: Layer): void {
    for (const [k, v] of l.accounts) this.#base.accounts.set(k, v);
    for (const [k, v] of l.transfers) {
      this.#base.transfers.set(k, v);
      if (v.status === 'pending' && v.expiresAt !== null) this.#timed.add(k);
      else this.#timed.delete(k);
    }
    l.accounts.clear();
    l.transfers.clear();
  }

  /** Expires every hold past its timeout at `now`; returns how many. */
  expireDue(now: number): number {
    let n = 0;
    for (const id of [...this.#timed]) {
      const h = this.#base.transfer(id)!;
      if (h.status !== 'pending') {
        this.#timed.delete(id);
      } else if (h.expiresAt! <= now) {
        expire(this.#base, id, h);
        this.#timed.delete(id);
        n++;
      }
    }
    return n;
  }
}

export class ReferencePlan {
  constructor(
    readonly layer: Layer,
    readonly results: readonly TransferResult[],
    readonly commit: () => void,
  ) {}
}

function expire(l: Layer, id: string, h: RefTransfer): void {
  move(l, h.dr, { dp: -h.amount });
  move(l, h.cr, { cp: -h.amount });
  l.transfers.set(id, { ...h, status: 'expired' });
}

function move(l: Layer, id: string, d: Partial<Omit<RefAccount, 'flag'>>): void {
  const a = l.account(id)!;
  l.accounts.set(id, { flag: a.flag, dp: a.dp + (d.dp ?? 0), dpo: a.dpo + (d.dpo ?? 0), cp: a.cp + (d.cp ?? 0), cpo: a.cpo + (d.cpo ?? 0) });
}

/** A request as the stored transfer `r` resolves it: a post or void may leave out the hold's accounts, a void its amount. */
const norm = (t: TransferInput, r: RefTransfer): string => {
  const twoPhase = t.flags?.postPending === true || t.flags?.voidPending === true;
  const dr = twoPhase ? (t.debitAccountId ?? r.dr) : t.debitAccountId;
  const cr = twoPhase ? (t.creditAccountId ?? r.cr) : t.creditAccountId;
  const amount = t.flags?.voidPending === true && t.amount === 0 ? r.amount : t.amount;
  return JSON.stringify([t.id, dr ?? null, cr ?? null, amount, t.code, t.userData ?? null,
    !!t.flags?.linked, !!t.flags?.pending, !!t.flags?.postPending, !!t.flags?.voidPending, t.pendingId ?? null, t.timeoutSeconds ?? 0]);
};

function one(l: Layer, t: TransferInput, now: number): TransferResult {
  const had = l.transfer(t.id);
  if (had) return norm(had.input, had) === norm(t, had) ? 'exists' : 'exists_with_different_fields';
  const twoPhase = t.flags?.postPending === true || t.flags?.voidPending === true;
  if (!twoPhase) {
    const dr = l.account(t.debitAccountId ?? '');
    const cr = l.account(t.creditAccountId ?? '');
    if (t.debitAccountId === t.creditAccountId) return 'accounts_must_be_different';
    if (!dr) return 'debit_account_not_found';
    if (!cr) return 'credit_account_not_found';
    if (t.amount === 0) return 'amount_must_not_be_zero';
    if (dr.flag === 'debits_must_not_exceed_credits' && dr.dp + dr.dpo + t.amount > dr.cpo) return 'exceeds_credits';
    if (cr.flag === 'credits_must_not_exceed_debits' && cr.cp + cr.cpo + t.amount > cr.dpo) return 'exceeds_debits';
    const hold = t.flags?.pending === true;
    move(l, t.debitAccountId!, hold ? { dp: t.amount } : { dpo: t.amount });
    move(l, t.creditAccountId!, hold ? { cp: t.amount } : { cpo: t.amount });
    const timeout = t.timeoutSeconds ?? 0;
    l.transfers.set(t.id, { input: t, dr: t.debitAccountId!, cr: t.creditAccountId!, amount: t.amount, hold, status: hold ? 'pending' : null, expiresAt: hold && timeout > 0 ? now + timeout * 1000 : null, pendingId: null });
    return 'ok';
  }
  const h = l.transfer(t.pendingId ?? '');
  if (!h) return 'pending_transfer_not_found';
  if (!h.hold) return 'pending_transfer_not_pending';
  if (h.status === 'posted') return 'pending_transfer_already_posted';
  if (h.status === 'voided') return 'pending_transfer_already_voided';
  if (h.status === 'expired') return 'pending_transfer_expired';
  let amount = h.amount;
  if (t.flags?.postPending) {
    if (t.amount === 0) return 'amount_must_not_be_zero';
    if (t.amount > h.amount) return 'exceeds_pending_transfer_amount';
    amount = t.amount;
  } else if (t.amount !== 0 && t.amount !== h.amount) return 'pending_transfer_has_different_amount';
  const posted = t.flags?.postPending ? amount : 0;
  move(l, h.dr, { dp: -h.amount, dpo: posted });
  move(l, h.cr, { cp: -h.amount, cpo: posted });
  l.transfers.set(t.pendingId!, { ...h, status: t.flags?.postPending ? 'posted' : 'voided' });
  l.transfers.set(t.id, { input: t, dr: h.dr, cr: h.cr, amount, hold: false, status: null, expiresAt: null, pendingId: t.pendingId! });
  return 'ok';
}
