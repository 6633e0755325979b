// The store's contract: one suite that PGlite and PostgreSQL must both pass. Each case opens a fresh,
// empty database, builds what it needs with the fixture helpers below (named in the domain's words),
// and reads the time only from a ManualClock that starts at T0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { sql } from 'kysely';
import type { Transaction } from 'kysely';
import { ManualClock } from '../../src/core/clock.js';
import { SuanwangError } from '../../src/core/errors.js';
import { newId } from '../../src/core/ids.js';
import type { IdKind } from '../../src/core/ids.js';
import { randomInt, seededRng } from '../../src/core/rng.js';
import type { Rng } from '../../src/core/rng.js';
import { ACCELERATOR_FAMILIES } from '../../src/core/accelerators.js';
import { indexText, searchQuery } from '../../src/catalog/search-tokens.js';
import { JOB_STATES, canTransition } from '../../src/core/job-state.js';
import type { JobState } from '../../src/core/job-state.js';
import { openStore } from '../../src/store/open-database.js';
import type { ScriptStore, Store } from '../../src/store/open-database.js';
import { migrate } from '../../src/store/migrate.js';
import { inTransaction } from '../../src/store/transaction.js';
import type { Queryable } from '../../src/store/transaction.js';
import type { Database, JobRow, Role } from '../../src/store/schema.js';
import {
  findOrgByName,
  findTokenOwner,
  findUserByName,
  insertOrg,
  insertToken,
  insertUser,
  revokeCenterTokens,
} from '../../src/store/accounts.js';
import {
  centersSilentSince,
  getCenter,
  insertCenter,
  listPools,
  setPoolPrice,
  syncPools,
  updateCenter,
} from '../../src/store/centers.js';
import type { PoolSpec } from '../../src/store/centers.js';
import {
  activeJobs,
  findIdempotentJob,
  getJob,
  insertIdempotencyKey,
  insertJob,
  jobsInStates,
  listJobEvents,
  listJobs,
  transitionJob,
} from '../../src/store/jobs.js';
import type { JobListQuery } from '../../src/store/jobs.js';
import { appendLogChunk, readLogChunks } from '../../src/store/job-logs.js';
import { countLaunch, insertProduct, insertVersion, refreshListed, searchProducts, setVersionStatus, updateProduct } from '../../src/store/products.js';
import type { ProductFields, SearchQuery, SearchResultRows } from '../../src/store/products.js';
import type { TestDatabase } from '../support/databases.js';
import { eventually } from '../support/wait.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const MIGRATIONS_DIR = new URL('../../src/store/migrations/', import.meta.url);

