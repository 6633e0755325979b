// The ledger's rules as a table of cases: each starts from a few accounts with known balances (and
// stored transfers), applies one batch, and states the results and the balances after it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ACCOUNT_KINDS, ZERO_BALANCES } from './model.js';
import type { Account, AccountKind, Balances, Transfer, TransferInput } from './model.js';
import { expireHolds, validateTransfers } from './validate-transfers.js';
import type { BatchOutcome, LedgerView } from './validate-transfers.js';

const NOW = Date.UTC(2026, 0, 1);

function account(id: string, kind: AccountKind, b: Partial<Balances> = {}): Account {
  return { id, kind, ownerId: id, flag: ACCOUNT_KINDS[kind], ...ZERO_BALANCES, ...b };
}

/** A wallet with `credit` fen of paid credit, a center, a voucher program and the world. */
function ledger(credit: number, transfers: readonly Transfer[] = []): LedgerView {
  const accounts = [account('wallet', 'org-paid', { creditsPosted: credit }), account('center', 'center-earnings'), account('voucher', 'voucher-receivable', { debitsPosted: 500 }), account('world', 'world', { debitsPosted: credit })];
  return { accounts: new Map(accounts.map((a) => [a.id, a])), transfers: new Map(transfers.map((t) => [t.id, t])) };
}

const charge = (id: string, amount: number, extra: Partial<TransferInput> = {}): TransferInput => ({ id, debitAccountId: 'wallet', creditAccountId: 'center', amount, code: 'compute', ...extra });
const hold = (id: string, amount: number, timeoutSeconds?: number): Transfer => ({
  id, debitAccountId: 'wallet', creditAccountId: 'center', amount, code: 'compute', userData: 'job1', phase: 'pending', linked: false,
  pendingId: null, timeoutSeconds: timeoutSeconds ?? 0, timestamp: NOW - 1000, expiresAt: timeoutSeconds ? NOW - 1000 + timeoutSeconds * 1000 : null, status: 'pending',
});
/** A ledger where the wallet has `credit` and the hold `h1` of `amount` is pending on it. */
const held = (credit: number, amount: number, timeoutSeconds?: number): LedgerView => {
  const v = ledger(credit, [hold('h1', amount, timeoutSeconds)]);
  const accounts = new Map(v.accounts);
  accounts.set('wallet', { ...accounts.get('wallet')!, debitsPending: amount });
  accounts.set('center', { ...accounts.get('center')!, creditsPending: amount });
  return { accounts, transfers: v.transfers };
};
const delta = (o: BatchOutcome, id: string): Balances => o.deltas.get(id) ?? ZERO_BALANCES;

