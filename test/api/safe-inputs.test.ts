import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { stringify } from 'yaml';
import { createApp } from '../../src/api/app.js';
import { appManifest } from '../../src/catalog/fixtures.js';
import { createUser } from '../../src/engine/accounts.js';
import { createCenter } from '../../src/engine/centers.js';
import { createContext, type EngineConfig, type EngineContext } from '../../src/engine/context.js';
import { tick } from '../../src/engine/control-loop.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';

/**
 * Issue 11 (safe inputs and limits): each attack reproduced on the old code, as a named regression.
 * Through the HTTP app without a port (app.request), on both databases.
 */
const ENERGY = { priceFenPerKwh: Array(24).fill(30), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 };
const POOL = { name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 4 };

interface Net {
  store: Store;
  ctx: EngineContext;
  app: ReturnType<typeof createApp>;
  alice: string;
  bob: string;
  west: { token: string; session: string };
  east: { token: string; session: string };
  close(): Promise<void>;
}

/** A network of two centers (each with a registered agent) and two users of two orgs. */
async function network(database: Awaited<ReturnType<typeof testDatabases>>[number], config: Partial<EngineConfig> = {}): Promise<Net> {
  const fresh = await database.fresh();
  const store = await openStore({ databaseUrl: fresh.databaseUrl });
  const ctx = createContext(store, config);
  const app = createApp(ctx);
  const alice = (await createUser(ctx, { orgName: 'lab-a', name: 'alice', role: 'user' })).token;
  const bob = (await createUser(ctx, { orgName: 'lab-b', name: 'bob', role: 'user' })).token;
  const join = async (name: string) => {
    const { agentToken } = await createCenter(ctx, { name, displayName: name, region: 'ningxia', operatorOrg: `ops-${name}`, energy: ENERGY, prices: { cpu: { fenPerAcceleratorHour: 0, fenPerCoreHour: 10 } } });
    const res = await call(app, 'POST', '/v1/agent/register', agentToken, { connector: 'local', agentVersion: 'test', pools: [POOL], commands: ['sh', 'echo', 'sleep'], runs: [] });
    assert.equal(res.status, 200, await res.clone().text());
    return { token: agentToken, session: ((await res.json()) as { sessionId: string }).sessionId };
  };
  const west = await join('west');
  const east = await join('east');
  return {
    store,
    ctx,
    app,
    alice,
    bob,
    west,
    east,
    async close() {
      await store.close();
      await fresh.drop();
    },
  };
}