/** Runs every case of the store's contract against `target` (call it inside a describe per database). */
export function storeContract(target: TestDatabase): void {
  /** A case on a fresh database: opened (and migrated) before `body`, closed and dropped after it. */
  const onFreshStore = (body: (w: World) => Promise<void>) => async () => {
    const { databaseUrl, drop } = await target.fresh();
    try {
      const store = await openStore({ databaseUrl });
      try {
        await body(new World(store));
      } finally {
        await store.close();
      }
    } finally {
      await drop();
    }
  };
  const onlyOnPostgres = target.name === 'postgres' ? false : 'PGlite in memory belongs to one process: nothing else can open it';

  describe('migrations', () => {
    it('records every file of src/store/migrations once, and applying them again changes nothing', onFreshStore(async (w) => {
      const files = readdirSync(MIGRATIONS_DIR).sort();
      assert.ok(files.length > 0, 'there are migrations');
      for (const file of files) {
        // listMigrations() skips a file named otherwise: it would silently never run.
        assert.match(file, /^\d{4}_[a-z0-9_]+\.sql$/, `migration file ${file} is named NNNN_name.sql`);
      }
      const expected = files.map((f) => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4) }));
      const first = await appliedMigrations(w.store);
      assert.deepEqual(first.map(({ version, name }) => ({ version, name })), expected);

      await insertOrg(w.db, { id: 'org_kept', name: 'kept', at: T0 });
      const runner = (w.store as ScriptStore).withScriptRunner;
      assert.equal(typeof runner, 'function', 'openStore returns its script runner');
      assert.deepEqual(await migrate(runner), [], 'nothing left to apply');
      assert.deepEqual(await appliedMigrations(w.store), first, 'suanwang_migrations unchanged (applied_at too)');
      assert.deepEqual(await findOrgByName(w.db, 'kept'), { id: 'org_kept', name: 'kept' }, 'data survives');
    }));

    it('a second process opening the same database finds nothing to do; two opening at once take turns', { skip: onlyOnPostgres }, async () => {
      for (const together of [false, true]) {
        const { databaseUrl, drop } = await target.fresh();
        try {
          if (together) {
            const stores = await Promise.all([openStore({ databaseUrl }), openStore({ databaseUrl })]);
            try {
              const applied = await appliedMigrations(stores[0]!);
              assert.equal(new Set(applied.map((m) => m.version)).size, applied.length, 'each migration applied once');
              assert.equal(applied.length, readdirSync(MIGRATIONS_DIR).length);
            } finally {
              await Promise.all(stores.map((s) => s.close()));
            }
          } else {
            const first = await openStore({ databaseUrl });
            try {
              await insertOrg(first.db, { id: 'org_kept', name: 'kept', at: T0 });
              const before = await appliedMigrations(first);
              const second = await openStore({ databaseUrl });
              try {
                assert.deepEqual(await appliedMigrations(second), before);
                assert.deepEqual(await findOrgByName(second.db, 'kept'), { id: 'org_kept', name: 'kept' });
              } finally {
                await second.close();
              }
            } finally {
              await first.close();
            }
          }
        } finally {
          await drop();
        }
      }
    });
  });

  describe('accounts', () => {
    it("a user's token finds the user with org and role until revoked; a center's names the center; one owner each", onFreshStore(async (w) => {
      const pku = await w.org('pku');
      const alice = await w.user(pku, 'alice', 'operator');
      const token = await w.token({ user: alice }, 'secret-of-alice');
      await w.token({ user: alice }, 'another-secret-of-alice');

      assert.deepEqual(await findOrgByName(w.db, 'pku'), pku);
      assert.equal((await findUserByName(w.db, 'alice'))?.role, 'operator');
      assert.deepEqual(await findTokenOwner(w.db, sha256('secret-of-alice')), {
        tokenId: token,
        centerId: null,
        expiresAt: null,
        lastUsedAt: null,
        user: { id: alice.id, orgId: pku.id, orgName: 'pku', name: 'alice', role: 'operator' },
      });
      assert.equal(await findTokenOwner(w.db, sha256('nobody-has-this')), undefined, 'an unknown secret');
      assert.equal(await findTokenOwner(w.db, 'secret-of-alice'), undefined, 'the secret itself is not its hash');

      await w.db.updateTable('api_tokens').set({ revoked_at: w.now() }).where('id', '=', token).execute();
      assert.equal(await findTokenOwner(w.db, sha256('secret-of-alice')), undefined, 'a revoked token');
      assert.equal((await findTokenOwner(w.db, sha256('another-secret-of-alice')))?.user?.id, alice.id, 'her other token still works');

      // A center's agent token.
      const beijing = await w.center(pku, 'beijing-1', []);
      const shanghai = await w.center(pku, 'shanghai-1', []);
      const agentToken = await w.token({ center: beijing }, 'agent-secret-bj');
      await w.token({ center: shanghai }, 'agent-secret-sh');

      assert.deepEqual(await findTokenOwner(w.db, sha256('agent-secret-bj')), { tokenId: agentToken, centerId: beijing.id, expiresAt: null, lastUsedAt: null, user: null });
      await revokeCenterTokens(w.db, beijing.id, w.now());
      assert.equal(await findTokenOwner(w.db, sha256('agent-secret-bj')), undefined, 'revoked with its center');
      assert.equal((await findTokenOwner(w.db, sha256('agent-secret-sh')))?.centerId, shanghai.id, 'another center keeps its token');

      await assert.rejects(w.token({ user: alice, center: beijing }, 'both-owners'), /check constraint/i, 'a user and a center');
      await assert.rejects(w.token({}, 'no-owner'), /check constraint/i, 'neither a user nor a center');
      await assert.rejects(w.token({ user: alice }, 'agent-secret-sh'), /unique|duplicate/i, 'one hash, one token');
    }));
  });

  describe('centers and pools', () => {
    it('a new center starts offline; syncPools adds, reshapes and zeroes pools but keeps their prices', onFreshStore(async (w) => {
      const pku = await w.org('pku');
      const beijing = await w.center(pku, 'beijing-1', [
        pool('a100', 'nvidia-a100', { nodes: 4, perNode: 8 }),
        pool('cpu', null, { nodes: 10, perNode: 0 }),
      ]);
      const shanghai = await w.center(pku, 'shanghai-1', [pool('910b', 'ascend-910b', { nodes: 2, perNode: 8 })]);

      const center = await getCenter(w.db, beijing.id);
      assert.equal(center?.state, 'offline');
      assert.equal(center?.state_reason, 'no agent has connected yet');
      assert.equal(center?.last_heartbeat_at, null);
      assert.equal(center?.commands, null);
      assert.deepEqual(center?.energy, ENERGY);

      await setPoolPrice(w.db, beijing.id, 'a100', { fenPerAcceleratorHour: 1200, fenPerCoreHour: 5 });
      const before = await poolsByName(w.db, beijing.id);
      // The agent now reports a bigger a100 pool, no cpu pool, and a new dcu pool.
      await syncPools(
        w.db,
        beijing.id,
        [pool('a100', 'nvidia-a100', { nodes: 6, perNode: 4, cores: 128, memoryMiB: 1_048_576 }), pool('dcu', 'hygon-dcu', { nodes: 3, perNode: 8 })],
        () => w.id('pool'),
        w.now(),
      );
      const after = await poolsByName(w.db, beijing.id);
      assert.deepEqual(Object.keys(after).sort(), ['a100', 'cpu', 'dcu']);
      assert.deepEqual(after.a100, {
        ...before.a100!,
        accelerators_per_node: 4,
        cores_per_node: 128,
        memory_mib_per_node: 1_048_576,
        nodes: 6,
        fen_per_accelerator_hour: 1200,
        fen_per_core_hour: 5,
      }, 'same id, new shape, prices kept');
      assert.deepEqual(after.cpu, { ...before.cpu!, nodes: 0 }, 'no longer reported: kept (jobs refer to it) with no nodes');
      assert.equal(after.dcu?.nodes, 3);
      assert.equal(after.dcu?.accelerator, 'hygon-dcu');
      assert.equal(after.dcu?.fen_per_accelerator_hour, 0, 'a new pool has no price until its operator sets one');
      assert.deepEqual(await poolsByName(w.db, shanghai.id), shanghai.poolRows, "another center's pools untouched");

      // Reported again: the same row comes back to life.
      await syncPools(w.db, beijing.id, [pool('cpu', null, { nodes: 8, perNode: 0 })], () => w.id('pool'), w.now());
      const again = await poolsByName(w.db, beijing.id);
      assert.equal(again.cpu?.id, before.cpu?.id);
      assert.equal(again.cpu?.nodes, 8);
      assert.equal(again.a100?.nodes, 0);
      assert.equal(again.a100?.fen_per_accelerator_hour, 1200);
    }));

    it('centersSilentSince: centers not offline whose last heartbeat is before the cutoff', onFreshStore(async (w) => {
      const pku = await w.org('pku');
      const cutoff = new Date(T0.getTime() + 60_000);
      const second = (s: number) => new Date(cutoff.getTime() + s * 1000);
      const cases: readonly { name: string; state: 'online' | 'draining' | 'offline'; heartbeat: Date | null; silent: boolean }[] = [
        { name: 'online-silent', state: 'online', heartbeat: second(-30), silent: true },
        { name: 'draining-silent', state: 'draining', heartbeat: second(-1), silent: true },
        { name: 'online-at-the-cutoff', state: 'online', heartbeat: cutoff, silent: false },
        { name: 'online-recent', state: 'online', heartbeat: second(5), silent: false },
        { name: 'offline-long-silent', state: 'offline', heartbeat: second(-3600), silent: false },
        { name: 'offline-never-connected', state: 'offline', heartbeat: null, silent: false },
      ];
      for (const c of cases) {
        const center = await w.center(pku, c.name, []);
        await updateCenter(w.db, center.id, { state: c.state, last_heartbeat_at: c.heartbeat });
      }
      const silent = await centersSilentSince(w.db, cutoff);
      assert.deepEqual(silent.map((c) => c.name).sort(), cases.filter((c) => c.silent).map((c) => c.name).sort());
    }));
  });

  describe('jobs', () => {
    it('insertJob writes the job and its first event; a move sets its changes, records itself, and heeds the attempt', onFreshStore(async (w) => {
      const { alice, a100 } = await w.network();
      const id = await w.job(alice, { state: 'queued' });
      const job = await getJob(w.db, id);
      assert.equal(job?.state, 'queued');
      assert.deepEqual(job?.command, ['python', 'train.py']);
      assert.equal(job?.attempt, 0);
      assert.deepEqual(await events(w.db, id), [{ from: null, to: 'queued', attempt: 0, message: 'submitted by alice' }]);

      w.clock.advance(5_000);
      const at = w.now();
      const row = await transitionJob(
        w.db,
        id,
        'placed',
        { center_id: a100.centerId, pool_id: a100.id, placed_at: at, attempt: 1, node_indices: JSON.stringify([0, 1]) },
        { at, message: 'placed on beijing-1/a100' },
      );
      assert.equal(row?.state, 'placed');
      assert.equal(row?.pool_id, a100.id);
      assert.deepEqual(row?.node_indices, [0, 1]);
      assert.equal(row?.updated_at.getTime(), at.getTime());
      assert.deepEqual(await getJob(w.db, id), row, 'the returned row is what is stored');
      assert.deepEqual((await events(w.db, id)).at(-1), { from: 'queued', to: 'placed', attempt: 1, message: 'placed on beijing-1/a100' });

      // With an attempt, the move happens only while the job is still on that attempt.
      const placedAgain = await w.job(alice, { state: 'placed', attempt: 2 });
      const before = await getJob(w.db, placedAgain);
      const stale = await transitionJob(w.db, placedAgain, 'running', { started_at: w.now() }, { at: w.now(), message: 'started', attempt: 1 });
      assert.equal(stale, undefined, 'a report about attempt 1');
      assert.deepEqual(await getJob(w.db, placedAgain), before);
      const current = await transitionJob(w.db, placedAgain, 'running', { started_at: w.now() }, { at: w.now(), message: 'started', attempt: 2 });
      assert.equal(current?.state, 'running');
      assert.deepEqual((await events(w.db, placedAgain)).at(-1), { from: 'placed', to: 'running', attempt: 2, message: 'started' });
    }));

    it('transitionJob follows the state machine: every legal move happens, every other one changes nothing', onFreshStore(async (w) => {
      const { alice } = await w.network();
      for (const from of JOB_STATES) {
        for (const to of JOB_STATES) {
          const id = await w.job(alice, { state: from });
          const before = await getJob(w.db, id);
          const eventsBefore = await events(w.db, id);
          const row = await transitionJob(w.db, id, to, { reason: 'moved' }, { at: w.now(), message: `${from} → ${to}` });
          if (canTransition(from, to)) {
            assert.equal(row?.state, to, `${from} → ${to} is legal`);
            assert.equal(row?.reason, 'moved');
            assert.deepEqual(await events(w.db, id), [...eventsBefore, { from, to, attempt: 0, message: `${from} → ${to}` }]);
          } else {
            assert.equal(row, undefined, `${from} → ${to} is not legal`);
            assert.deepEqual(await getJob(w.db, id), before, `${from} → ${to} leaves the job alone`);
            assert.deepEqual(await events(w.db, id), eventsBefore, `${from} → ${to} records nothing`);
          }
        }
      }
      assert.equal(await transitionJob(w.db, 'job_nonexistent', 'queued', {}, { at: w.now(), message: '' }), undefined, 'an unknown job');
    }));

    it('two transactions moving one job at once: the history is what happened, a move made impossible by the other loses', onFreshStore(async (w) => {
      const { alice } = await w.network();
      const races: readonly {
        readonly what: string;
        readonly from: JobState;
        readonly attempt?: number;
        readonly first: Move;
        readonly second: Move;
        readonly secondWins: boolean;
        readonly moves: readonly (readonly [JobState, JobState])[]; // the new events, in order
      }[] = [
        { what: 'its agent reports success while its owner cancels', from: 'placed', first: succeed, second: cancel, secondWins: false,
          moves: [['placed', 'succeeded']] },
        { what: 'its owner cancels while its agent reports success', from: 'running', first: cancel, second: succeed, secondWins: false,
          moves: [['running', 'cancelled']] },
        { what: 'two reports that it started', from: 'placed', first: start(), second: start(), secondWins: false,
          moves: [['placed', 'running']] },
        { what: 'a requeue while a stale agent reports it running', from: 'placed', attempt: 1, first: requeue(1), second: start(1), secondWins: false,
          moves: [['placed', 'queued']] },
        // Only the attempt guard stops the second here: the job is placed again, but on attempt 2.
        { what: 'a requeue and new placement while the old agent reports attempt 1 running', from: 'placed', attempt: 1,
          first: requeueAndPlaceAgain(1), second: start(1), secondWins: false, moves: [['placed', 'queued'], ['queued', 'placed']] },
        // Both are legal one after the other (running → cancelled): both happen, and the history says so.
        { what: 'it starts while its owner cancels', from: 'placed', first: start(), second: cancel, secondWins: true,
          moves: [['placed', 'running'], ['running', 'cancelled']] },
      ];
      for (const race of races) {
        const id = await w.job(alice, { state: race.from, attempt: race.attempt ?? 0 });
        const eventsBefore = await events(w.db, id);
        const at = w.now();
        const [first, second] = await overlapping(
          w.store,
          (trx) => race.first(trx, id, at),
          (trx) => race.second(trx, id, at),
        );
        assert.ok(first, `${race.what}: the first wins`);
        assert.equal(second !== undefined, race.secondWins, `${race.what}: the second ${race.secondWins ? 'wins too' : 'loses'}`);
        assert.equal((await getJob(w.db, id))?.state, race.moves.at(-1)?.[1], race.what);
        assert.deepEqual(
          (await events(w.db, id)).slice(eventsBefore.length).map((e) => [e.from, e.to]),
          race.moves,
          `${race.what}: one event per move that happened, each from the state it really left`,
        );
      }
    }));

    it('listJobs walks every job once, newest first, page by page, by org and by state', onFreshStore(async (w) => {
      const { pku, alice } = await w.network();
      const tsinghua = await w.org('tsinghua');
      const bob = await w.user(tsinghua, 'bob', 'user');
      const states: readonly JobState[] = ['submitted', 'queued', 'placed', 'running', 'succeeded', 'failed', 'cancelled'];
      const all: { id: string; org: string; state: JobState }[] = [];
      for (let i = 0; i < 17; i++) {
        const owner = i % 3 === 2 ? bob : alice;
        const state = states[i % states.length]!;
        w.clock.advance(i % 2 === 0 ? 1000 : 0); // some jobs share a millisecond: their random part orders them
        all.push({ id: await w.job(owner, { state }), org: owner.orgId, state });
      }
      const newestFirst = (jobs: typeof all) => jobs.map((j) => j.id).sort().reverse();
      const cases: readonly { what: string; query: Omit<JobListQuery, 'before'>; expected: string[] }[] = [
        { what: 'every org', query: { orgId: null, limit: 4 }, expected: newestFirst(all) },
        { what: 'one org', query: { orgId: pku.id, limit: 3 }, expected: newestFirst(all.filter((j) => j.org === pku.id)) },
        { what: 'the other org', query: { orgId: tsinghua.id, limit: 2 }, expected: newestFirst(all.filter((j) => j.org === tsinghua.id)) },
        { what: 'pending jobs', query: { orgId: null, states: ['submitted', 'queued'], limit: 2 },
          expected: newestFirst(all.filter((j) => j.state === 'submitted' || j.state === 'queued')) },
        { what: "one org's ended jobs", query: { orgId: pku.id, states: ['succeeded', 'failed', 'cancelled'], limit: 1 },
          expected: newestFirst(all.filter((j) => j.org === pku.id && ['succeeded', 'failed', 'cancelled'].includes(j.state))) },
        { what: 'no state filter when states is empty', query: { orgId: pku.id, states: [], limit: 100 },
          expected: newestFirst(all.filter((j) => j.org === pku.id)) },
        { what: 'a state nobody is in', query: { orgId: tsinghua.id, states: ['running'], limit: 5 },
          expected: newestFirst(all.filter((j) => j.org === tsinghua.id && j.state === 'running')) },
      ];
      // ids made later sort later, so newest first is descending id order
      assert.deepEqual(all.map((j) => j.id), [...all.map((j) => j.id)].sort(), 'ids sort by creation');
      for (const c of cases) {
        const { seen, pages } = await walkJobs(w.db, c.query);
        assert.deepEqual(seen, c.expected, c.what);
        assert.equal(pages, Math.floor(c.expected.length / c.query.limit) + 1, `${c.what}: pages of ${c.query.limit}`);
      }
    }));

    it('activeJobs holds placed and running jobs (per center); jobsInStates gives the oldest first', onFreshStore(async (w) => {
      const { alice, a100 } = await w.network();
      const pku = { id: alice.orgId };
      const shanghai = await w.center(pku, 'shanghai-1', [pool('910b', 'ascend-910b', { nodes: 2, perNode: 8 })]);
      const ascend = shanghai.pools['910b']!;
      const job = async (state: JobState, on = a100) => w.job(alice, { state, on });
      const submitted = [await job('submitted'), await job('submitted')];
      const queued = [await job('queued'), await job('queued'), await job('queued')];
      const placedHere = await job('placed');
      const runningThere = await job('running', ascend);
      const runningHere = await job('running');
      await job('succeeded');
      await job('failed', ascend);
      await job('cancelled');

      const ids = (rows: JobRow[]) => rows.map((r) => r.id);
      assert.deepEqual(ids(await activeJobs(w.db)), [placedHere, runningThere, runningHere]);
      assert.deepEqual(ids(await activeJobs(w.db, a100.centerId)), [placedHere, runningHere]);
      assert.deepEqual(ids(await activeJobs(w.db, ascend.centerId)), [runningThere]);
      assert.deepEqual(ids(await jobsInStates(w.db, ['submitted', 'queued'], 100)), [...submitted, ...queued]);
      assert.deepEqual(ids(await jobsInStates(w.db, ['queued', 'submitted'], 3)), [...submitted, queued[0]]);
      assert.deepEqual(ids(await jobsInStates(w.db, ['queued'], 2)), queued.slice(0, 2));
    }));

    it('an idempotency key is unique within its org', onFreshStore(async (w) => {
      const { alice } = await w.network();
      const tsinghua = await w.org('tsinghua');
      const bob = await w.user(tsinghua, 'bob', 'user');
      const first = await w.job(alice, { state: 'submitted' });
      const second = await w.job(alice, { state: 'submitted' });
      const bobs = await w.job(bob, { state: 'submitted' });
      const key = (orgId: string, jobId: string, requestHash = 'hash-1') =>
        insertIdempotencyKey(w.db, { orgId, key: 'retry-42', requestHash, jobId, at: w.now() });

      await key(alice.orgId, first);
      await assert.rejects(key(alice.orgId, second, 'hash-2'), /unique|duplicate/i, 'the same key again in the same org');
      await key(bob.orgId, bobs);
      assert.equal((await findIdempotentJob(w.db, alice.orgId, 'retry-42'))?.job_id, first);
      assert.equal((await findIdempotentJob(w.db, alice.orgId, 'retry-42'))?.request_hash, 'hash-1');
      assert.equal((await findIdempotentJob(w.db, bob.orgId, 'retry-42'))?.job_id, bobs);
      assert.equal(await findIdempotentJob(w.db, alice.orgId, 'retry-43'), undefined);
    }));
  });

  describe('job logs', () => {
    it('stores chunks; the same again stores nothing; an overlap only its new bytes, in whole characters; a gap throws', onFreshStore(async (w) => {
      const { alice } = await w.network();
      const id = await w.job(alice, { state: 'running', attempt: 1 });
      const ship = (offset: number, data: string, stream: 'stdout' | 'stderr' = 'stdout') =>
        appendLogChunk(w.db, { jobId: id, attempt: 1, stream, offset, data, at: w.now() });

      assert.equal(await ship(0, 'epoch 1\n'), 8);
      assert.equal(await ship(8, 'epoch 2\n'), 8);
      assert.equal(await ship(8, 'epoch 2\n'), 0, 'the same chunk again');
      assert.equal(await ship(0, 'epoch 1\n'), 0, 'an older chunk again');
      assert.equal(await ship(0, 'epoch 1\nepoch 2\nepoch 3\n'), 8, 'a restarted agent re-sends from 0 with more');
      assert.equal(await ship(20, 'h 3\nepoch 4\n'), 8, 'a chunk starting inside the stored bytes');
      await assert.rejects(ship(40, 'epoch 6\n'), (e: unknown) => e instanceof SuanwangError && e.code === 'log_gap', 'a chunk after a gap');
      assert.equal(await ship(0, 'error\n', 'stderr'), 6, 'each stream has its own offsets');

      assert.deepEqual(await storedOutput(w.db, id, 1, 'stdout'), ['epoch 1\n', 'epoch 2\n', 'epoch 3\n', 'epoch 4\n']);
      assert.deepEqual(await storedOutput(w.db, id, 1, 'stderr'), ['error\n']);

      // Multi-byte output: an overlapping chunk keeps whole characters, never a byte twice.
      const chinese = await w.job(alice, { state: 'running', attempt: 1 });
      const shipChinese = (offset: number, data: string, attempt = 1) =>
        appendLogChunk(w.db, { jobId: chinese, attempt, stream: 'stdout', offset, data, at: w.now() });

      // Bytes: 中 0–2, 文 3–5, 输 6–8, 出 9–11.
      assert.equal(await shipChinese(0, '中'), 3);
      assert.equal(await shipChinese(0, '中文'), 3, 'a re-send from 0: only 文 is new');
      assert.equal(await shipChinese(3, '文输出'), 6, 'from a character boundary inside the stored bytes');
      assert.deepEqual(await storedOutput(w.db, chinese, 1, 'stdout'), ['中', '文', '输出']);

      // The stored end falls inside a character of the chunk (its bytes disagree with the stored ones,
      // as when an agent read bytes that are not UTF-8): the cut moves on to the next whole character.
      assert.equal(await shipChinese(0, 'ab', 2), 2);
      assert.equal(await shipChinese(0, '中文', 2), 3, 'the rest of 中 is skipped, 文 is kept');
      assert.deepEqual(await storedOutput(w.db, chinese, 2, 'stdout'), ['ab', '文']);
      assert.equal(await shipChinese(6, '!', 2), 1, 'and the next chunk follows on');
    }));

    it('readLogChunks returns chunks after a seq in the order they arrived, for that job only', onFreshStore(async (w) => {
      const { alice } = await w.network();
      const id = await w.job(alice, { state: 'running', attempt: 2 });
      const other = await w.job(alice, { state: 'running', attempt: 1 });
      const arrivals: readonly { job: string; attempt: number; stream: 'stdout' | 'stderr'; offset: number; data: string }[] = [
        { job: id, attempt: 1, stream: 'stdout', offset: 0, data: 'first try\n' },
        { job: id, attempt: 2, stream: 'stderr', offset: 0, data: 'warning\n' },
        { job: other, attempt: 1, stream: 'stdout', offset: 0, data: 'someone else\n' },
        { job: id, attempt: 2, stream: 'stdout', offset: 0, data: 'step 1\n' },
        { job: id, attempt: 2, stream: 'stderr', offset: 8, data: 'error\n' },
        { job: id, attempt: 2, stream: 'stdout', offset: 7, data: 'step 2\n' },
      ];
      for (const a of arrivals) {
        w.clock.advance(1000);
        await appendLogChunk(w.db, { jobId: a.job, attempt: a.attempt, stream: a.stream, offset: a.offset, data: a.data, at: w.now() });
      }
      const mine = arrivals.filter((a) => a.job === id).map(({ attempt, stream, data }) => ({ attempt, stream, data }));
      const all = (await readLogChunks(w.db, id, 0, 100)).chunks;
      assert.deepEqual(all.map(({ attempt, stream, data }) => ({ attempt, stream, data })), mine);
      assert.ok(all.every((l, i) => i === 0 || l.seq > all[i - 1]!.seq), 'seq rises');
      assert.equal(typeof all[0]?.seq, 'number');

      const afterSecond = await readLogChunks(w.db, id, all[1]!.seq, 100);
      assert.deepEqual(afterSecond, { chunks: all.slice(2), more: false });
      assert.deepEqual(await readLogChunks(w.db, id, all[1]!.seq, 1), { chunks: all.slice(2, 3), more: all.length > 3 }, 'at most limit');
      assert.deepEqual(await readLogChunks(w.db, id, all.at(-1)!.seq, 100), { chunks: [], more: false }, 'nothing new');
      const first = Buffer.byteLength(all[0]!.data);
      assert.deepEqual((await readLogChunks(w.db, id, 0, 100, 1)).chunks, all.slice(0, 1), 'a page holds at least one chunk');
      assert.deepEqual((await readLogChunks(w.db, id, 0, 100, first + Buffer.byteLength(all[1]!.data))).chunks, all.slice(0, 2), 'and as many as fit in its bytes');
    }));
  });

  describe('store search', () => {
    it('the accelerator family bits of 0005 follow core\'s ACCELERATOR_FAMILIES, in order', onFreshStore(async (w) => {
      const { rows } = await sql<{ names: string[] }>`SELECT accelerator_family_names() AS names`.execute(w.db);
      assert.deepEqual(rows[0]!.names, [...ACCELERATOR_FAMILIES], 'append a new family to both lists, never reorder');
    }));

    it('agrees with a plain count over products through listing, delisting, republishing, edits, launches and deletes', onFreshStore(async (w) => {
      const catalog = await w.catalog(36);
      const check = async (step: string) => {
        await assertCountersMatchProducts(w.db, step);
        for (const q of catalog.queries()) {
          const label = `${step}: ${JSON.stringify(q)}`;
          assert.deepEqual(comparable(await searchProducts(w.db, q)), comparable(await referenceSearch(w.db, q)), label);
        }
      };
      await check('listed');

      const [a, b, c, d, e] = catalog.products;
      await catalog.delist(a!);
      await catalog.delist(b!);
      await check('two delisted');

      await catalog.relist(a!);
      await catalog.list(catalog.unlisted[0]!);
      await check('one relisted, one listed for the first time');

      await catalog.edit(c!, { category: 'dataset', families: ['cann', 'dtk'], visibility: 'org' });
      await catalog.edit(d!, { families: [], title: '全新 分子 alpha' });
      await catalog.republish(e!, { category: 'model', families: ['cuda'] });
      await check('edited and republished');

      for (const p of catalog.products.slice(0, 8)) {
        for (let i = 0; i <= catalog.products.indexOf(p) % 3; i++) await countLaunch(w.db, p.id);
      }
      await check('launched');

      // Nothing deletes products today; if something does, the counters follow.
      const [f, g] = catalog.products.slice(-2);
      await w.db.deleteFrom('product_versions').where('product_id', 'in', [f!.id, g!.id]).execute();
      await w.db.deleteFrom('products').where('id', 'in', [f!.id, g!.id]).execute();
      await check('two deleted');
    }));

    it('counts the caller\'s own org-only products, never another org\'s, and each facet with the other filters', onFreshStore(async (w) => {
      const [acme, beta] = [await w.org('acme'), await w.org('beta')];
      await w.product(acme, 'acme-public', { category: 'software', families: ['cuda', 'cpu'] });
      await w.product(acme, 'acme-private', { category: 'model', families: ['cann'], visibility: 'org' });
      await w.product(beta, 'beta-public', { category: 'model', families: ['cpu'] });
      await w.product(beta, 'beta-draft', { category: 'model', families: ['cpu'], listed: false });
      for (const tsquery of [null, searchQuery('alpha')]) {
        const asBeta = await searchProducts(w.db, { tsquery, orgId: beta.id, sort: 'popularity', limit: 10, offset: 0 });
        assert.deepEqual(asBeta.items.map((p) => p.name).sort(), ['acme-public', 'beta-public']);
        assert.deepEqual(asBeta.facets, { category: { software: 1, model: 1 }, family: { cuda: 1, cpu: 2 }, provider: { [acme.id]: 1, [beta.id]: 1 } });
        assert.equal(asBeta.exact, true);
        const asAcme = await searchProducts(w.db, { tsquery, orgId: acme.id, sort: 'newest', limit: 10, offset: 0, categories: ['model'], families: ['cann', 'cpu'] });
        assert.deepEqual(asAcme.items.map((p) => p.name).sort(), ['acme-private', 'beta-public']);
        assert.equal(asAcme.total, 2);
        assert.deepEqual(asAcme.facets.category, { model: 2, software: 1 }, 'categories counted with the family filter only');
        assert.deepEqual(asAcme.facets.family, { cann: 1, cpu: 1 }, 'families counted with the category filter only');
        assert.deepEqual(asAcme.facets.provider, { [acme.id]: 1, [beta.id]: 1 });
      }
    }));

    it('keeps the counts exact when many transactions list and delist at once', onFreshStore(async (w) => {
      const org = await w.org('acme');
      const products = [];
      for (let i = 0; i < 12; i++) products.push(await w.product(org, `p-${i}`, { category: i % 2 ? 'model' : 'code', families: ['cuda'], listed: i % 3 === 0 }));
      await Promise.all(
        products.map((p, i) =>
          inTransaction(w.db, async (trx) => {
            await setVersionStatus(trx, p.versionId, [p.listed ? 'listed' : 'in-review'], p.listed ? 'delisted' : 'listed', w.now(), null);
            await refreshListed(trx, p.id);
            if (i % 4 === 1) await countLaunch(trx, p.id);
          }),
        ),
      );
      await assertCountersMatchProducts(w.db, 'after the concurrent changes');
      const all = await searchProducts(w.db, { tsquery: null, orgId: org.id, sort: 'relevance', limit: 50, offset: 0 });
      assert.equal(all.total, 8);
      assert.deepEqual(all.facets.category, { code: 4, model: 4 });
    }));
  });
}

