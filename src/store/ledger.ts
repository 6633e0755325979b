// The ledger's repository: accounts with their balances, immutable transfers, and the one place that
// writes them (createTransfers, expirePending). The rules live in src/ledger (validateTransfers,
// expireHolds); src/store may not import src/ledger (the dependency direction), so a caller hands
// them in as `LedgerRules` and the types below mirror src/ledger/model.ts structurally.
import { sql } from 'kysely';
import type { Selectable, Transaction } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { Database, LedgerAccountsTable, LedgerTransfersTable } from './schema.js';
import type { Queryable } from './transaction.js';

/** The four balances of an account, in fen. */
export interface LedgerBalances {
  readonly debitsPending: number;
  readonly debitsPosted: number;
  readonly creditsPending: number;
  readonly creditsPosted: number;
}

export interface LedgerAccount extends LedgerBalances {
  readonly id: string;
  readonly kind: string;
  readonly ownerId: string;
  readonly flag: string;
}

export interface LedgerTransfer {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: number;
  readonly code: string;
  readonly userData: string | null;
  readonly phase: string;
  readonly linked: boolean;
  readonly pendingId: string | null;
  readonly timeoutSeconds: number;
  readonly timestamp: number;
  readonly expiresAt: number | null;
  readonly status: string | null;
}

/** What the store needs of a transfer request to find the rows it touches. */
export interface TransferRequest {
  readonly id: string;
  readonly debitAccountId?: string | undefined;
  readonly creditAccountId?: string | undefined;
  readonly pendingId?: string | undefined;
}

export interface LedgerWrites {
  readonly statusChanges: readonly { readonly id: string; readonly status: string }[];
  readonly deltas: ReadonlyMap<string, LedgerBalances>;
}

/**
 * src/ledger/validate-transfers.ts's `validateTransfers` and `expireHolds` (pass `LEDGER_RULES` from
 * src/ledger/index.ts). Methods, so src/ledger's narrower types (kind and code unions) fit.
 */
export interface LedgerRules<I extends TransferRequest, R> {
  validateTransfers(view: { readonly accounts: ReadonlyMap<string, LedgerAccount>; readonly transfers: ReadonlyMap<string, LedgerTransfer> }, inputs: readonly I[], now: number): LedgerWrites & { readonly results: readonly R[]; readonly created: readonly LedgerTransfer[] };
  expireHolds(accounts: ReadonlyMap<string, LedgerAccount>, holds: readonly LedgerTransfer[], now: number): LedgerWrites;
}

export type CreateAccountResult = 'ok' | 'exists' | 'exists_with_different_fields';

type AccountRow = Selectable<LedgerAccountsTable>;

const toAccount = (r: AccountRow): LedgerAccount => ({
  id: r.id,
  kind: r.kind,
  ownerId: r.owner_id,
  flag: r.flag,
  debitsPending: Number(r.debits_pending),
  debitsPosted: Number(r.debits_posted),
  creditsPending: Number(r.credits_pending),
  creditsPosted: Number(r.credits_posted),
});

/** A transfer as read (`seq` is the insertion order, used only to sort). */
type TransferRow = Omit<Selectable<LedgerTransfersTable>, 'seq'>;

const TRANSFER_COLUMNS = ['id', 'debit_account_id', 'credit_account_id', 'amount', 'code', 'user_data', 'phase', 'linked', 'pending_id', 'timeout_seconds', 'created_at', 'expires_at', 'status'] as const;

const toTransfer = (r: TransferRow): LedgerTransfer => ({
  id: r.id,
  debitAccountId: r.debit_account_id,
  creditAccountId: r.credit_account_id,
  amount: Number(r.amount),
  code: r.code,
  userData: r.user_data,
  phase: r.phase,
  linked: r.linked,
  pendingId: r.pending_id,
  timeoutSeconds: r.timeout_seconds,
  timestamp: r.created_at.getTime(),
  expiresAt: r.expires_at === null ? null : r.expires_at.getTime(),
  status: r.status,
});