describe('validateTransfers', () => {
  const cases: readonly { name: string; view: LedgerView; batch: TransferInput[]; results: string[]; wallet?: Partial<Balances> }[] = [
    { name: 'a charge within the balance posts', view: ledger(1000), batch: [charge('t1', 1000)], results: ['ok'], wallet: { debitsPosted: 1000 } },
    { name: 'a charge beyond the balance is refused', view: ledger(1000), batch: [charge('t1', 1001)], results: ['exceeds_credits'] },
    { name: 'holds count against the balance', view: held(1000, 800), batch: [charge('t1', 201)], results: ['exceeds_credits'] },
    { name: 'zero amount', view: ledger(1000), batch: [charge('t1', 0)], results: ['amount_must_not_be_zero'] },
    { name: 'fractional fen', view: ledger(1000), batch: [charge('t1', 1.5)], results: ['amount_must_be_whole_fen'] },
    { name: 'same account twice', view: ledger(1000), batch: [charge('t1', 1, { creditAccountId: 'wallet' })], results: ['accounts_must_be_different'] },
    { name: 'unknown accounts', view: ledger(1000), batch: [charge('t1', 1, { debitAccountId: 'x' }), charge('t2', 1, { creditAccountId: 'y' })], results: ['debit_account_not_found', 'credit_account_not_found'] },
    { name: 'user data over 128 characters', view: ledger(1000), batch: [charge('t1', 1, { userData: 'j'.repeat(129) })], results: ['user_data_too_long'] },
    { name: 'a receivable may not be credited beyond its debits', view: ledger(0), batch: [{ id: 'p', debitAccountId: 'world', creditAccountId: 'voucher', amount: 501, code: 'voucher' }], results: ['exceeds_debits'] },
    { name: 'the same id twice in a batch: the second exists', view: ledger(1000), batch: [charge('t1', 10), charge('t1', 10), charge('t1', 11)], results: ['ok', 'exists', 'exists_with_different_fields'], wallet: { debitsPosted: 10 } },
    { name: 'a hold then its partial post in one batch', view: ledger(1000), batch: [charge('h', 600, { flags: { pending: true } }), { id: 'p', amount: 250, code: 'compute', flags: { postPending: true }, pendingId: 'h' }], results: ['ok', 'ok'], wallet: { debitsPosted: 250 } },
    { name: 'post in part releases the rest', view: held(1000, 800), batch: [{ id: 'p', amount: 300, code: 'compute', flags: { postPending: true }, pendingId: 'h1' }], results: ['ok'], wallet: { debitsPending: -800, debitsPosted: 300 } },
    { name: 'post more than held', view: held(1000, 800), batch: [{ id: 'p', amount: 801, code: 'compute', flags: { postPending: true }, pendingId: 'h1' }], results: ['exceeds_pending_transfer_amount'] },
    { name: 'void releases all; a second post or void is refused', view: held(1000, 800), batch: [{ id: 'v', amount: 0, code: 'compute', flags: { voidPending: true }, pendingId: 'h1' }, { id: 'p', amount: 1, code: 'compute', flags: { postPending: true }, pendingId: 'h1' }], results: ['ok', 'pending_transfer_already_voided'], wallet: { debitsPending: -800 } },
    { name: 'post twice', view: held(1000, 800), batch: [{ id: 'p', amount: 1, code: 'compute', flags: { postPending: true }, pendingId: 'h1' }, { id: 'p2', amount: 1, code: 'compute', flags: { postPending: true }, pendingId: 'h1' }], results: ['ok', 'pending_transfer_already_posted'], wallet: { debitsPending: -800, debitsPosted: 1 } },
    { name: 'a hold past its timeout is expired, not posted', view: held(1000, 800, 1), batch: [{ id: 'p', amount: 1, code: 'compute', flags: { postPending: true }, pendingId: 'h1' }], results: ['pending_transfer_expired'], wallet: { debitsPending: -800 } },
    { name: 'unknown hold, and a plain transfer is not a hold', view: ledger(1000), batch: [charge('t1', 1), { id: 'p', amount: 1, code: 'compute', flags: { postPending: true }, pendingId: 'nope' }, { id: 'p2', amount: 1, code: 'compute', flags: { postPending: true }, pendingId: 't1' }], results: ['ok', 'pending_transfer_not_found', 'pending_transfer_not_pending'], wallet: { debitsPosted: 1 } },
    { name: 'a linked chain with a failing member applies nothing', view: ledger(1000), batch: [charge('a', 100, { flags: { linked: true } }), charge('b', 5000, { flags: { linked: true } }), charge('c', 1), charge('d', 2)], results: ['linked_event_failed', 'exceeds_credits', 'linked_event_failed', 'ok'], wallet: { debitsPosted: 2 } },
    { name: 'a chain left open fails', view: ledger(1000), batch: [charge('a', 100, { flags: { linked: true } }), charge('b', 1, { flags: { linked: true } })], results: ['linked_event_failed', 'linked_event_chain_open'] },
    { name: 'flags that exclude each other', view: ledger(1000), batch: [charge('a', 1, { flags: { pending: true, voidPending: true } })], results: ['flags_are_mutually_exclusive'] },
  ];
  for (const c of cases) {
    it(c.name, { timeout: 5_000 }, () => {
      const o = validateTransfers(c.view, c.batch, NOW);
      assert.deepEqual(o.results, c.results);
      assert.deepEqual(delta(o, 'wallet'), { ...ZERO_BALANCES, ...c.wallet });
    });
  }

  it('a retried chain answers exists for every member and changes nothing', { timeout: 5_000 }, () => {
    const chain = [charge('a', 100, { flags: { linked: true } }), charge('b', 200)];
    const first = validateTransfers(ledger(1000), chain, NOW);
    const view = { accounts: ledger(1000).accounts, transfers: new Map(first.created.map((t) => [t.id, t])) };
    const again = validateTransfers(view, chain, NOW);
    assert.deepEqual(again.results, ['exists', 'exists']);
    assert.equal(again.created.length, 0);
    assert.equal(again.deltas.size, 0);
  });

  it('expireHolds releases only the holds that are due', { timeout: 5_000 }, () => {
    const v = held(1000, 800, 1);
    const o = expireHolds(v.accounts, [...v.transfers.values(), { ...hold('h2', 5, 3600) }], NOW);
    assert.deepEqual(o.statusChanges, [{ id: 'h1', status: 'expired' }]);
    assert.deepEqual(o.deltas.get('wallet'), { ...ZERO_BALANCES, debitsPending: -800 });
  });

  it('property: any batch keeps debits = credits and no wallet below zero', { timeout: 30_000 }, () => {
    const input = fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      debitAccountId: fc.constantFrom('wallet', 'center', 'world', 'voucher'),
      creditAccountId: fc.constantFrom('wallet', 'center', 'world', 'voucher'),
      amount: fc.integer({ min: 0, max: 1500 }),
      code: fc.constant('compute' as const),
      flags: fc.record({ linked: fc.boolean(), pending: fc.boolean() }),
    });
    fc.assert(fc.property(fc.array(input, { maxLength: 12 }), (batch) => {
      const v = ledger(1000);
      const o = validateTransfers(v, batch, NOW);
      let dr = 0;
      let cr = 0;
      for (const [id, d] of o.deltas) {
        dr += d.debitsPending + d.debitsPosted;
        cr += d.creditsPending + d.creditsPosted;
        const a = v.accounts.get(id)!;
        if (a.flag === 'debits_must_not_exceed_credits') assert.ok(a.debitsPending + d.debitsPending + a.debitsPosted + d.debitsPosted <= a.creditsPosted + d.creditsPosted);
      }
      assert.equal(dr, cr);
      assert.equal(o.created.length, o.results.filter((r) => r === 'ok').length);
    }), { seed: 20261204, numRuns: 300 });
  });
});