// ---------------------------------------------------------------------------------------------
// Fixtures

const ENERGY = { priceFenPerKwh: Array(24).fill(60), pue: 1.3, carbonKgPerKwh: Array(24).fill(0.55), utcOffsetHours: 8 };

interface Org { readonly id: string; readonly name?: string }
interface User { readonly id: string; readonly orgId: string; readonly name: string; readonly role: Role }
interface Pool { readonly id: string; readonly centerId: string; readonly name: string }
interface Center { readonly id: string; readonly name: string; readonly pools: Readonly<Record<string, Pool>>; readonly poolRows: Awaited<ReturnType<typeof poolsByName>> }

/** A pool as an agent reports it: `pool('ascend-910b', 'ascend-910b', { nodes: 4, perNode: 8 })`. */
function pool(name: string, accelerator: string | null, shape: { nodes: number; perNode: number; cores?: number; memoryMiB?: number }): PoolSpec {
  return {
    name,
    accelerator,
    acceleratorsPerNode: shape.perNode,
    coresPerNode: shape.cores ?? 64,
    memoryMiBPerNode: shape.memoryMiB ?? 524_288,
    nodes: shape.nodes,
  };
}

/** One test's world: its store, a clock at T0 that only moves when told, and seeded ids that sort by creation. */
class World {
  readonly clock = new ManualClock(T0.getTime());
  readonly #rng = seededRng(20260101);
  #network: Promise<{ pku: Org; alice: User; a100: Pool }> | undefined;

