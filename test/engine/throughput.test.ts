import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/api/app.js';
import { createUser } from '../../src/engine/accounts.js';
import { registerAgent } from '../../src/engine/agents.js';
import { createCenter } from '../../src/engine/centers.js';
import { createContext, type EngineContext } from '../../src/engine/context.js';
import { tick } from '../../src/engine/control-loop.js';
import { submitBatch, type JobSpec } from '../../src/engine/jobs.js';
import { loadSnapshot } from '../../src/engine/snapshot.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';

/**
 * The control plane under load, on both databases: a pass picks each org's fair slice of the queue
 * (a big backlog of one org neither starves another nor is read whole), and an agent's batched
 * report (POST /v1/agent/reports) moves many runs at once.
 */
const spec: JobSpec = {
  command: ['true'], env: {}, nodes: 1, acceleratorsPerNode: 0, coresPerNode: 1, memoryMiBPerNode: 64, walltimeSeconds: 3600,
  accelerators: [], objective: 'balanced', priority: 0, maxAttempts: 3, forbidAccelerators: [], regions: [], inputs: [],
};

for (const database of await testDatabases()) {
  describe(`throughput paths (${database.name})`, { skip: database.skip, timeout: 300_000 }, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let ctx: EngineContext;
    let app: ReturnType<typeof createApp>;
    let agentToken: string;
    let sessionId: string;
    let orgA: Awaited<ReturnType<typeof createUser>>;
    let orgB: Awaited<ReturnType<typeof createUser>>;
    const asUser = (u: Awaited<ReturnType<typeof createUser>>, name: string) => ({ kind: 'user' as const, userId: u.userId, orgId: u.orgId, name, role: 'user' as const });

    before(async () => {
      const fresh = await database.fresh();
      drop = fresh.drop;
      store = await openStore({ databaseUrl: fresh.databaseUrl });
      ctx = createContext(store, { agentDeadlineMs: 3_600_000 });
      app = createApp(ctx);
      orgA = await createUser(ctx, { orgName: 'org-a', name: 'ann', role: 'user' });
      orgB = await createUser(ctx, { orgName: 'org-b', name: 'bo', role: 'user' });
      const center = await createCenter(ctx, {
        name: 'small',
        displayName: 'Small',
        region: 'ningxia',
        operatorOrg: 'ops',
        energy: { priceFenPerKwh: Array(24).fill(30), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 },
        prices: { cpu: { fenPerAcceleratorHour: 0, fenPerCoreHour: 10 } },
      });
      agentToken = center.agentToken;
      sessionId = (
        await registerAgent(ctx, center.centerId, {
          connector: 'local',
          agentVersion: 'test',
          pools: [{ name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 10, memoryMiBPerNode: 65536, nodes: 2 }],
          commands: ['true'],
          runs: [],
        })
      ).sessionId;
    });
    after(async () => {
      await store.close();
      await drop();
    });

    it('gives org B its share of a pass although org A has 5,000 jobs queued before them', async () => {
      await submitBatch(ctx, asUser(orgA, 'ann'), [{ ...spec, array: '1-5000' }]);
      await submitBatch(ctx, asUser(orgB, 'bo'), [{ ...spec, array: '1-10' }]);
      // A pass that may look at 100 jobs still sees all 10 of B's (budget shared by weight, B wants fewer).
      await tick(ctx); // admits both orgs' jobs (and places the first 20)
      const { snapshot } = await loadSnapshot(store.db, Date.now(), 100);
      assert.equal(snapshot.jobs.length, 100);
      const placedB = await store.db.selectFrom('jobs').select('id').where('org_id', '=', orgB.orgId).where('state', '=', 'placed').execute();
      const queuedB = snapshot.jobs.filter((j) => j.orgId === orgB.orgId).length;
      assert.equal(placedB.length + queuedB, 10, 'every job of B is placed or in the next pass');
      // 20 slots, equal weights: B's jobs hold half of them.
      assert.equal(placedB.length, 10, 'B got its fair half of the 20 slots');
    });

    it('applies a batched agent report: starts, ends, output, and kill for a stale run', async () => {
      const placed = await store.db.selectFrom('jobs').select(['id', 'attempt']).where('state', '=', 'placed').orderBy('id').limit(3).execute();
      assert.equal(placed.length, 3);
      const [a, b, c] = placed as [(typeof placed)[0], (typeof placed)[0], (typeof placed)[0]];
      const now = Date.now();
      const res = await app.request('/v1/agent/reports', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${agentToken}`, 'x-agent-session': sessionId },
        body: JSON.stringify({
          logs: [{ jobId: a.id, attempt: a.attempt, chunks: [{ stream: 'stdout', offset: 0, data: 'hello\n' }] }],
          states: [
            { jobId: a.id, attempt: a.attempt, state: 'running', exitCode: null, reason: null, at: now - 50 },
            { jobId: a.id, attempt: a.attempt, state: 'succeeded', exitCode: 0, reason: null, at: now },
            { jobId: b.id, attempt: b.attempt, state: 'running', exitCode: null, reason: null, at: now },
            { jobId: c.id, attempt: c.attempt, state: 'running', exitCode: null, reason: null, at: now },
            { jobId: c.id, attempt: c.attempt, state: 'failed', exitCode: 3, reason: null, at: now },
            { jobId: b.id, attempt: b.attempt + 7, state: 'running', exitCode: null, reason: null, at: now },
          ],
        }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { states: { jobId: string; action: string }[] };
      assert.deepEqual(body.states.map((s) => s.action), ['ok', 'ok', 'ok', 'ok', 'ok', 'kill']);
      const rows = new Map((await store.db.selectFrom('jobs').selectAll().where('id', 'in', [a.id, b.id, c.id]).execute()).map((j) => [j.id, j]));
      assert.equal(rows.get(a.id)!.state, 'succeeded');
      assert.equal(rows.get(a.id)!.exit_code, 0);
      assert.ok(rows.get(a.id)!.started_at! <= rows.get(a.id)!.finished_at!, 'started before it finished');
      assert.equal(rows.get(b.id)!.state, 'running');
      assert.equal(rows.get(c.id)!.state, 'failed');
      assert.equal(rows.get(c.id)!.exit_code, 3);
      const logs = await store.db.selectFrom('job_logs').select('data').where('job_id', '=', a.id).execute();
      assert.deepEqual(logs.map((l) => l.data), ['hello\n']);
      const events = await store.db.selectFrom('job_events').select(['to_state']).where('job_id', '=', a.id).orderBy('id').execute();
      assert.deepEqual(events.map((e) => e.to_state), ['submitted', 'queued', 'placed', 'running', 'succeeded']);
    });

    it("refuses one run's bad output in a batched report without failing the other runs' reports", async () => {
      const placed = await store.db.selectFrom('jobs').select(['id', 'attempt']).where('state', '=', 'placed').orderBy('id').limit(2).execute();
      assert.equal(placed.length, 2);
      const [a, b] = placed as [(typeof placed)[0], (typeof placed)[0]];
      const res = await app.request('/v1/agent/reports', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${agentToken}`, 'x-agent-session': sessionId },
        body: JSON.stringify({
          // a's chunk starts past a gap (409 log_gap on its own); b's output and state are fine.
          logs: [
            { jobId: a.id, attempt: a.attempt, chunks: [{ stream: 'stdout', offset: 4096, data: 'late\n' }] },
            { jobId: b.id, attempt: b.attempt, chunks: [{ stream: 'stdout', offset: 0, data: 'fine\n' }] },
          ],
          states: [{ jobId: b.id, attempt: b.attempt, state: 'running', exitCode: null, reason: null, at: Date.now() }],
        }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const body = (await res.json()) as { states: { action: string }[]; refusedLogs: { jobId: string; code: string }[] };
      assert.deepEqual(body.refusedLogs.map((r) => [r.jobId, r.code]), [[a.id, 'log_gap']]);
      assert.deepEqual(body.states.map((s) => s.action), ['ok']);
      assert.equal((await store.db.selectFrom('jobs').select('state').where('id', '=', b.id).executeTakeFirstOrThrow()).state, 'running');
      const logsB = await store.db.selectFrom('job_logs').select('data').where('job_id', '=', b.id).execute();
      assert.deepEqual(logsB.map((l) => l.data), ['fine\n']);
      assert.equal((await store.db.selectFrom('job_logs').select('data').where('job_id', '=', a.id).execute()).length, 0);
    });

    it('hands leases out by cursor: a second poll from the last cursor gets only what was placed since', async () => {
      const headers = { authorization: `Bearer ${agentToken}`, 'x-agent-session': sessionId };
      const first = (await (await app.request('/v1/agent/leases?waitMs=0', { headers })).json()) as { leases: { jobId: string }[]; cursor: string };
      assert.ok(first.leases.length > 0);
      const again = (await (await app.request(`/v1/agent/leases?waitMs=0&after=${first.cursor}`, { headers })).json()) as { leases: unknown[]; cursor: string };
      assert.equal(again.leases.length, 0);
      assert.equal(again.cursor, first.cursor);
    });
  });
}
