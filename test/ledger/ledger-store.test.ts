// The ledger's store on both databases: concurrent callers against one wallet, the same id sent at
// once, a transaction aborted halfway, expiry, reads, and bigint beyond a safe number.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ManualClock } from '../../src/core/clock.js';
import { LEDGER_RULES, accountSpec } from '../../src/ledger/index.js';
import type { TransferInput } from '../../src/ledger/index.js';
import { openStore } from '../../src/store/open-database.js';
import type { Store } from '../../src/store/open-database.js';
import { accountTransfers, balancesFromTransfers, createAccounts, createTransfers, expirePending, lookupAccounts, lookupTransfers } from '../../src/store/ledger.js';
import { inTransaction } from '../../src/store/transaction.js';
import { testDatabases } from '../support/databases.js';

const T0 = Date.UTC(2026, 0, 1);

for (const target of await testDatabases()) {
  describe(`ledger store on ${target.name}`, { skip: target.skip }, () => {
    /** A fresh store with a world account, a center and a wallet topped up with `credit` fen. */
    const withLedger = (credit: number, body: (store: Store, clock: ManualClock) => Promise<void>) => async () => {
      const { databaseUrl, drop } = await target.fresh();
      try {
        const store = await openStore({ databaseUrl });
        try {
          const clock = new ManualClock(T0);
          await createAccounts(store.db, clock, [accountSpec('world', 'world', 'platform'), accountSpec('wallet', 'org-paid', 'org1'), accountSpec('center', 'center-earnings', 'c1')]);
          assert.deepEqual(await createTransfers(store.db, clock, [{ id: 'topup', debitAccountId: 'world', creditAccountId: 'wallet', amount: credit, code: 'top-up' }], LEDGER_RULES), ['ok']);
          await body(store, clock);
        } finally {
          await store.close();
        }
      } finally {
        await drop();
      }
    };
    const charge = (id: string, amount: number, extra: Partial<TransferInput> = {}): TransferInput => ({ id, debitAccountId: 'wallet', creditAccountId: 'center', amount, code: 'compute', ...extra });
    const wallet = async (store: Store) => (await lookupAccounts(store.db, ['wallet']))[0]!;

    it('twenty callers at once against one wallet never overdraw it', { timeout: 60_000 }, withLedger(1000, async (store, clock) => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => createTransfers(store.db, clock, [charge(`c${i}`, 100)], LEDGER_RULES)));
      const flat = results.flat();
      assert.equal(flat.filter((r) => r === 'ok').length, 10);
      assert.equal(flat.filter((r) => r === 'exceeds_credits').length, 10);
      const w = await wallet(store);
      assert.equal(w.debitsPosted, 1000);
      assert.deepEqual((await balancesFromTransfers(store.db)).get('wallet'), { debitsPending: 0, debitsPosted: 1000, creditsPending: 0, creditsPosted: 1000 });
    }));

    it('the same transfer id sent by eight callers at once applies once', { timeout: 60_000 }, withLedger(1000, async (store, clock) => {
      const results = await Promise.all(Array.from({ length: 8 }, () => createTransfers(store.db, clock, [charge('once', 300, { userData: 'job-1' })], LEDGER_RULES)));
      assert.deepEqual(results.flat().sort(), ['exists', 'exists', 'exists', 'exists', 'exists', 'exists', 'exists', 'ok']);
      assert.equal((await wallet(store)).debitsPosted, 300);
      assert.equal((await lookupTransfers(store.db, ['once'])).length, 1);
    }));

    it('a transaction aborted after its writes leaves nothing of them', { timeout: 60_000 }, withLedger(1000, async (store, clock) => {
      await assert.rejects(inTransaction(store.db, async (trx) => {
        assert.deepEqual(await createTransfers(trx, clock, [charge('h', 600, { flags: { pending: true } }), charge('t', 100)], LEDGER_RULES), ['ok', 'ok']);
        throw new Error('crash between steps');
      }), /crash between steps/);
      assert.deepEqual(await lookupTransfers(store.db, ['h', 't']), []);
      const w = await wallet(store);
      assert.deepEqual([w.debitsPending, w.debitsPosted], [0, 0]);
      // ... and the caller's transaction commits with it when it does not throw.
      await inTransaction(store.db, (trx) => createTransfers(trx, clock, [charge('t', 100)], LEDGER_RULES));
      assert.equal((await wallet(store)).debitsPosted, 100);
    }));

    it('a hold expires after its timeout: expirePending releases it and a later post is refused', { timeout: 60_000 }, withLedger(1000, async (store, clock) => {
      assert.deepEqual(await createTransfers(store.db, clock, [charge('h', 700, { flags: { pending: true }, timeoutSeconds: 60 })], LEDGER_RULES), ['ok']);
      assert.deepEqual(await createTransfers(store.db, clock, [charge('t', 301)], LEDGER_RULES), ['exceeds_credits']);
      clock.advance(59_000);
      assert.equal(await expirePending(store.db, clock, LEDGER_RULES), 0);
      clock.advance(1_000);
      assert.equal(await expirePending(store.db, clock, LEDGER_RULES), 1);
      assert.equal((await wallet(store)).debitsPending, 0);
      assert.deepEqual(await createTransfers(store.db, clock, [{ id: 'p', amount: 700, code: 'compute', flags: { postPending: true }, pendingId: 'h' }], LEDGER_RULES), ['pending_transfer_expired']);
      assert.equal((await lookupTransfers(store.db, ['h']))[0]!.status, 'expired');
    }));

    it('a post in part records the posted amount and releases the rest; accountTransfers reads the history in order', { timeout: 60_000 }, withLedger(1000, async (store, clock) => {
      await createTransfers(store.db, clock, [charge('h', 700, { flags: { pending: true }, userData: 'job-7' })], LEDGER_RULES);
      clock.advance(5_000);
      assert.deepEqual(await createTransfers(store.db, clock, [{ id: 'p', amount: 250, code: 'compute', flags: { postPending: true }, pendingId: 'h', userData: 'job-7' }], LEDGER_RULES), ['ok']);
      const w = await wallet(store);
      assert.deepEqual([w.debitsPending, w.debitsPosted], [0, 250]);
      const history = await accountTransfers(store.db, 'wallet');
      assert.deepEqual(history.map((t) => [t.id, t.amount, t.status]), [['topup', 1000, null], ['h', 700, 'posted'], ['p', 250, null]]);
      assert.deepEqual((await accountTransfers(store.db, 'wallet', { from: T0 + 1000 })).map((t) => t.id), ['p']);
    }));

    it('a balance beyond 2^53 fen fails loudly rather than rounding', { timeout: 60_000 }, withLedger(1000, async (store) => {
      await sql`UPDATE ledger_accounts SET credits_posted = 9007199254740993 WHERE id = 'world'`.execute(store.db);
      await assert.rejects(lookupAccounts(store.db, ['world']), RangeError);
    }));
  });
}