  constructor(readonly store: Store) {}

  get db() {
    return this.store.db;
  }

  now(): Date {
    return new Date(this.clock.now());
  }

  /** A new id, one millisecond after the previous one (so ids made in a row sort in that order). */
  id(kind: IdKind): string {
    this.clock.advance(1);
    return newId(kind, this.clock, this.#rng);
  }

  async org(name: string): Promise<{ id: string; name: string }> {
    const id = this.id('org');
    await insertOrg(this.db, { id, name, at: this.now() });
    return { id, name };
  }

  async user(org: Org, name: string, role: Role): Promise<User> {
    const id = this.id('user');
    await insertUser(this.db, { id, orgId: org.id, name, role, at: this.now() });
    return { id, orgId: org.id, name, role };
  }

  /** A token for a user or a center (or, to test the constraint, both or neither); returns its id. */
  async token(owner: { user?: User; center?: { id: string } }, secret: string): Promise<string> {
    const id = this.id('token');
    await insertToken(this.db, { id, secretHash: sha256(secret), userId: owner.user?.id, centerId: owner.center?.id, label: 'test', at: this.now() });
    return id;
  }

  /** A center run by `operator`, with the pools its agent reported. */
  async center(operator: Org, name: string, pools: readonly PoolSpec[]): Promise<Center> {
    const id = this.id('center');
    await insertCenter(this.db, { id, name, displayName: name.toUpperCase(), region: 'cn-north', operatorOrgId: operator.id, energy: ENERGY, at: this.now() });
    await syncPools(this.db, id, pools, () => this.id('pool'), this.now());
    const poolRows = await poolsByName(this.db, id);
    const byName = Object.fromEntries(Object.values(poolRows).map((p) => [p.name, { id: p.id, centerId: id, name: p.name }]));
    return { id, name, pools: byName, poolRows };
  }

  /** The usual small network: org pku, its user alice, and center beijing-1 with an a100 pool. */
  network(): Promise<{ pku: Org; alice: User; a100: Pool }> {
    this.#network ??= (async () => {
      const pku = await this.org('pku');
      const alice = await this.user(pku, 'alice', 'user');
      const beijing = await this.center(pku, 'beijing-1', [pool('a100', 'nvidia-a100', { nodes: 4, perNode: 8 })]);
      return { pku, alice, a100: beijing.pools.a100! };
    })();
    return this.#network;
  }

  /** A job of `owner` in `state` (placed, running and ended jobs sit on a pool: `on`, else the network's a100). */
  async job(owner: User, opts: { state: JobState; attempt?: number; on?: Pool }): Promise<string> {
    const id = this.id('job');
    const at = this.now();
    const onPool = opts.state !== 'submitted' && opts.state !== 'queued';
    const where = onPool ? (opts.on ?? (await this.network()).a100) : undefined;
    await insertJob(
      this.db,
      {
        id,
        org_id: owner.orgId,
        user_id: owner.id,
        name: 'train',
        state: opts.state,
        command: JSON.stringify(['python', 'train.py']),
        env: JSON.stringify({}),
        nodes: 1,
        accelerators_per_node: 8,
        cores_per_node: 32,
        memory_mib_per_node: 262_144,
        walltime_seconds: 3600,
        allowed_accelerators: JSON.stringify(['nvidia-a100', 'ascend-910b']),
        objective: 'balanced',
        priority: 0,
        max_attempts: 3,
        attempt: opts.attempt ?? 0,
        center_id: where?.centerId ?? null,
        pool_id: where?.id ?? null,
        node_indices: JSON.stringify(where ? [0] : null),
        waiting_explanation: JSON.stringify(null),
        placed_at: where ? at : null,
        submitted_at: at,
        updated_at: at,
      },
      `submitted by ${owner.name}`,
    );
    return id;
  }

  /**
   * A product of `org` with one version, listed unless `listed: false` (then in review); its
   * words are the name and `title` (default 'alpha beta 分子动力学').
   */
  async product(org: Org, name: string, opts: Partial<Pick<ProductFields, 'category' | 'families' | 'visibility' | 'title'>> & { listed?: boolean } = {}) {
    const id = this.id('product');
    await insertProduct(this.db, { id, providerOrgId: org.id, name, at: this.now(), ...productFields(name, opts) });
    const versionId = this.id('version');
    await insertVersion(this.db, { id: versionId, productId: id, version: '1.0.0', status: 'in-review', manifest: {}, source: '', at: this.now() });
    const listed = opts.listed ?? true;
    if (listed) {
      await setVersionStatus(this.db, versionId, ['in-review'], 'listed', this.now(), null);
      await refreshListed(this.db, id);
    }
    return { id, name, org, versionId, listed, fields: productFields(name, opts) };
  }

  /** `n` products from a seeded mix (3 providers, 4 categories, 0–3 families, some org-only, some never listed) and the queries to check them with. */
  async catalog(n: number) {
    const rng = seededRng(7);
    const pick = <T>(xs: readonly T[]): T => xs[randomInt(rng, xs.length)]!;
    const orgs = [await this.org('acme'), await this.org('beta'), await this.org('gamma')];
    const all: Awaited<ReturnType<World['product']>>[] = [];
    for (let i = 0; i < n; i++) {
      all.push(
        await this.product(pick(orgs), `prod-${i}`, {
          category: pick(['software', 'model', 'dataset', 'code']),
          families: pickFamilies(rng),
          visibility: randomInt(rng, 5) === 0 ? 'org' : 'public',
          title: [pick(WORDS), pick(WORDS), pick(WORDS)].join(' '),
          listed: randomInt(rng, 8) !== 0,
        }),
      );
    }
    const move = async (p: (typeof all)[number], from: 'listed' | 'in-review' | 'delisted', to: 'listed' | 'delisted') => {
      assert.ok(await setVersionStatus(this.db, p.versionId, [from], to, this.now(), null));
      await refreshListed(this.db, p.id);
    };
    return {
      products: all.filter((p) => p.listed),
      unlisted: all.filter((p) => !p.listed),
      delist: (p: (typeof all)[number]) => move(p, 'listed', 'delisted'),
      relist: (p: (typeof all)[number]) => move(p, 'delisted', 'listed'),
      list: (p: (typeof all)[number]) => move(p, 'in-review', 'listed'),
      /** What publishing a new manifest does to the product's row. */
      edit: (p: (typeof all)[number], change: Partial<Pick<ProductFields, 'category' | 'families' | 'visibility' | 'title'>>) =>
        updateProduct(this.db, p.id, productFields(p.name, { ...p.fields, ...change }), this.now()),
      /** A new version listed with changed fields, the old one delisted: the product stays listed throughout. */
      republish: async (p: (typeof all)[number], change: Partial<Pick<ProductFields, 'category' | 'families'>>) => {
        await updateProduct(this.db, p.id, productFields(p.name, { ...p.fields, ...change }), this.now());
        const next = this.id('version');
        await insertVersion(this.db, { id: next, productId: p.id, version: '2.0.0', status: 'in-review', manifest: {}, source: '', at: this.now() });
        await setVersionStatus(this.db, next, ['in-review'], 'listed', this.now(), null);
        await refreshListed(this.db, p.id);
        await move(p, 'listed', 'delisted');
      },
      /** Every text with every filter, each with a rotating caller, sort and page. */
      queries(): SearchQuery[] {
        const texts = ['', 'alpha', 'be', '分子', 'alpha beta', '动力', 'nothing-matches'];
        const filters: Partial<SearchQuery>[] = [
          {},
          { categories: ['model'] },
          { categories: ['model', 'code'] },
          { families: ['cuda'] },
          { families: ['cann', 'cpu'] },
          { families: ['no-such-family'] },
          { providers: [orgs[0]!.id] },
          { categories: ['software'], families: ['cpu'] },
          { providers: [orgs[1]!.id, orgs[2]!.id], families: ['cuda', 'dtk'] },
          { providers: [orgs[2]!.id], categories: ['dataset'] },
        ];
        const sorts = ['relevance', 'popularity', 'newest'] as const;
        const out: SearchQuery[] = [];
        let i = 0;
        for (const text of texts) {
          for (const f of filters) {
            out.push({ tsquery: searchQuery(text), orgId: orgs[i % 3]!.id, sort: sorts[i % 3]!, limit: 5, offset: i % 4 === 3 ? 3 : 0, ...f });
            i++;
          }
        }
        return out;
      },
    };
  }
}

