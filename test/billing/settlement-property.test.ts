// A property of billing through the engine, on BOTH databases: for any sequence of jobs (chip,
// walltime, how long they run, how they end) against any starting paid and granted credit, the
// wallet ends at exactly what an independent model says (hold = walltime at the rate, charged =
// the time used capped at the hold, minus a 30% voucher on the 910B, nothing for a platform failure
// or a cancel before start), a submission is refused (402) exactly when its hold exceeds the wallet,
// every attempt is settled once, no hold is left pending, and the ledger's invariants hold.
// Planted once to see it fail: `userPays = post + fee` (the voucher share not deducted) in
// settlement.ts — caught as a wallet/model mismatch and a center-earnings mismatch; removed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createApp } from '../../src/api/app.js';
import { ManualClock } from '../../src/core/clock.js';
import { createUser } from '../../src/engine/accounts.js';
import { registerAgent, reportState } from '../../src/engine/agents.js';
import { grantCredit, topUp, walletOf } from '../../src/engine/billing/index.js';
import { createProgram } from '../../src/engine/billing/programs.js';
import { createCenter } from '../../src/engine/centers.js';
import { createContext } from '../../src/engine/context.js';
import { tick } from '../../src/engine/control-loop.js';
import { balancesFromTransfers } from '../../src/store/ledger.js';
import { openStore } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';

const T0 = Date.parse('2026-06-01T08:00:00Z');
const MIN = 60_000;
const energy = { priceFenPerKwh: Array(24).fill(30), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 };
const RATE = { npu: 600, gpu: 500 } as const;
const CHIP = { npu: 'ascend-910b', gpu: 'nvidia-a100' } as const;
const ENDINGS = ['succeeded', 'failed', 'infra', 'cancel-before-start', 'cancel-running'] as const;

const job = fc.record({
  pool: fc.constantFrom('npu' as const, 'gpu' as const),
  walltimeMin: fc.integer({ min: 1, max: 180 }),
  runMin: fc.integer({ min: 0, max: 240 }),
  ending: fc.constantFrom(...ENDINGS),
  retryFinal: fc.boolean(),
});
const scenario = fc.record({ paid: fc.integer({ min: 0, max: 3_000 }), granted: fc.integer({ min: 0, max: 800 }), jobs: fc.array(job, { minLength: 1, maxLength: 6 }) });

/** The half-up rounding of rate × minutes / 60 (exact for these rates: never a tie). */
const priceOf = (rate: number, minutes: number) => Math.floor((rate * minutes) / 60 + 0.5);

