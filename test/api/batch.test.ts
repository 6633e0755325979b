import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/api/app.js';
import { createUser } from '../../src/engine/accounts.js';
import { registerAgent } from '../../src/engine/agents.js';
import { createCenter } from '../../src/engine/centers.js';
import { createContext, type EngineContext } from '../../src/engine/context.js';
import { tick } from '../../src/engine/control-loop.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';

/**
 * Batch submission and job arrays through the HTTP app (no port), on both databases: all or
 * nothing, array expansion with its environment, Idempotency-Key replays.
 */
for (const database of await testDatabases()) {
  describe(`batch submission (${database.name})`, { skip: database.skip, timeout: 120_000 }, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let ctx: EngineContext;
    let app: ReturnType<typeof createApp>;
    let alice: string;

    before(async () => {
      const fresh = await database.fresh();
      drop = fresh.drop;
      store = await openStore({ databaseUrl: fresh.databaseUrl });
      ctx = createContext(store);
      app = createApp(ctx);
      alice = (await createUser(ctx, { orgName: 'lab-a', name: 'alice', role: 'user' })).token;
      const { centerId } = await createCenter(ctx, {
        name: 'west',
        displayName: 'West',
        region: 'ningxia',
        operatorOrg: 'ops',
        energy: { priceFenPerKwh: Array(24).fill(30), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 },
        prices: { cpu: { fenPerAcceleratorHour: 0, fenPerCoreHour: 10 } },
      });
      await registerAgent(ctx, centerId, {
        connector: 'local',
        agentVersion: 'test',
        pools: [{ name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 }],
        commands: ['sh', 'echo', 'true', 'sleep'],
        runs: [],
      });
    });
    after(async () => {
      await store.close();
      await drop();
    });

    function post(path: string, body: unknown, headers: Record<string, string> = {}) {
      return app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}`, ...headers },
        body: JSON.stringify(body),
      });
    }
    async function jobCount(): Promise<number> {
      const r = await store.db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    }
    type Batch = { items: { id: string; name: string; state: string; arrayId: string | null; arrayIndex: number | null }[]; created: boolean };

    it('accepts a batch and answers with every job in order', async () => {
      const res = await post('/v1/jobs/batch', { jobs: [{ command: ['true'], name: 'one' }, { command: ['echo', 'hi'], name: 'two' }] });
      assert.equal(res.status, 201);
      const body = (await res.json()) as Batch;
      assert.deepEqual(body.items.map((j) => [j.name, j.state]), [['one', 'submitted'], ['two', 'submitted']]);
      assert.ok(body.items[0]!.id < body.items[1]!.id, 'ids sort in batch order');
    });

    it('writes nothing when one job of the batch is bad, and names jobs[i].field', async () => {
      const before = await jobCount();
      for (const [jobs, field] of [
        [[{ command: ['true'] }, { command: ['true'], nodes: 0 }], 'jobs[1].nodes'],
        [[{ command: ['true'] }, { command: ['true'], accelerators: ['no-such-chip'] }], 'jobs[1].accelerators[0]'],
        [[{ command: ['no-such-program'] }, { command: ['true'] }], 'jobs[0].command[0]'],
        [[{ command: ['true'], array: '5-1' }], 'jobs[0].array'],
        [[{ command: ['true'], array: '1-9000' }, { command: ['true'], array: '1-2000' }], 'jobs'],
      ] as const) {
        const res = await post('/v1/jobs/batch', { jobs });
        const body = (await res.json()) as { error: { code: string; field: string; message: string } };
        assert.ok(res.status >= 400 && res.status < 500, JSON.stringify(body));
        assert.equal(body.error.field, field, body.error.message);
      }
      const empty = await post('/v1/jobs/batch', { jobs: [] });
      assert.equal(empty.status, 400);
      assert.equal(await jobCount(), before, 'nothing was written');
    });

    it('expands a job array with SUANWANG_ARRAY_INDEX and SUANWANG_ARRAY_ID', async () => {
      const res = await post('/v1/jobs/batch', { jobs: [{ command: ['true'], name: 'sweep', array: '0-9:3', env: { A: 'b' } }] });
      assert.equal(res.status, 201);
      const body = (await res.json()) as Batch;
      assert.deepEqual(body.items.map((j) => j.arrayIndex), [0, 3, 6, 9]);
      const arrayId = body.items[0]!.id;
      assert.ok(body.items.every((j) => j.arrayId === arrayId));
      const third = (await (await app.request(`/v1/jobs/${body.items[2]!.id}`, { headers: { authorization: `Bearer ${alice}` } })).json()) as {
        job: { name: string; env: Record<string, string>; arrayId: string; arrayIndex: number };
      };
      assert.equal(third.job.name, 'sweep[6]');
      assert.deepEqual(third.job.env, { A: 'b', SUANWANG_ARRAY_ID: arrayId, SUANWANG_ARRAY_INDEX: '6' });
      assert.equal(third.job.arrayIndex, 6);
      const single = await post('/v1/jobs', { command: ['true'], array: '1-3' });
      assert.equal(single.status, 400);
      assert.equal(((await single.json()) as { error: { field: string } }).error.field, 'array');
    });

    it('replays a batch for its Idempotency-Key and refuses the key for another request', async () => {
      const jobs = [{ command: ['true'], array: '1-3' }, { command: ['echo', 'x'] }];
      const first = await post('/v1/jobs/batch', { jobs }, { 'idempotency-key': 'batch-1' });
      assert.equal(first.status, 201);
      const before = await jobCount();
      const again = await post('/v1/jobs/batch', { jobs }, { 'idempotency-key': 'batch-1' });
      assert.equal(again.status, 200);
      const [a, b] = [(await first.json()) as Batch, (await again.json()) as Batch];
      assert.deepEqual(b.items.map((j) => j.id), a.items.map((j) => j.id));
      assert.equal(b.created, false);
      assert.equal(await jobCount(), before);
      const other = await post('/v1/jobs/batch', { jobs: [{ command: ['true'] }] }, { 'idempotency-key': 'batch-1' });
      assert.equal(other.status, 409);
      const single = await post('/v1/jobs', { command: ['true'] }, { 'idempotency-key': 'batch-1' });
      assert.equal(single.status, 409);
    });

    it('admits and places batch jobs in a pass', async () => {
      await tick(ctx);
      const states = await store.db.selectFrom('jobs').select(['state']).execute();
      assert.ok(states.every((s) => s.state === 'placed' || s.state === 'queued'), JSON.stringify(states));
      assert.ok(states.some((s) => s.state === 'placed'));
      const events = await store.db.selectFrom('job_events').select(['to_state']).where('to_state', '=', 'queued').execute();
      assert.equal(events.length, states.length, 'one admission event per job');
    });
  });
}