const WORDS = ['alpha', 'beta', 'bert', 'gamma', '分子动力学', '动力', '分子', '流体', 'solver'];

function pickFamilies(rng: Rng): string[] {
  const families = ['cuda', 'cann', 'dtk', 'cpu'];
  return families.filter(() => randomInt(rng, 3) === 0);
}

function productFields(name: string, opts: Partial<Pick<ProductFields, 'category' | 'families' | 'visibility' | 'title'>>): ProductFields {
  const title = opts.title ?? 'alpha beta 分子动力学';
  const searchText = [name, title].join(' ').toLowerCase();
  return {
    title,
    summary: title,
    description: title,
    category: opts.category ?? 'software',
    tags: [],
    licence: 'Apache-2.0',
    visibility: opts.visibility ?? 'public',
    families: opts.families ?? ['cpu'],
    searchText,
    searchTokens: indexText(searchText),
  };
}

/** Search results with items reduced to their names, for comparison. */
function comparable(r: SearchResultRows) {
  return { names: r.items.map((p) => p.name), total: r.total, facets: r.facets };
}

/**
 * The search as it was before 0005: one statement straight over `products`, slow on a large
 * catalog but plainly right. searchProducts must give exactly its answer.
 */
async function referenceSearch(q: Queryable, s: SearchQuery): Promise<SearchResultRows> {
  const textMatch = s.tsquery ? sql`AND p.search_vector @@ to_tsquery('simple', ${s.tsquery})` : sql``;
  const rank = s.tsquery ? sql`ts_rank(p.search_vector, to_tsquery('simple', ${s.tsquery}))` : sql`0::real`;
  const cat = s.categories?.length ? sql`m.category = ANY(${sql.val([...s.categories])}::text[])` : sql`true`;
  const prov = s.providers?.length ? sql`m.provider_org_id = ANY(${sql.val([...s.providers])}::text[])` : sql`true`;
  const fam = s.families?.length ? sql`m.families ?| ${sql.val([...s.families])}::text[]` : sql`true`;
  const order =
    s.sort === 'popularity' ? sql`m.launches DESC, m.id` : s.sort === 'newest' ? sql`m.created_at DESC, m.id` : sql`(m.rank + 0.01) * (1 + ln(1 + m.launches) / 10) DESC, m.id`;
  const result = await sql<{ ids: string[] | null; total: number; cat: Record<string, number> | null; prov: Record<string, number> | null; fam: Record<string, number> | null }>`
    WITH m AS MATERIALIZED (
      SELECT p.id, p.category, p.provider_org_id, p.families, p.launches, p.created_at, ${rank} AS rank
      FROM products p
      WHERE p.listed AND (p.visibility = 'public' OR p.provider_org_id = ${s.orgId}) ${textMatch}
    )
    SELECT
      (SELECT json_agg(id) FROM (SELECT m.id FROM m WHERE ${cat} AND ${prov} AND ${fam} ORDER BY ${order} LIMIT ${s.limit} OFFSET ${s.offset}) page) AS ids,
      (SELECT count(*) FROM m WHERE ${cat} AND ${prov} AND ${fam})::int AS total,
      (SELECT json_object_agg(k, n) FROM (SELECT m.category AS k, count(*) AS n FROM m WHERE ${prov} AND ${fam} GROUP BY 1) c) AS cat,
      (SELECT json_object_agg(k, n) FROM (SELECT m.provider_org_id AS k, count(*) AS n FROM m WHERE ${cat} AND ${fam} GROUP BY 1) c) AS prov,
      (SELECT json_object_agg(k, n) FROM (SELECT f AS k, count(*) AS n FROM m, jsonb_array_elements_text(m.families) f WHERE ${cat} AND ${prov} GROUP BY 1) c) AS fam
  `.execute(q);
  const row = result.rows[0]!;
  const ids = row.ids ?? [];
  const rows = ids.length ? await q.selectFrom('products').selectAll().where('id', 'in', ids).execute() : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return { items: ids.map((id) => byId.get(id)!), total: row.total, facets: { category: row.cat ?? {}, provider: row.prov ?? {}, family: row.fam ?? {} }, exact: true };
}