/** A bigint read as text (sums are numeric): a whole number of fen within 2^53, or a loud failure. */
function fenOf(text: string | number | bigint, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what}: ${String(text)} fen is not a safe integer`);
  return n;
}

/**
 * Creates accounts (balances zero), each id once: a retry with the same fields answers `exists`, with
 * other fields (or an owner that already has an account of that kind) `exists_with_different_fields`.
 */
export async function createAccounts(q: Queryable, clock: Clock, accounts: readonly Pick<LedgerAccount, 'id' | 'kind' | 'ownerId' | 'flag'>[]): Promise<CreateAccountResult[]> {
  if (accounts.length === 0) return [];
  const at = new Date(clock.now());
  const inserted = await q
    .insertInto('ledger_accounts')
    .values(accounts.map((a) => ({ id: a.id, kind: a.kind, owner_id: a.ownerId, flag: a.flag, created_at: at })))
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .execute();
  const fresh = new Set(inserted.map((r) => r.id));
  const others = await lookupAccounts(q, accounts.filter((a) => !fresh.has(a.id)).map((a) => a.id));
  const byId = new Map(others.map((a) => [a.id, a]));
  return accounts.map((a) => {
    if (fresh.has(a.id)) return 'ok';
    const had = byId.get(a.id);
    return had && had.kind === a.kind && had.ownerId === a.ownerId && had.flag === a.flag ? 'exists' : 'exists_with_different_fields';
  });
}

/** The accounts with these ids that exist, in id order. */
export async function lookupAccounts(q: Queryable, ids: readonly string[]): Promise<LedgerAccount[]> {
  if (ids.length === 0) return [];
  const rows = await q.selectFrom('ledger_accounts').selectAll().where('id', 'in', [...new Set(ids)]).orderBy('id').execute();
  return rows.map(toAccount);
}

/** The transfers with these ids that exist, in the order they were written. */
export async function lookupTransfers(q: Queryable, ids: readonly string[]): Promise<LedgerTransfer[]> {
  if (ids.length === 0) return [];
  const rows = await q.selectFrom('ledger_transfers').select(TRANSFER_COLUMNS).where(sql<boolean>`id = ANY(${[...new Set(ids)]}::text[])`).orderBy('seq').execute();
  return rows.map(toTransfer);
}

export interface TransferRange {
  /** Epoch ms, inclusive. */
  readonly from?: number;
  /** Epoch ms, exclusive. */
  readonly to?: number;
  readonly limit?: number;
}

/** An account's transfers (debits and credits) within `range`, oldest first (at most `limit`, default 1,000). */
export async function accountTransfers(q: Queryable, accountId: string, range: TransferRange = {}): Promise<LedgerTransfer[]> {
  let query = q
    .selectFrom('ledger_transfers')
    .select(TRANSFER_COLUMNS)
    .where((eb) => eb.or([eb('debit_account_id', '=', accountId), eb('credit_account_id', '=', accountId)]));
  if (range.from !== undefined) query = query.where('created_at', '>=', new Date(range.from));
  if (range.to !== undefined) query = query.where('created_at', '<', new Date(range.to));
  const rows = await query.orderBy('seq').limit(range.limit ?? 1000).execute();
  return rows.map(toTransfer);
}

/**
 * Every account's balances recomputed from the transfers alone (posted: plain transfers and posts;
 * pending: holds still pending), for the invariant "stored balances = the sum of transfers".
 */
export async function balancesFromTransfers(q: Queryable): Promise<Map<string, LedgerBalances>> {
  // Two sequential reads of the transfers (as debits, as credits) summed per account: no per-account probes.
  const { rows } = await sql<{ id: string; dp: string; dpo: string; cp: string; cpo: string }>`
    SELECT a.id, coalesce(s.dp, 0)::text AS dp, coalesce(s.dpo, 0)::text AS dpo, coalesce(s.cp, 0)::text AS cp, coalesce(s.cpo, 0)::text AS cpo
    FROM ledger_accounts a LEFT JOIN (
      SELECT account_id, sum(dp) AS dp, sum(dpo) AS dpo, sum(cp) AS cp, sum(cpo) AS cpo FROM (
        SELECT debit_account_id AS account_id,
          CASE WHEN status = 'pending' THEN amount ELSE 0 END AS dp,
          CASE WHEN phase IN ('single', 'post_pending') THEN amount ELSE 0 END AS dpo, 0 AS cp, 0 AS cpo
        FROM ledger_transfers
        UNION ALL
        SELECT credit_account_id, 0, 0,
          CASE WHEN status = 'pending' THEN amount ELSE 0 END,
          CASE WHEN phase IN ('single', 'post_pending') THEN amount ELSE 0 END
        FROM ledger_transfers
      ) m GROUP BY account_id
    ) s ON s.account_id = a.id`.execute(q);
  return new Map(rows.map((r) => [r.id, { debitsPending: fenOf(r.dp, r.id), debitsPosted: fenOf(r.dpo, r.id), creditsPending: fenOf(r.cp, r.id), creditsPosted: fenOf(r.cpo, r.id) }]));
}

const UNIQUE_VIOLATION = '23505';
const DEADLOCK = '40P01';
const RETRIES = 5;

/** A hold named by the batch was committed between its first read and the account locks. */
class BatchRaced extends Error {}

/**
 * Applies a batch of transfers in ONE transaction (its own, or `q` when `q` is one) and returns a
 * result per transfer, in order. A batch only ever wholly commits or wholly rolls back.
 */
export async function createTransfers<I extends TransferRequest, R>(q: Queryable, clock: Clock, transfers: readonly I[], rules: LedgerRules<I, R>): Promise<R[]> {
  if (transfers.length === 0) return [];
  if (q.isTransaction) return createTransfersIn(q as Transaction<Database>, clock.now(), transfers, rules, false);
  for (let attempt = 1; ; attempt++) {
    try {
      return await q.transaction().execute((trx) => createTransfersIn(trx, clock.now(), transfers, rules, true));
    } catch (error) {
      // The same new id sent at once by two batches that share no account: both pass validation and
      // the primary key refuses the second. Again from the start, it finds the first and says `exists`.
      // A deadlock (only possible with a caller's out-of-order locks) or a hold that raced the lock: again.
      const again = error instanceof BatchRaced || [UNIQUE_VIOLATION, DEADLOCK].includes((error as { code?: string }).code ?? '');
      if (!again || attempt >= RETRIES) throw error;
    }
  }
}

/*
 * Locking. Every write to an account's balances and every change of a hold's status happens while
 * holding the row locks of the accounts involved (a hold's status changes only with both its
 * accounts locked). Locks are taken in one statement ordered by id, so two batches always lock in the
 * same order and never deadlock; the second waits, then (READ COMMITTED: each statement sees what
 * has committed) reads the transfers after the first's commit — an id sent twice applies once, a
 * hold is posted once, and a wallet is never overdrawn. The holds' accounts are read before locking,
 * without a lock: a transfer's accounts never change.
 */
async function createTransfersIn<I extends TransferRequest, R>(trx: Transaction<Database>, now: number, inputs: readonly I[], rules: LedgerRules<I, R>, ownTransaction: boolean): Promise<R[]> {
  const pendingIds = [...new Set(inputs.flatMap((t) => (t.pendingId ? [t.pendingId] : [])))];
  const accountIds = new Set<string>();
  for (const t of inputs) {
    if (t.debitAccountId !== undefined) accountIds.add(t.debitAccountId);
    if (t.creditAccountId !== undefined) accountIds.add(t.creditAccountId);
  }
  if (pendingIds.length > 0) {
    const holds = await trx.selectFrom('ledger_transfers').select(['debit_account_id', 'credit_account_id']).where(sql<boolean>`id = ANY(${pendingIds}::text[])`).execute();
    for (const h of holds) accountIds.add(h.debit_account_id).add(h.credit_account_id);
  }
  const accounts = await lockAccounts(trx, [...accountIds]);
  const named = [...new Set([...inputs.map((t) => t.id), ...pendingIds])];
  let transfers = new Map((await lookupTransfers(trx, named)).map((t) => [t.id, t]));
  // A hold committed by another batch between the first read and the lock: its accounts are not
  // locked yet. In a transaction of our own, start again (the locks come in order then); inside the
  // caller's, lock them now (out of order: PostgreSQL would report a deadlock, never hang) and re-read.
  const unlocked = pendingIds.flatMap((id) => {
    const h = transfers.get(id);
    return h ? [h.debitAccountId, h.creditAccountId].filter((a) => !accounts.has(a)) : [];
  });
  if (unlocked.length > 0) {
    if (ownTransaction) throw new BatchRaced();
    for (const [id, a] of await lockAccounts(trx, unlocked)) accounts.set(id, a);
    transfers = new Map((await lookupTransfers(trx, named)).map((t) => [t.id, t]));
  }
  const outcome = rules.validateTransfers({ accounts, transfers }, inputs, now);
  await insertTransfers(trx, outcome.created);
  await write(trx, outcome);
  return [...outcome.results];
}

/**
 * One multi-row INSERT whatever the batch size: the columns go as 13 arrays through unnest(), so the
 * statement has 13 parameters instead of 13 per row (parsing and binding 13,000 was most of a batch).
 */
async function insertTransfers(trx: Transaction<Database>, created: readonly LedgerTransfer[]): Promise<void> {
  if (created.length === 0) return;
  const col = <T>(f: (t: LedgerTransfer) => T): T[] => created.map(f);
  await sql`INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, code, user_data, phase, linked,
      pending_id, timeout_seconds, created_at, expires_at, status)
    SELECT * FROM unnest(${col((t) => t.id)}::text[], ${col((t) => t.debitAccountId)}::text[], ${col((t) => t.creditAccountId)}::text[],
      ${col((t) => t.amount)}::bigint[], ${col((t) => t.code)}::text[], ${col((t) => t.userData)}::text[], ${col((t) => t.phase)}::text[],
      ${col((t) => t.linked)}::boolean[], ${col((t) => t.pendingId)}::text[], ${col((t) => t.timeoutSeconds)}::integer[],
      ${col((t) => new Date(t.timestamp))}::timestamptz[], ${col((t) => (t.expiresAt === null ? null : new Date(t.expiresAt)))}::timestamptz[],
      ${col((t) => t.status)}::text[])`.execute(trx);
}

/** Locks the accounts with these ids (in id order: see the locking note) and reads their balances. */
async function lockAccounts(trx: Transaction<Database>, ids: readonly string[]): Promise<Map<string, LedgerAccount>> {
  if (ids.length === 0) return new Map();
  const rows = await trx.selectFrom('ledger_accounts').selectAll().where(sql<boolean>`id = ANY(${[...new Set(ids)]}::text[])`).orderBy('id').forUpdate().execute();
  return new Map(rows.map((r) => [r.id, toAccount(r)]));
}

/** Hold statuses, then balances: one statement each whatever the batch size (arrays through unnest, as the insert). */
async function write(trx: Transaction<Database>, w: LedgerWrites): Promise<void> {
  if (w.statusChanges.length > 0) {
    await sql`UPDATE ledger_transfers t SET status = v.status
      FROM unnest(${w.statusChanges.map((c) => c.id)}::text[], ${w.statusChanges.map((c) => c.status)}::text[]) AS v(id, status)
      WHERE t.id = v.id`.execute(trx);
  }
  if (w.deltas.size > 0) {
    const ds = [...w.deltas];
    const col = (f: (d: LedgerBalances) => number): number[] => ds.map(([, d]) => f(d));
    await sql`UPDATE ledger_accounts a SET
        debits_pending = a.debits_pending + v.dp, debits_posted = a.debits_posted + v.dpo,
        credits_pending = a.credits_pending + v.cp, credits_posted = a.credits_posted + v.cpo
      FROM unnest(${ds.map(([id]) => id)}::text[], ${col((d) => d.debitsPending)}::bigint[], ${col((d) => d.debitsPosted)}::bigint[],
        ${col((d) => d.creditsPending)}::bigint[], ${col((d) => d.creditsPosted)}::bigint[]) AS v(id, dp, dpo, cp, cpo)
      WHERE a.id = v.id`.execute(trx);
  }
}

/**
 * Expires up to `limit` holds whose timeout has passed at `clock.now()`, releasing their amounts,
 * in one transaction; returns how many it expired (call again while it returns `limit`).
 */
export async function expirePending<I extends TransferRequest, R>(q: Queryable, clock: Clock, rules: LedgerRules<I, R>, limit = 1000): Promise<number> {
  const now = clock.now();
  const run = async (trx: Transaction<Database>): Promise<number> => {
    const due = await trx
      .selectFrom('ledger_transfers')
      .select(['id', 'debit_account_id', 'credit_account_id'])
      .where('status', '=', 'pending')
      .where('expires_at', '<=', new Date(now))
      .orderBy('expires_at')
      .limit(limit)
      .execute();
    if (due.length === 0) return 0;
    const accounts = await lockAccounts(trx, [...new Set(due.flatMap((d) => [d.debit_account_id, d.credit_account_id]))]);
    // Read again under the locks: a batch may have posted, voided or expired some meanwhile.
    const holds = (await lookupTransfers(trx, due.map((d) => d.id))).filter((t) => t.status === 'pending');
    const w = rules.expireHolds(accounts, holds, now);
    await write(trx, w);
    return w.statusChanges.length;
  };
  return q.isTransaction ? run(q as Transaction<Database>) : q.transaction().execute(run);
}
