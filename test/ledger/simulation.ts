// The ledger's seeded simulation: random operations against a store (holds with timeouts, posts in
// part or in full, voids, expiries by a ManualClock, retries of the same id, linked chains with a
// failing member, concurrent batches, transactions aborted halfway), each checked against an
// independent reference ledger, and the ledger's invariants checked at the end. Used by
// test/ledger/ledger-simulation.test.ts (small) and `npm run bench:ledger -- --simulate` (1,000,000 ops).
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ManualClock } from '../../src/core/clock.js';
import { randomInt, seededRng } from '../../src/core/rng.js';
import { LEDGER_RULES, accountSpec } from '../../src/ledger/index.js';
import type { AccountKind, TransferInput, TransferResult } from '../../src/ledger/index.js';
import type { Store } from '../../src/store/open-database.js';
import { balancesFromTransfers, createAccounts, createTransfers, expirePending, lookupAccounts } from '../../src/store/ledger.js';
import type { LedgerBalances } from '../../src/store/ledger.js';
import { inTransaction } from '../../src/store/transaction.js';
import { ReferenceLedger } from './reference-ledger.js';
import type { ReferencePlan } from './reference-ledger.js';

export interface SimulationOptions {
  readonly seed: number;
  /** Operations to run: each transfer sent counts one, and so does each clock move, sweep or crash. */
  readonly ops: number;
  /** Compare every account with the reference every this many operations (and at the end). */
  readonly checkEvery?: number;
}

export interface SimulationReport {
  readonly ops: number;
  readonly batches: number;
  readonly transfers: number;
  readonly results: Readonly<Record<string, number>>;
  readonly concurrentPairs: number;
  readonly crashes: number;
  readonly expired: number;
}

const T0 = Date.UTC(2026, 0, 1);
const ORGS = 8;
const CENTERS = 3;
const PROVIDERS = 2;
const PROGRAMS = 2;

/** Thrown inside a transaction to abort it halfway ("a crash between steps"). */
class Crash extends Error {}

interface Job {
  readonly id: string;
  attempt: number;
  holdId: string | undefined;
  wallet: string;
}