/** product_search holds exactly the listed products, and both counter tables a recount of the listed public ones. */
async function assertCountersMatchProducts(q: Queryable, step: string): Promise<void> {
  const rows = async (query: ReturnType<typeof sql>) => (await query.execute(q)).rows.map((r) => JSON.stringify(r)).sort();
  assert.deepEqual(
    await rows(sql`SELECT product_id AS id, provider_org_id, category, families, public, launches::int FROM product_search`),
    await rows(sql`SELECT id, provider_org_id, category, accelerator_family_mask(families) AS families, visibility = 'public' AS public, launches::int FROM products WHERE listed`),
    `${step}: product_search is the listed products`,
  );
  assert.deepEqual(
    await rows(sql`SELECT category, families, n FROM product_facet_cells WHERE n <> 0`),
    await rows(sql`SELECT category, accelerator_family_mask(families) AS families, count(*)::int AS n FROM products WHERE listed AND visibility = 'public' GROUP BY 1, 2`),
    `${step}: product_facet_cells`,
  );
  assert.deepEqual(
    await rows(sql`SELECT provider_org_id, category, n FROM product_provider_cells WHERE n <> 0`),
    await rows(sql`SELECT provider_org_id, category, count(*)::int AS n FROM products WHERE listed AND visibility = 'public' GROUP BY 1, 2`),
    `${step}: product_provider_cells`,
  );
}

