import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/api/app.js';
import { createUser } from '../../src/engine/accounts.js';
import { registerAgent } from '../../src/engine/agents.js';
import { createCenter } from '../../src/engine/centers.js';
import { createContext, type EngineContext } from '../../src/engine/context.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';

/**
 * Bad input gets a documented 4xx with a stable code naming the field, and changes nothing.
 * Runs the HTTP app without a port (app.request) on both databases.
 */
for (const database of await testDatabases()) {
  describe(`bad input is refused and changes nothing (${database.name})`, { skip: database.skip }, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let ctx: EngineContext;
    let app: ReturnType<typeof createApp>;
    let alice: string; // org "lab-a"
    let bob: string; // org "lab-b"
    let bobsJob: string;

    before(async () => {
      const fresh = await database.fresh();
      drop = fresh.drop;
      store = await openStore({ databaseUrl: fresh.databaseUrl });
      ctx = createContext(store);
      app = createApp(ctx);
      alice = (await createUser(ctx, { orgName: 'lab-a', name: 'alice', role: 'user' })).token;
      bob = (await createUser(ctx, { orgName: 'lab-b', name: 'bob', role: 'user' })).token;
      const { centerId } = await createCenter(ctx, {
        name: 'west',
        displayName: 'West',
        region: 'ningxia',
        operatorOrg: 'ops',
        energy: { priceFenPerKwh: Array(24).fill(30), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 },
        prices: { npu: { fenPerAcceleratorHour: 600, fenPerCoreHour: 0 } },
      });
      await registerAgent(ctx, centerId, {
        connector: 'local',
        agentVersion: 'test',
        pools: [{ name: 'npu', accelerator: 'ascend-910b', acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 }],
        commands: ['sh', 'echo', 'python3', 'sleep'],
        runs: [],
      });
      const created = await post('/v1/jobs', { command: ['sleep', '1'] }, bob);
      assert.equal(created.status, 201);
      bobsJob = ((await created.json()) as { id: string }).id;
    });
    after(async () => {
      await store.close();
      await drop();
    });

    function post(path: string, body: unknown, token?: string, headers: Record<string, string> = {}) {
      return app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    }
    async function counts() {
      const jobs = await store.db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const events = await store.db.selectFrom('job_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { jobs: Number(jobs.n), events: Number(events.n) };
    }
    /** Sends a request, checks status, code and field, and that no job or event was written. */
    async function refused(send: () => Response | Promise<Response>, status: number, code: string, field?: string) {
      const before = await counts();
      const res = await send();
      const body = (await res.json()) as { error: { code: string; message: string; field?: string; hint?: string } };
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(body.error.code, code);
      assert.ok(body.error.message.length > 10, 'the message says what is wrong');
      if (field !== undefined) assert.equal(body.error.field, field);
      assert.deepEqual(await counts(), before, 'nothing was written');
      return body.error;
    }

    const table: readonly { name: string; body: unknown; status: number; code: string; field?: string; mentions?: string }[] = [
      { name: 'an unknown field', body: { command: ['echo'], gpus: 1 }, status: 400, code: 'unknown_field', field: 'gpus' },
      { name: 'a misspelt nested field', body: { command: ['echo'], env: { OK: 'x' }, nodez: 2 }, status: 400, code: 'unknown_field', field: 'nodez' },
      { name: 'negative accelerators', body: { command: ['echo'], acceleratorsPerNode: -1 }, status: 400, code: 'invalid_field', field: 'acceleratorsPerNode', mentions: '-1' },
      { name: 'zero nodes', body: { command: ['echo'], nodes: 0 }, status: 400, code: 'invalid_field', field: 'nodes' },
      { name: 'absurd node count', body: { command: ['echo'], nodes: 1e9 }, status: 400, code: 'invalid_field', field: 'nodes', mentions: '1000000000' },
      { name: 'absurd memory', body: { command: ['echo'], memoryMiBPerNode: 1e15 }, status: 400, code: 'invalid_field', field: 'memoryMiBPerNode' },
      { name: 'fractional cores', body: { command: ['echo'], coresPerNode: 1.5 }, status: 400, code: 'invalid_field', field: 'coresPerNode' },
      { name: 'a walltime of a century', body: { command: ['echo'], walltimeSeconds: 3.2e9 }, status: 400, code: 'invalid_field', field: 'walltimeSeconds' },
      { name: 'resources as strings', body: { command: ['echo'], nodes: '2' }, status: 400, code: 'invalid_field', field: 'nodes' },
      { name: 'no command', body: { nodes: 1 }, status: 400, code: 'invalid_field', field: 'command' },
      { name: 'an empty command', body: { command: [] }, status: 400, code: 'invalid_field', field: 'command' },
      { name: 'an empty program', body: { command: [''] }, status: 400, code: 'invalid_field', field: 'command' },
      { name: 'a bad objective', body: { command: ['echo'], objective: 'cheap' }, status: 400, code: 'invalid_field', field: 'objective' },
      { name: 'a bad env name', body: { command: ['echo'], env: { 'A-B': '1' } }, status: 400, code: 'invalid_field', field: 'env.A-B' },
      { name: 'an unknown accelerator', body: { command: ['echo'], accelerators: ['nvidia-a1000'] }, status: 400, code: 'invalid_field', field: 'accelerators[0]' },
      { name: 'a deadline in the past', body: { command: ['echo'], deadline: '2001-01-01T00:00:00Z' }, status: 400, code: 'invalid_field', field: 'deadline', mentions: '2001' },
      { name: 'a deadline that is not a time', body: { command: ['echo'], deadline: 'tomorrow' }, status: 400, code: 'invalid_field', field: 'deadline' },
      { name: 'a negative budget', body: { command: ['echo'], budgetFen: -5 }, status: 400, code: 'invalid_field', field: 'budgetFen' },
      { name: 'an unknown input dataset', body: { command: ['echo'], inputs: ['no-such-data'] }, status: 400, code: 'invalid_field', field: 'inputs[0]', mentions: 'no-such-data' },
      { name: 'an unknown forbidden chip', body: { command: ['echo'], forbidAccelerators: ['tpu-v9'] }, status: 400, code: 'invalid_field', field: 'forbidAccelerators[0]' },
      { name: 'objective weights with a typo', body: { command: ['echo'], objective: { weights: { cost: 1, time: 1, co2: 1 } } }, status: 400, code: 'invalid_field', field: 'objective' },
      { name: 'a command that does not exist', body: { command: ['no-such-program-xyz', '--help'] }, status: 422, code: 'command_not_found', field: 'command[0]', mentions: 'no-such-program-xyz' },
      { name: 'more accelerators per node than any node has', body: { command: ['echo'], acceleratorsPerNode: 9 }, status: 422, code: 'unsatisfiable', mentions: '8' },
      { name: 'a gang larger than any pool', body: { command: ['echo'], nodes: 3, acceleratorsPerNode: 1 }, status: 422, code: 'unsatisfiable' },
      { name: 'a residency no center satisfies', body: { command: ['echo'], regions: ['guangdong'] }, status: 422, code: 'unsatisfiable', mentions: 'guangdong' },
      { name: 'a budget no option meets', body: { command: ['echo'], acceleratorsPerNode: 8, walltimeSeconds: 36000, budgetFen: 100 }, status: 422, code: 'unsatisfiable', mentions: 'budget' },
      { name: 'a chip no center has', body: { command: ['echo'], acceleratorsPerNode: 1, accelerators: ['nvidia-h100'] }, status: 422, code: 'unsatisfiable' },
    ];
    for (const c of table) {
      it(`refuses ${c.name}`, async () => {
        const error = await refused(() => post('/v1/jobs', c.body, alice), c.status, c.code, c.field);
        if (c.mentions) assert.match(error.message, new RegExp(c.mentions));
        assert.ok(error.hint, 'says how to fix it');
      });
    }

    it('names the real cause in the hint of a job no center can ever run', async () => {
      const cases: readonly [body: unknown, hint: RegExp][] = [
        [{ command: ['torchrun'] }, /install "torchrun" at a center/],
        [{ command: ['echo'], acceleratorsPerNode: 1, walltimeSeconds: 60, runtimeSeconds: 7200, referenceAccelerator: 'ascend-910b' }, /raise --time/],
        [{ command: ['echo'], regions: ['guangdong'] }, /--region/],
        [{ command: ['echo'], nodes: 3, acceleratorsPerNode: 1 }, /fewer nodes/],
      ];
      for (const [body, hint] of cases) {
        const error = await refused(() => post('/v1/jobs', body, alice), 422, body === cases[0]![0] ? 'command_not_found' : 'unsatisfiable');
        assert.match(error.hint ?? '', hint, JSON.stringify(body));
      }
    });
    it('accepts a program given by a path relative to the job folder, which no PATH lists', async () => {
      const res = await post('/v1/quote', { command: ['./train.sh'] }, alice);
      assert.equal(res.status, 200, await res.clone().text());
    });
    it('quotes a job with an input dataset as submit would take it', async () => {
      const created = await post('/v1/datasets', { name: 'corpus', bytes: 1_000_000_000, centers: ['west'] }, alice);
      assert.equal(created.status, 201, await created.clone().text());
      const res = await post('/v1/quote', { command: ['echo'], acceleratorsPerNode: 1, inputs: ['corpus'] }, alice);
      const body = (await res.json()) as { now: { placed?: boolean; summary: string } };
      assert.equal(res.status, 200);
      assert.doesNotMatch(body.now.summary, /not a known dataset|can never run/, body.now.summary);
    });
    it('refuses a 10 MB payload with 413', async () => {
      const big = JSON.stringify({ command: ['echo', 'x'.repeat(10 * 1024 * 1024)] });
      await refused(() => post('/v1/jobs', big, alice), 413, 'payload_too_large');
    });
    it('refuses invalid JSON and a non-JSON body', async () => {
      await refused(() => post('/v1/jobs', '{"command": [', alice), 400, 'invalid_json');
      await refused(() => app.request('/v1/jobs', { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'text/plain' }, body: 'echo hi' }), 415, 'unsupported_media_type', 'Content-Type');
    });
    it('refuses a missing, malformed or wrong token with 401', async () => {
      await refused(() => post('/v1/jobs', { command: ['echo'] }), 401, 'unauthenticated', 'Authorization');
      await refused(() => post('/v1/jobs', { command: ['echo'] }, undefined, { authorization: 'Token abc' }), 401, 'unauthenticated', 'Authorization');
      await refused(() => post('/v1/jobs', { command: ['echo'] }, 'sw_u_not-a-real-token'), 401, 'unauthenticated', 'Authorization');
      const res = await app.request('/v1/jobs', { headers: { authorization: 'Bearer nope' } });
      assert.equal(res.status, 401);
    });
    it("treats another org's job as not found, for reading, logs and cancelling", async () => {
      for (const path of [`/v1/jobs/${bobsJob}`, `/v1/jobs/${bobsJob}/logs`]) {
        await refused(() => app.request(path, { headers: { authorization: `Bearer ${alice}` } }), 404, 'job_not_found', 'id');
      }
      await refused(() => post(`/v1/jobs/${bobsJob}/cancel`, {}, alice), 404, 'job_not_found', 'id');
      const list = (await (await app.request('/v1/jobs', { headers: { authorization: `Bearer ${alice}` } })).json()) as { items: unknown[] };
      assert.equal(list.items.length, 0, "alice does not see bob's job in her list");
      const own = await app.request(`/v1/jobs/${bobsJob}`, { headers: { authorization: `Bearer ${bob}` } });
      assert.equal(own.status, 200, 'its owner does');
    });
    it('keeps agent endpoints for center tokens and admin endpoints for admins', async () => {
      await refused(() => post('/v1/agent/heartbeat', { runs: [] }, alice), 403, 'forbidden');
      await refused(() => post('/v1/users', { org: 'x-org', name: 'mallory' }, alice), 403, 'forbidden');
    });
    it('replays an Idempotency-Key and refuses its reuse for another job', async () => {
      const first = await post('/v1/jobs', { command: ['echo', 'once'] }, alice, { 'idempotency-key': 'k-1' });
      assert.equal(first.status, 201);
      const again = await post('/v1/jobs', { command: ['echo', 'once'] }, alice, { 'idempotency-key': 'k-1' });
      assert.equal(again.status, 200);
      assert.equal(((await again.json()) as { id: string }).id, ((await first.json()) as { id: string }).id);
      await refused(() => post('/v1/jobs', { command: ['echo', 'twice'] }, alice, { 'idempotency-key': 'k-1' }), 409, 'idempotency_key_reused', 'Idempotency-Key');
    });
    it('answers unknown endpoints with a 404 in the error shape', async () => {
      const res = await app.request('/v1/nope');
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
    });
    it('serves an OpenAPI 3.1 document generated from the validating schemas', async () => {
      const doc = (await (await app.request('/v1/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; additionalProperties: unknown } }> } }>> };
      assert.equal(doc.openapi, '3.1.0');
      const schema = doc.paths['/v1/jobs']!.post!.requestBody!.content['application/json']!.schema;
      assert.ok('acceleratorsPerNode' in schema.properties);
      assert.equal(schema.additionalProperties, false, 'unknown fields are refused, and the document says so');
      assert.ok(doc.paths['/v1/jobs/{id}/logs'], 'paths use OpenAPI templates');
    });
  });
}