for (const database of await testDatabases()) {
  describe(`billing settlement property on ${database.name}`, { skip: database.skip, timeout: 300_000 }, () => {
    it('the wallet ends where the model says; refusals, single settlement and the ledger invariants hold', { timeout: 280_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          const fresh = await database.fresh();
          const store = await openStore({ databaseUrl: fresh.databaseUrl });
          try {
            const clock = new ManualClock(T0);
            const ctx = createContext(store, { billing: 'on', agentDeadlineMs: 365 * 24 * 3_600_000 }, clock);
            const app = createApp(ctx);
            const token = (await createUser(ctx, { orgName: 'acme', name: 'alice', role: 'user' })).token;
            const centers = {
              npu: await createCenter(ctx, { name: 'nx', displayName: 'NX', region: 'ningxia', operatorOrg: 'ops', energy, prices: { npu: { fenPerAcceleratorHour: RATE.npu, fenPerCoreHour: 0 } } }),
              gpu: await createCenter(ctx, { name: 'sh', displayName: 'SH', region: 'shanghai', operatorOrg: 'ops', energy, prices: { gpu: { fenPerAcceleratorHour: RATE.gpu, fenPerCoreHour: 0 } } }),
            };
            const sessions = {
              npu: (await registerAgent(ctx, centers.npu.centerId, { connector: 'local', agentVersion: 't', pools: [{ name: 'npu', accelerator: CHIP.npu, acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 }], commands: ['echo'], runs: [] })).sessionId,
              gpu: (await registerAgent(ctx, centers.gpu.centerId, { connector: 'local', agentVersion: 't', pools: [{ name: 'gpu', accelerator: CHIP.gpu, acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 }], commands: ['echo'], runs: [] })).sessionId,
            };
            if (s.paid > 0) await topUp(ctx, 'acme', s.paid, 'initial');
            if (s.granted > 0) await grantCredit(ctx, { org: 'acme', amountFen: s.granted });
            await createProgram(ctx, { name: 'domestic 30%', funding: { kind: 'pool', total: 10_000_000 }, coPayBps: 3000, scope: { domesticOnly: true }, validFrom: T0 - 1, validUntil: T0 + 365 * 24 * 3_600_000 });
            const orgId = (await store.db.selectFrom('orgs').select('id').where('name', '=', 'acme').executeTakeFirstOrThrow()).id;
            const post = (path: string, body?: unknown) =>
              app.request(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

            let model = s.paid + s.granted;
            for (const j of s.jobs) {
              const hold = priceOf(RATE[j.pool], j.walltimeMin);
              const res = await post('/v1/jobs', { command: ['echo'], acceleratorsPerNode: 1, accelerators: [CHIP[j.pool]], walltimeSeconds: j.walltimeMin * 60, maxAttempts: 1 });
              const body = (await res.json()) as { id?: string; error?: { code: string } };
              if (hold > model) {
                assert.equal(res.status, 402, `a hold of ${hold} over a wallet of ${model} is refused`);
                continue;
              }
              assert.equal(res.status, 201, JSON.stringify(body));
              const id = body.id!;
              await tick(ctx);
              const placed = await store.db.selectFrom('jobs').select(['state', 'attempt']).where('id', '=', id).executeTakeFirstOrThrow();
              assert.equal(placed.state, 'placed');
              const center = centers[j.pool].centerId;
              const session = sessions[j.pool];
              const report = (state: 'running' | 'succeeded' | 'failed' | 'cancelled', reason: string | null = null) =>
                reportState(ctx, center, session, id, { attempt: placed.attempt, state, exitCode: state === 'running' ? null : state === 'succeeded' ? 0 : 1, reason, at: clock.now() });
              if (j.ending === 'cancel-before-start') {
                assert.equal((await post(`/v1/jobs/${id}/cancel`)).status, 202);
                continue;
              }
              await report('running');
              clock.advance(j.runMin * MIN);
              const final = async () => {
                if (j.ending === 'succeeded') await report('succeeded');
                else if (j.ending === 'failed') await report('failed');
                else if (j.ending === 'infra') await report('failed', 'node-failure');
                else await report('cancelled');
              };
              if (j.ending === 'cancel-running') await post(`/v1/jobs/${id}/cancel`);
              await final();
              if (j.retryFinal) await final();
              if (j.ending !== 'infra') {
                const charged = Math.min(priceOf(RATE[j.pool], j.runMin), hold);
                const voucher = j.pool === 'npu' ? Math.floor((charged * 3000) / 10_000) : 0;
                model -= charged - voucher;
              }
            }
            const w = await walletOf(store.db, orgId, clock.now());
            assert.equal(w.paid + w.granted, model, 'paid + granted = the model');
            assert.equal(w.held, 0, 'no hold left once every job ended');
            const pending = await store.db.selectFrom('ledger_transfers').select('id').where('status', '=', 'pending').execute();
            assert.deepEqual(pending, []);
            const held = await store.db.selectFrom('job_charges' as never).select(['job_id' as never]).where('state' as never, '=', 'held' as never).execute();
            assert.deepEqual(held, [], 'every attempt settled');
            // Stored balances = the transfers; debits = credits; each account's earnings = its rows.
            const derived = await balancesFromTransfers(store.db);
            let debits = 0;
            let credits = 0;
            for (const a of await store.db.selectFrom('ledger_accounts').selectAll().execute()) {
              assert.deepEqual(derived.get(a.id), { debitsPending: Number(a.debits_pending), debitsPosted: Number(a.debits_posted), creditsPending: Number(a.credits_pending), creditsPosted: Number(a.credits_posted) }, a.id);
              debits += Number(a.debits_posted);
              credits += Number(a.credits_posted);
              if (a.kind === 'center-earnings') {
                const rows = await store.db.selectFrom('job_charges' as never).select(['center_fen' as never]).where('center_id' as never, '=', a.owner_id as never).execute();
                const fromRows = (rows as { center_fen: number }[]).reduce((t, r) => t + Number(r.center_fen), 0);
                assert.equal(Number(a.credits_posted) - Number(a.debits_posted), fromRows, `${a.id}: earnings = its settled rows`);
              }
            }
            assert.equal(debits, credits, 'debits = credits');
          } finally {
            await store.close();
            await fresh.drop();
          }
        }),
        { numRuns: database.name === 'pglite' ? 8 : 5, seed: 12, endOnFailure: true },
      );
    });
  });
}