/** Runs the simulation on `store` (fresh and migrated) and asserts along the way; throws on the first difference. */
export async function simulate(store: Store, options: SimulationOptions): Promise<SimulationReport> {
  const rng = seededRng(options.seed);
  const clock = new ManualClock(T0);
  const ref = new ReferenceLedger();
  const db = store.db;
  const int = (lo: number, hi: number): number => lo + randomInt(rng, hi - lo + 1);
  const pick = <T>(xs: readonly T[]): T => xs[randomInt(rng, xs.length)]!;
  const chance = (p: number): boolean => rng.next() < p;

  const specs: { id: string; kind: AccountKind }[] = [{ id: 'world', kind: 'world' }, { id: 'operator', kind: 'operator-fees' }];
  for (let i = 0; i < ORGS; i++) specs.push({ id: `org${i}:paid`, kind: 'org-paid' }, { id: `org${i}:granted`, kind: 'org-granted' });
  for (let i = 0; i < CENTERS; i++) specs.push({ id: `center${i}`, kind: 'center-earnings' });
  for (let i = 0; i < PROVIDERS; i++) specs.push({ id: `provider${i}`, kind: 'provider-earnings' });
  for (let i = 0; i < PROGRAMS; i++) specs.push({ id: `voucher${i}`, kind: 'voucher-receivable' });
  const created = await createAccounts(db, clock, specs.map((s) => accountSpec(s.id, s.kind, s.id)));
  assert.ok(created.every((r) => r === 'ok'));
  assert.deepEqual(await createAccounts(db, clock, specs.map((s) => accountSpec(s.id, s.kind, s.id))), specs.map(() => 'exists'), 'accounts are idempotent');
  for (const s of specs) ref.addAccount(s.id, accountSpec(s.id, s.kind, s.id).flag);
  const wallets = specs.filter((s) => s.kind === 'org-paid' || s.kind === 'org-granted').map((s) => s.id);
  const centers = specs.filter((s) => s.kind === 'center-earnings').map((s) => s.id);
  const earners = specs.filter((s) => s.kind.endsWith('earnings') || s.kind === 'operator-fees').map((s) => s.id);
  const programs = specs.filter((s) => s.kind === 'voucher-receivable').map((s) => s.id);

  let seq = 0;
  const nextId = (what: string): string => `${what}-${++seq}`;
  const jobs: Job[] = [];
  const sent: TransferInput[] = [];
  const remember = (t: TransferInput): TransferInput => {
    if (sent.length < 4096) sent.push(t);
    else sent[randomInt(rng, sent.length)] = t;
    return t;
  };

  /** One random transfer, or a short linked chain (an app launch split three ways). */
  const randomTransfers = (): TransferInput[] => {
    const r = rng.next();
    if (r < 0.12) return [{ id: nextId('topup'), debitAccountId: 'world', creditAccountId: pick(wallets.filter((w) => w.endsWith('paid'))), amount: int(10_000, 500_000), code: 'top-up' }];
    if (r < 0.18) {
      // A voucher program grants credit (its receivable grows) ...
      return [{ id: nextId('grant'), debitAccountId: pick(programs), creditAccountId: pick(wallets.filter((w) => w.endsWith('granted'))), amount: int(1_000, 100_000), code: 'grant' }];
    }
    if (r < 0.21) {
      // ... and its sponsor pays (may exceed what is owed: exceeds_debits).
      return [{ id: nextId('sponsor'), debitAccountId: 'world', creditAccountId: pick(programs), amount: int(1_000, 200_000), code: 'voucher' }];
    }
    if (r < 0.45) {
      // A placement holds the estimate (a new job, or a job requeued after its hold ended).
      let job = jobs.length > 0 && chance(0.3) ? pick(jobs) : undefined;
      if (job && job.holdId && ref.transfer(job.holdId)?.status !== 'voided' && ref.transfer(job.holdId)?.status !== 'expired') job = undefined;
      if (!job) {
        job = { id: `job${jobs.length}`, attempt: 0, holdId: undefined, wallet: pick(wallets) };
        jobs.push(job);
      }
      job.attempt++;
      job.holdId = `hold-${job.id}-${job.attempt}`;
      const timeoutSeconds = chance(0.5) ? int(1, 3600) : undefined;
      return [{ id: job.holdId, debitAccountId: job.wallet, creditAccountId: pick(centers), amount: int(100, 60_000), code: 'compute', userData: job.id, flags: { pending: true }, timeoutSeconds }];
    }
    if (r < 0.65 && jobs.length > 0) {
      // A job ends: post its actual use (in part or in full; sometimes too much), or void on requeue.
      const job = pick(jobs);
      if (!job.holdId) return [];
      const hold = ref.transfer(job.holdId);
      const amount = hold ? (chance(0.3) ? hold.amount : chance(0.1) ? hold.amount + int(1, 100) : int(1, hold.amount)) : int(1, 1000);
      const accounts = hold && chance(0.5) ? { debitAccountId: hold.dr, creditAccountId: hold.cr } : {};
      if (chance(0.7)) return [{ id: `post-${job.holdId}`, ...accounts, amount, code: 'compute', userData: job.id, flags: { postPending: true }, pendingId: job.holdId }];
      return [{ id: `void-${job.holdId}`, ...accounts, amount: chance(0.5) || !hold ? 0 : hold.amount, code: 'compute', userData: job.id, flags: { voidPending: true }, pendingId: job.holdId }];
    }
    if (r < 0.75) {
      // A store app launch: provider, center and operator paid together, or not at all.
      const wallet = pick(wallets);
      const chain: TransferInput[] = [
        { id: nextId('app-provider'), debitAccountId: wallet, creditAccountId: pick(earners.filter((e) => e.startsWith('provider'))), amount: int(100, 20_000), code: 'app-fee', flags: { linked: true } },
        { id: nextId('app-center'), debitAccountId: wallet, creditAccountId: pick(centers), amount: int(100, 20_000), code: 'app-fee', flags: { linked: true } },
        { id: nextId('app-fee'), debitAccountId: wallet, creditAccountId: 'operator', amount: int(10, 2_000), code: 'app-fee' },
      ];
      const broken = rng.next();
      if (broken < 0.15) chain[1] = { ...chain[1]!, creditAccountId: 'no-such-account' };
      else if (broken < 0.25) chain[2] = { ...chain[2]!, amount: 1_000_000_000 };
      else if (broken < 0.3) chain[2] = { ...chain[2]!, flags: { linked: true } }; // left open
      return chain;
    }
    if (r < 0.82) return [{ id: nextId('payout'), debitAccountId: pick(earners), creditAccountId: 'world', amount: int(1_000, 300_000), code: 'payout' }];
    if (r < 0.95 && sent.length > 0) {
      // A retry of something sent before: the same fields, or (rarely) a changed amount.
      const t = pick(sent);
      return [chance(0.85) ? t : { ...t, amount: t.amount + 7 }];
    }
    return [{ id: nextId('charge'), debitAccountId: pick(wallets), creditAccountId: pick(earners), amount: int(1, 50_000), code: 'compute' }];
  };

  const randomBatch = (): TransferInput[] => {
    const size = chance(0.6) ? 1 : int(2, 12);
    const batch: TransferInput[] = [];
    while (batch.length < size) batch.push(...randomTransfers().map(remember));
    return batch;
  };

  const counts: Record<string, number> = {};
  const tally = (rs: readonly TransferResult[]): void => {
    for (const r of rs) counts[r] = (counts[r] ?? 0) + 1;
  };
  const where = (op: number, what: string): string => `seed ${options.seed}, op ${op} (${what})`;

  const checkBalances = async (op: number, what: string): Promise<void> => {
    const stored = await lookupAccounts(db, specs.map((s) => s.id));
    for (const a of stored) {
      const m = ref.account(a.id)!;
      assert.deepEqual(
        [a.debitsPending, a.debitsPosted, a.creditsPending, a.creditsPosted],
        [m.dp, m.dpo, m.cp, m.cpo],
        `${where(op, what)}: account ${a.id} stored balances differ from the reference`,
      );
    }
  };

  let op = 0;
  let batches = 0;
  let transfers = 0;
  let concurrentPairs = 0;
  let crashes = 0;
  let expired = 0;
  const checkEvery = options.checkEvery ?? 50;
  let nextCheck = checkEvery;
  while (op < options.ops) {
    const r = rng.next();
    let what: string;
    if (r < 0.05) {
      what = 'clock';
      clock.advance(int(1, 1800) * 1000);
      op++;
    } else if (r < 0.08) {
      what = 'expirePending';
      let n: number;
      let total = 0;
      do {
        n = await expirePending(db, clock, LEDGER_RULES, 50);
        total += n;
      } while (n === 50);
      assert.equal(total, ref.expireDue(clock.now()), `${where(op, what)}: holds expired`);
      expired += total;
      op++;
    } else if (r < 0.11) {
      what = 'crash';
      const batch = randomBatch();
      await assert.rejects(
        inTransaction(db, async (trx) => {
          await createTransfers(trx, clock, batch, LEDGER_RULES);
          if (chance(0.5)) await expirePending(trx, clock, LEDGER_RULES);
          throw new Crash('crash between steps');
        }),
        Crash,
      );
      crashes++;
      op += batch.length;
      await checkBalances(op, what);
    } else if (r < 0.17) {
      // Two callers at once (on PostgreSQL they really overlap): sometimes the very same batch twice.
      what = 'concurrent';
      const a = randomBatch();
      const b = chance(0.3) ? a : randomBatch();
      const now = clock.now();
      const [ra, rb] = await Promise.all([createTransfers(db, clock, a, LEDGER_RULES), createTransfers(db, clock, b, LEDGER_RULES)]);
      const ab = ref.plan(a, now);
      const abThenB = ref.plan(b, now, ab);
      let chosen: ReferencePlan;
      if (same(ab.results, ra) && same(abThenB.results, rb)) chosen = abThenB;
      else {
        const ba = ref.plan(b, now);
        const baThenA = ref.plan(a, now, ba);
        assert.ok(same(ba.results, rb) && same(baThenA.results, ra), `${where(op, what)}: results match neither order\n a=${JSON.stringify(a)}\n ra=${JSON.stringify(ra)}\n b=${JSON.stringify(b)}\n rb=${JSON.stringify(rb)}\n ref a,b=${JSON.stringify([ab.results, abThenB.results])}`);
        chosen = baThenA;
      }
      chosen.commit();
      tally(ra);
      tally(rb);
      concurrentPairs++;
      batches += 2;
      transfers += a.length + b.length;
      op += a.length + b.length;
    } else {
      what = 'batch';
      const batch = randomBatch();
      const plan = ref.plan(batch, clock.now());
      const results = await createTransfers(db, clock, batch, LEDGER_RULES);
      assert.deepEqual(results, plan.results, `${where(op, what)}: results differ from the reference for ${JSON.stringify(batch)}`);
      plan.commit();
      tally(results);
      batches++;
      transfers += batch.length;
      op += batch.length;
    }
    if (op >= nextCheck) {
      await checkBalances(op, what);
      nextCheck = op + checkEvery;
    }
  }
  await checkBalances(op, 'end');
  await checkInvariants(store, ref, options.seed, specs.map((s) => s.id));
  return { ops: op, batches, transfers, results: counts, concurrentPairs, crashes, expired };
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The ledger's invariants, read from the database alone (plus the reference for "applied once"). */
export async function checkInvariants(store: Store, ref: ReferenceLedger, seed: number, accountIds: readonly string[]): Promise<void> {
  const db = store.db;
  const at = `seed ${seed}, invariants`;
  const accounts = await lookupAccounts(db, accountIds);
  const sum = (f: (b: LedgerBalances) => number): number => accounts.reduce((s, a) => s + f(a), 0);
  assert.equal(sum((a) => a.debitsPosted), sum((a) => a.creditsPosted), `${at}: posted debits = posted credits`);
  assert.equal(sum((a) => a.debitsPending), sum((a) => a.creditsPending), `${at}: pending debits = pending credits`);
  for (const a of accounts) {
    if (a.flag === 'debits_must_not_exceed_credits') assert.ok(a.debitsPending + a.debitsPosted <= a.creditsPosted, `${at}: ${a.id} below its floor`);
    if (a.flag === 'credits_must_not_exceed_debits') assert.ok(a.creditsPending + a.creditsPosted <= a.debitsPosted, `${at}: ${a.id} below its floor`);
  }
  const derived = await balancesFromTransfers(db);
  for (const a of accounts) {
    const { id, kind: _k, ownerId: _o, flag: _f, ...stored } = a;
    assert.deepEqual(derived.get(id), stored, `${at}: ${id}'s stored balances = the sum of its transfers`);
  }
  const { rows: counted } = await sql<{ n: string; ids: string }>`SELECT count(*)::text AS n, count(DISTINCT id)::text AS ids FROM ledger_transfers`.execute(db);
  assert.equal(Number(counted[0]!.n), ref.transfers.size, `${at}: every transfer applied once (stored count = the reference's)`);
  assert.equal(counted[0]!.ids, counted[0]!.n);
  const { rows: twice } = await sql<{ job: string; posts: string }>`
    SELECT h.user_data AS job, count(*)::text AS posts FROM ledger_transfers p JOIN ledger_transfers h ON h.id = p.pending_id
    WHERE p.phase = 'post_pending' GROUP BY h.user_data HAVING count(*) > 1`.execute(db);
  assert.deepEqual(twice, [], `${at}: every job charged at most once`);
  const { rows: statuses } = await sql<{ id: string; status: string }>`SELECT id, status FROM ledger_transfers WHERE phase = 'pending'`.execute(db);
  for (const s of statuses) assert.equal(s.status, ref.transfer(s.id)?.status, `${at}: hold ${s.id}'s status`);
}

/** The seed to run: SUANWANG_LEDGER_SEED replays one, otherwise the fixed default. */
export function simulationSeed(fallback: number): number {
  const env = process.env.SUANWANG_LEDGER_SEED;
  return env === undefined || env === '' ? fallback : Number(env);
}