function call(app: Net['app'], method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}) {
  return app.request(path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

type Agent = Net['west'];
const agentCall = (net: Net, agent: Agent, path: string, body: unknown) => call(net.app, 'POST', path, agent.token, body, { 'x-agent-session': agent.session });

/** Submits a job as `token` and runs control-loop turns until it is placed; returns its id and center's agent. */
async function placedJob(net: Net, token: string, body: Record<string, unknown> = {}): Promise<{ id: string; agent: Agent; other: Agent }> {
  const res = await call(net.app, 'POST', '/v1/jobs', token, { command: ['sleep', '1'], ...body });
  assert.equal(res.status, 201, await res.clone().text());
  const id = ((await res.json()) as { id: string }).id;
  for (let i = 0; i < 5; i++) {
    await tick(net.ctx);
    const job = await net.store.db.selectFrom('jobs').select(['state', 'center_id']).where('id', '=', id).executeTakeFirstOrThrow();
    if (job.state === 'placed') {
      const westId = (await net.store.db.selectFrom('centers').select('id').where('name', '=', 'west').executeTakeFirstOrThrow()).id;
      return job.center_id === westId ? { id, agent: net.west, other: net.east } : { id, agent: net.east, other: net.west };
    }
  }
  assert.fail(`job ${id} was not placed`);
}

const pick = (e: { code: string; field: string }) => [e.code, e.field];

async function readAllLogs(net: Net, token: string, id: string): Promise<string> {
  const res = await call(net.app, 'GET', `/v1/jobs/${id}/logs`, token);
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { chunks: { data: string }[] }).chunks.map((c) => c.data).join('');
}

/** Every table's row count and a checksum of its rows: "nothing changed" means nothing, anywhere. */
async function fingerprint(store: Store): Promise<string> {
  const tables = await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`.execute(store.db);
  const parts: string[] = [];
  for (const { name } of tables.rows) {
    const r = await sql<{ n: number; sum: string | null }>`SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS sum FROM ${sql.table(name)} t`.execute(store.db);
    parts.push(`${name}=${r.rows[0]!.n}:${r.rows[0]!.sum ?? ''}`);
  }
  return parts.join(' ');
}

for (const database of await testDatabases()) {
  describe(`safe inputs and limits (${database.name})`, { skip: database.skip, timeout: 120_000 }, () => {
    let net: Net;
    before(async () => {
      net = await network(database);
    });
    after(async () => {
      await net?.close();
    });

    it('regression: a NUL byte (and a lone surrogate) in output is stored, shown, and blocks nothing', async () => {
      const { id, agent } = await placedJob(net, net.alice);
      const started = await agentCall(net, agent, `/v1/agent/jobs/${id}/state`, { attempt: 1, state: 'running', exitCode: null, reason: null, at: Date.now() });
      assert.equal(started.status, 200);
      // JSON carries both as escapes; the old code answered 500 (invalid byte sequence 0x00) forever.
      const nul = await agentCall(net, agent, `/v1/agent/jobs/${id}/logs`, '{"attempt":1,"chunks":[{"stream":"stdout","offset":0,"data":"a\\u0000b\\ud800c\\n"}]}');
      assert.equal(nul.status, 200, await nul.clone().text());
      // a␀b is 3 bytes; the lone surrogate was sent as (and is counted as) the 3 bytes of U+FFFD.
      const more = await agentCall(net, agent, `/v1/agent/jobs/${id}/logs`, { attempt: 1, chunks: [{ stream: 'stdout', offset: 8, data: 'next\n' }] });
      assert.equal(more.status, 200, await more.clone().text());
      assert.equal(await readAllLogs(net, net.alice, id), 'a\u2400b\ufffdc\nnext\n');
      // A chunk past a gap is a 4xx with a code (the agent stops shipping that run), and writes nothing.
      const before = await fingerprint(net.store);
      const gap = await agentCall(net, agent, `/v1/agent/jobs/${id}/logs`, { attempt: 1, chunks: [{ stream: 'stderr', offset: 0, data: 'ok' }, { stream: 'stdout', offset: 99, data: 'x' }] });
      assert.equal(gap.status, 409);
      assert.equal(((await gap.json()) as { error: { code: string } }).error.code, 'log_gap');
      assert.equal(await fingerprint(net.store), before, 'nothing of the report was written');
      // The same run can still end: its center keeps reporting.
      const ended = await agentCall(net, agent, `/v1/agent/jobs/${id}/state`, { attempt: 1, state: 'succeeded', exitCode: 0, reason: null, at: Date.now() });
      assert.equal(ended.status, 200);
    });

    it("regression: an agent touches only runs of its own center (no event on another center's job)", async () => {
      const { id, agent, other } = await placedJob(net, net.bob);
      const run = { jobId: id, attempt: 1, state: 'running', exitCode: null, reason: null, startedAt: Date.now(), finishedAt: null };
      const before = await fingerprint(net.store);
      // The old code wrote "a stale run reported running at east" on west's job for each of these.
      const state = await agentCall(net, other, `/v1/agent/jobs/${id}/state`, { attempt: 1, state: 'running', exitCode: null, reason: null, at: Date.now() });
      assert.equal(state.status, 200);
      assert.deepEqual(await state.json(), { action: 'kill' }, 'the foreign run is to be stopped');
      const logs = await agentCall(net, other, `/v1/agent/jobs/${id}/logs`, { attempt: 1, chunks: [{ stream: 'stdout', offset: 0, data: 'forged' }] });
      assert.equal(logs.status, 200, 'dropped quietly, as a stale attempt is');
      assert.equal(await fingerprint(net.store), before, "nothing changed on another center's job");
      // A heartbeat (which records the center's own liveness) kills it and notes nothing on the job.
      const beat = await agentCall(net, other, '/v1/agent/heartbeat', { runs: [run] });
      assert.deepEqual(((await beat.json()) as { kill: unknown[] }).kill, [{ jobId: id, attempt: 1 }]);
      // Re-registering with it (new session) kills it too, and writes nothing about that job.
      const reg = await call(net.app, 'POST', '/v1/agent/register', other.token, { connector: 'local', agentVersion: 'test', pools: [POOL], commands: ['sh', 'echo', 'sleep'], runs: [run] });
      assert.equal(reg.status, 200);
      other.session = ((await reg.json()) as { sessionId: string; kill: unknown[] }).sessionId;
      const events = await net.store.db.selectFrom('job_events').select('message').where('job_id', '=', id).execute();
      assert.ok(events.every((e) => !/stale/.test(e.message)), JSON.stringify(events));
      // Its own center's agent still can.
      const own = await agentCall(net, agent, `/v1/agent/jobs/${id}/state`, { attempt: 1, state: 'running', exitCode: null, reason: null, at: Date.now() });
      assert.deepEqual(await own.json(), { action: 'ok' });
    });

    it('regression: succeeded with a non-zero exit code (or failed with 0) is a 422 that changes nothing', async () => {
      const { id, agent } = await placedJob(net, net.alice);
      await agentCall(net, agent, `/v1/agent/jobs/${id}/state`, { attempt: 1, state: 'running', exitCode: null, reason: null, at: Date.now() });
      for (const [state, exitCode] of [['succeeded', 3], ['succeeded', null], ['failed', 0]] as const) {
        const before = await fingerprint(net.store);
        const res = await agentCall(net, agent, `/v1/agent/jobs/${id}/state`, { attempt: 1, state, exitCode, reason: null, at: Date.now() });
        assert.equal(res.status, 422, `${state} ${exitCode}`);
        const error = ((await res.json()) as { error: { code: string; field: string } }).error;
        assert.deepEqual([error.code, error.field], ['invalid_report', 'exitCode']);
        assert.equal(await fingerprint(net.store), before, 'nothing written');
      }
      const reg = await call(net.app, 'POST', '/v1/agent/register', agent.token, {
        connector: 'local', agentVersion: 'test', pools: [POOL], commands: ['sh'],
        runs: [{ jobId: id, attempt: 1, state: 'succeeded', exitCode: 1, reason: null, startedAt: Date.now(), finishedAt: Date.now() }],
      });
      assert.equal(reg.status, 422);
      assert.equal(((await reg.json()) as { error: { field: string } }).error.field, 'runs[0].exitCode');
      // Walltime stops may end a program that exits 0: failed with a reason stays accepted.
      const ok = await agentCall(net, agent, `/v1/agent/jobs/${id}/state`, { attempt: 1, state: 'failed', exitCode: 0, reason: 'walltime-exceeded', at: Date.now() });
      assert.equal(ok.status, 200);
    });

    it('regression: output of a job that ended long ago is refused; the tail right after the end is kept', async () => {
      const { id, agent } = await placedJob(net, net.alice);
      await agentCall(net, agent, `/v1/agent/jobs/${id}/state`, { attempt: 1, state: 'running', exitCode: null, reason: null, at: Date.now() });
      await agentCall(net, agent, `/v1/agent/jobs/${id}/state`, { attempt: 1, state: 'succeeded', exitCode: 0, reason: null, at: Date.now() });
      const tail = await agentCall(net, agent, `/v1/agent/jobs/${id}/logs`, { attempt: 1, chunks: [{ stream: 'stdout', offset: 0, data: 'tail\n' }] });
      assert.equal(tail.status, 200);
      await net.store.db.updateTable('jobs').set({ finished_at: new Date(Date.now() - 3_600_000) }).where('id', '=', id).execute();
      const before = await fingerprint(net.store);
      const late = await agentCall(net, agent, `/v1/agent/jobs/${id}/logs`, { attempt: 1, chunks: [{ stream: 'stdout', offset: 5, data: 'appended an hour later\n' }] });
      assert.equal(late.status, 409);
      assert.equal(((await late.json()) as { error: { code: string } }).error.code, 'job_already_finished');
      assert.equal(await fingerprint(net.store), before, 'nothing written');
      assert.equal(await readAllLogs(net, net.alice, id), 'tail\n');
    });

    it('regression: job, launch and app names refuse control characters (ESC…) with invalid_field', async () => {
      const esc = 'x\u001b[2J\u001b]0;pwned\u0007';
      const provider = (await createUser(net.ctx, { orgName: 'esc-labs', name: 'esc-prov', role: 'provider' })).token;
      const before = await fingerprint(net.store);
      const job = await call(net.app, 'POST', '/v1/jobs', net.alice, { command: ['sleep', '1'], name: esc });
      assert.equal(job.status, 400);
      assert.deepEqual(pick(((await job.json()) as { error: { code: string; field: string } }).error), ['invalid_field', 'name']);
      const launch = await call(net.app, 'POST', '/v1/apps/anything/launch', net.alice, { name: `run\u009b31m` });
      assert.equal(launch.status, 400, 'refused before the app is even looked up');
      assert.deepEqual(pick(((await launch.json()) as { error: { code: string; field: string } }).error), ['invalid_field', 'name']);
      const titled = await call(net.app, 'POST', '/v1/products', provider, { manifest: stringify(appManifest({}, { name: 'esc-app', title: `Nice\u001b[8m` })) });
      assert.equal(titled.status, 422);
      const error = ((await titled.json()) as { error: { code: string; field: string; message: string } }).error;
      assert.deepEqual(pick(error), ['invalid_manifest', 'title']);
      assert.match(error.message, /control characters/);
      assert.equal(await fingerprint(net.store), before, 'nothing written');
    });

    it('regression: a catastrophic pattern (^(a+)+$) is matched in linear time at publish and launch', async () => {
      const provider = (await createUser(net.ctx, { orgName: 'regex-labs', name: 'prov', role: 'provider' })).token;
      const manifest = (pattern: string, dflt: string, version = '1.0.0') =>
        stringify(appManifest({ parameters: { properties: { steps: { type: 'string', pattern, default: dflt } } }, command: { cpu: ['echo', '{{steps}}'] }, adaptation: {} }, { name: 'regex-app', version }));
      // The old code backtracked: 26 characters took 4 s, each one more doubled it; 4095 never end.
      let before = await fingerprint(net.store);
      const crafted = await call(net.app, 'POST', '/v1/products', provider, { manifest: manifest('^(a+)+$', `${'a'.repeat(4095)}b`) });
      assert.equal(crafted.status, 422, await crafted.clone().text());
      const error = ((await crafted.json()) as { error: { code: string; message: string; field: string } }).error;
      assert.equal(error.code, 'invalid_manifest');
      assert.match(error.message, /default steps: .* does not match the pattern/);
      assert.equal(await fingerprint(net.store), before, 'nothing written');

      // Unsupported syntax is refused at publish, naming the line, the column and the character.
      const backref = await call(net.app, 'POST', '/v1/products', provider, { manifest: manifest('^(a)\\1$', 'aa') });
      assert.equal(backref.status, 422);
      const refusal = ((await backref.json()) as { error: { message: string; field: string } }).error;
      assert.match(refusal.message, /line \d+, column \d+: app\.parameters\.properties\.steps\.pattern: .*backreferences are not supported \(at character 5/);
      assert.equal(refusal.field, 'app.parameters.properties.steps.pattern');
      assert.equal(await fingerprint(net.store), before, 'nothing written');

      // A supported pattern is listed and checks a launch's parameter, again in linear time.
      const ok = await call(net.app, 'POST', '/v1/products', provider, { manifest: manifest('^(a+)+$', 'aaa') });
      assert.equal(ok.status, 201, await ok.clone().text());
      const admin = (await createUser(net.ctx, { orgName: 'platform', name: 'root', role: 'admin' })).token;
      const listed = await call(net.app, 'POST', '/v1/products/regex-app/versions/1.0.0/review', admin, { action: 'approve' });
      assert.equal(listed.status, 200, await listed.clone().text());
      before = await fingerprint(net.store);
      const launch = await call(net.app, 'POST', '/v1/apps/regex-app/launch', net.alice, { params: { steps: `${'a'.repeat(4095)}b` } });
      assert.equal(launch.status, 400, await launch.clone().text());
      assert.equal(((await launch.json()) as { error: { code: string } }).error.code, 'invalid_parameter');
      assert.equal(await fingerprint(net.store), before, 'nothing written');
    });
  });
}