function sha256(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

async function poolsByName(q: Queryable, centerId: string) {
  return Object.fromEntries((await listPools(q, centerId)).map((p) => [p.name, p]));
}

async function appliedMigrations(store: Store) {
  const result = await sql<{ version: number; name: string; applied_at: Date }>`
    SELECT version, name, applied_at FROM suanwang_migrations ORDER BY version`.execute(store.db);
  return result.rows;
}

async function events(q: Queryable, jobId: string) {
  return (await listJobEvents(q, jobId)).map((e) => ({ from: e.from_state, to: e.to_state, attempt: e.attempt, message: e.message }));
}

/** Every page of `query` from the newest job on, following the cursor until a short page. */
async function walkJobs(q: Queryable, query: Omit<JobListQuery, 'before'>): Promise<{ seen: string[]; pages: number }> {
  const seen: string[] = [];
  let before: string | undefined;
  for (let pages = 1; pages <= 100; pages++) {
    const page = await listJobs(q, { ...query, before });
    assert.ok(page.length <= query.limit);
    seen.push(...page.map((j) => j.id));
    if (page.length < query.limit) return { seen, pages };
    before = page.at(-1)!.id;
  }
  assert.fail('listJobs never ran out of pages');
}

/**
 * The chunks of one stream, checked to be whole text: every stored row is valid UTF-8 of exactly its
 * byte_length, starts at or after the end of the row before it (no byte stored twice), and has no U+FFFD.
 */
async function storedOutput(q: Queryable, jobId: string, attempt: number, stream: 'stdout' | 'stderr'): Promise<string[]> {
  const rows = await q
    .selectFrom('job_logs')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('attempt', '=', attempt)
    .where('stream', '=', stream)
    .orderBy('byte_offset')
    .execute();
  let end = 0;
  for (const row of rows) {
    assert.equal(Buffer.byteLength(row.data, 'utf8'), row.byte_length, `chunk at byte ${row.byte_offset} holds exactly byte_length bytes`);
    assert.ok(!row.data.includes('\uFFFD'), `chunk at byte ${row.byte_offset} is whole characters: ${JSON.stringify(row.data)}`);
    assert.ok(row.byte_offset >= end, `chunk at byte ${row.byte_offset} does not overlap the one before (ending at ${end})`);
    end = row.byte_offset + row.byte_length;
  }
  return rows.map((r) => r.data);
}

// ---------------------------------------------------------------------------------------------
// Concurrent moves of one job

/** One party's move of a job inside its transaction: the row when it happened, undefined when not. */
type Move = (trx: Queryable, jobId: string, at: Date) => Promise<JobRow | undefined>;

const start = (attempt?: number): Move => (q, id, at) =>
  transitionJob(q, id, 'running', { started_at: at }, { at, message: 'started', attempt });
const succeed: Move = (q, id, at) =>
  transitionJob(q, id, 'succeeded', { exit_code: 0, finished_at: at }, { at, message: 'exited with code 0' });
const cancel: Move = (q, id, at) =>
  transitionJob(q, id, 'cancelled', { cancel_requested_at: at, finished_at: at, reason: 'cancelled by alice' }, { at, message: 'cancelled by alice' });
const requeue = (attempt: number): Move => (q, id, at) =>
  transitionJob(q, id, 'queued', { center_id: null, pool_id: null, placed_at: null, reason: 'center lost' }, { at, message: 'requeued', attempt });
/** What a lost center and the next scheduler tick do: back to the queue, then placed on the next attempt. */
const requeueAndPlaceAgain = (attempt: number): Move => async (q, id, at) => {
  const job = await getJob(q, id);
  if (!(await requeue(attempt)(q, id, at))) return undefined;
  const bumped = sql<number>`attempt + 1` as unknown as number;
  return transitionJob(q, id, 'placed', { center_id: job?.center_id, pool_id: job?.pool_id, placed_at: at, attempt: bumped }, { at, message: 'placed again' });
};

/**
 * Runs `first` and `second` in two transactions that overlap: `second` begins once `first` has made
 * its changes, and `first` commits only when `second` is waiting for its row lock (PostgreSQL). PGlite
 * has one connection, so there `second` queues behind `first`: the same order, taking turns.
 */
async function overlapping<A, B>(
  store: Store,
  first: (trx: Transaction<Database>) => Promise<A>,
  second: (trx: Transaction<Database>) => Promise<B>,
): Promise<[A, B]> {
  let firstHasMoved!: () => void;
  const moved = new Promise<void>((resolve) => (firstHasMoved = resolve));
  return Promise.all([
    inTransaction(store.db, async (trx) => {
      let result: A;
      try {
        result = await first(trx);
      } finally {
        firstHasMoved();
      }
      if (store.kind === 'postgres') {
        await eventually('the second transaction to wait for the job the first one holds', () => someoneWaitsForALock(store), 5_000, 5);
      }
      return result;
    }),
    moved.then(() => inTransaction(store.db, second)),
  ]);
}

async function someoneWaitsForALock(store: Store): Promise<boolean> {
  const { rows } = await sql<{ waiting: number }>`
    SELECT count(*)::int AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(store.db);
  return (rows[0]?.waiting ?? 0) > 0;
}
