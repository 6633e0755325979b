import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { createApp } from '../../src/api/app.js';
import { appManifest } from '../../src/catalog/fixtures.js';
import { createUser } from '../../src/engine/accounts.js';
import { createCenter } from '../../src/engine/centers.js';
import { createContext, type EngineConfig, type EngineContext } from '../../src/engine/context.js';
import { tick } from '../../src/engine/control-loop.js';
import { sweepOutputRetention } from '../../src/engine/retention.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { fingerprint as wholeDatabase } from '../support/fingerprint.js';
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

/** The whole database's fingerprint as text (test/support/fingerprint.ts): "nothing changed" means nothing, anywhere. */
async function fingerprint(store: Store): Promise<string> {
  return JSON.stringify(await wholeDatabase(store));
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

    it('regression: a draft or a version in review does not change the listed product (title, summary, category…)', async () => {
      const provider = (await createUser(net.ctx, { orgName: 'draft-labs', name: 'drafter', role: 'provider' })).token;
      const admin = (await createUser(net.ctx, { orgName: 'platform-5', name: 'root5', role: 'admin' })).token;
      const publish = async (version: string, title: string, extra: Record<string, unknown> = {}, draft = false) => {
        const res = await call(net.app, 'POST', '/v1/products', provider, { manifest: stringify(appManifest({}, { name: 'draft-app', version, title, summary: `${title} summary.`, ...extra })), draft });
        assert.equal(res.status, 201, await res.clone().text());
      };
      const review = async (version: string, action: string) => {
        const res = await call(net.app, 'POST', `/v1/products/draft-app/versions/${version}/review`, admin, { action });
        assert.equal(res.status, 200, await res.clone().text());
      };
      const shown = async () => {
        const res = await call(net.app, 'GET', '/v1/products/draft-app', net.alice);
        assert.equal(res.status, 200, await res.clone().text());
        const p = ((await res.json()) as { product: { title: string; summary: string; category: string } }).product;
        return [p.title, p.summary, p.category];
      };
      const found = async (word: string) => {
        const res = await call(net.app, 'GET', `/v1/products?q=${encodeURIComponent(word)}`, net.alice);
        return ((await res.json()) as { items: { name: string }[] }).items.map((i) => i.name);
      };
      await publish('1.0.0', 'Reviewed');
      await review('1.0.0', 'approve');
      assert.deepEqual(await shown(), ['Reviewed', 'Reviewed summary.', 'software']);
      // The old code rewrote the listed entry from any newer manifest, before anyone reviewed it.
      await publish('1.1.0', 'Unreviewed', {}, true);
      await publish('1.2.0', 'Sneaky', { category: 'saas', app: undefined });
      assert.deepEqual(await shown(), ['Reviewed', 'Reviewed summary.', 'software']);
      assert.deepEqual(await found('sneaky'), [], 'search does not find the unreviewed words');
      assert.deepEqual(await found('reviewed'), ['draft-app']);
      // Listing the newer version makes it the store entry; delisting it falls back.
      await review('1.2.0', 'approve');
      assert.deepEqual(await shown(), ['Sneaky', 'Sneaky summary.', 'saas']);
      await review('1.2.0', 'delist');
      assert.deepEqual(await shown(), ['Reviewed', 'Reviewed summary.', 'software']);
    });

    it('regression: a registration with thousands of runs is reconciled in short transactions and stays correct', async () => {
      const { id, agent } = await placedJob(net, net.alice);
      await agentCall(net, agent, `/v1/agent/jobs/${id}/state`, { attempt: 1, state: 'running', exitCode: null, reason: null, at: Date.now() });
      const token = agent === net.west ? net.west.token : net.east.token;
      const runs = Array.from({ length: 5000 }, (_, i) => ({ jobId: `job_unknown${i}`, attempt: 1, state: 'running', exitCode: null, reason: null, startedAt: Date.now(), finishedAt: null }));
      runs.push({ jobId: id, attempt: 1, state: 'running', exitCode: null, reason: null, startedAt: Date.now(), finishedAt: null });
      // A read while it runs is served (and must not see a half-reconciled center fail).
      const [reg, got] = await Promise.all([
        call(net.app, 'POST', '/v1/agent/register', token, { connector: 'local', agentVersion: 'test', pools: [POOL], commands: ['sh', 'echo', 'sleep'], runs }),
        call(net.app, 'GET', `/v1/jobs/${id}`, net.alice),
      ]);
      assert.equal(reg.status, 200, await reg.clone().text());
      assert.equal(got.status, 200);
      const body = (await reg.json()) as { sessionId: string; kill: { jobId: string }[] };
      agent.session = body.sessionId;
      assert.equal(body.kill.length, 5000, 'every unknown run is to be stopped');
      assert.ok(!body.kill.some((k) => k.jobId === id), 'the wanted run is kept');
      const job = await net.store.db.selectFrom('jobs').select('state').where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(job.state, 'running');
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

for (const database of await testDatabases()) {
  describe(`output limits: per-job cap, pages by bytes, retention (${database.name})`, { skip: database.skip, timeout: 120_000 }, () => {
    let net: Net;
    before(async () => {
      net = await network(database, { maxOutputBytesPerJob: 100, maxLogPageBytes: 25 });
    });
    after(async () => {
      await net?.close();
    });
    const running = async () => {
      const placed = await placedJob(net, net.alice);
      await agentCall(net, placed.agent, `/v1/agent/jobs/${placed.id}/state`, { attempt: 1, state: 'running', exitCode: null, reason: null, at: Date.now() });
      return placed;
    };
    const ship = (agent: Agent, id: string, offset: number, data: string, stream = 'stdout') =>
      agentCall(net, agent, `/v1/agent/jobs/${id}/logs`, { attempt: 1, chunks: [{ stream, offset, data }] });

    it('regression: output past the per-job cap is cut behind a marker, and the agent is told to stop (413)', async () => {
      const { id, agent } = await running();
      assert.equal((await ship(agent, id, 0, 'x'.repeat(80))).status, 200);
      assert.equal((await ship(agent, id, 0, 'e'.repeat(10), 'stderr')).status, 200);
      assert.equal((await ship(agent, id, 80, 'y'.repeat(50))).status, 200, 'the chunk that crosses the cap is kept up to it');
      const before = await fingerprint(net.store);
      const over = await ship(agent, id, 130, 'z'.repeat(10));
      assert.equal(over.status, 413);
      assert.equal(((await over.json()) as { error: { code: string } }).error.code, 'output_limit_reached');
      assert.equal(await fingerprint(net.store), before, 'nothing written');
      assert.equal((await ship(agent, id, 0, 'x'.repeat(80))).status, 200, 're-sending stored bytes stays harmless');
      const rows = await net.store.db.selectFrom('job_logs').select(['stream', 'byte_length', 'data']).where('job_id', '=', id).orderBy('seq').execute();
      assert.equal(rows.reduce((n, r) => n + r.byte_length, 0), 100, 'exactly the cap is stored');
      assert.match(rows.at(-1)!.data, /reached its output limit/);
    });

    it('regression: a log page carries at most maxLogPageBytes (the old code sent everything at once)', async () => {
      const { id, agent } = await running();
      for (let i = 0; i < 9; i++) assert.equal((await ship(agent, id, i * 10, `${i}`.repeat(9) + '\n')).status, 200);
      await agentCall(net, agent, `/v1/agent/jobs/${id}/state`, { attempt: 1, state: 'succeeded', exitCode: 0, reason: null, at: Date.now() });
      let after = 0;
      let text = '';
      const pages: number[] = [];
      for (let done = false; !done; ) {
        const res = await call(net.app, 'GET', `/v1/jobs/${id}/logs?after=${after}`, net.alice);
        const page = (await res.json()) as { chunks: { data: string }[]; next: number; done: boolean };
        assert.ok(page.chunks.length > 0 || page.done);
        pages.push(page.chunks.length);
        text += page.chunks.map((c) => c.data).join('');
        ({ next: after, done } = page);
        assert.ok(pages.length < 20, 'it ends');
      }
      assert.deepEqual(pages, [2, 2, 2, 2, 1]);
      assert.equal(text, Array.from({ length: 9 }, (_, i) => `${i}`.repeat(9) + '\n').join(''));
    });

    it('regression: the retention sweep deletes the output of jobs that ended long ago, and only theirs', async () => {
      const old = await running();
      const recent = await running();
      for (const j of [old, recent]) {
        assert.equal((await ship(j.agent, j.id, 0, 'kept?\n')).status, 200);
        await agentCall(net, j.agent, `/v1/agent/jobs/${j.id}/state`, { attempt: 1, state: 'succeeded', exitCode: 0, reason: null, at: Date.now() });
      }
      const live = await running();
      assert.equal((await ship(live.agent, live.id, 0, 'still running\n')).status, 200);
      await net.store.db.updateTable('jobs').set({ finished_at: new Date(Date.now() - 31 * 24 * 3_600_000) }).where('id', '=', old.id).execute();
      assert.equal(await sweepOutputRetention(net.ctx), 1);
      const left = await net.store.db.selectFrom('job_logs').select('job_id').where('job_id', 'in', [old.id, recent.id, live.id]).execute();
      assert.deepEqual(new Set(left.map((r) => r.job_id)), new Set([recent.id, live.id]));
      assert.equal(await sweepOutputRetention(net.ctx), 0, 'a second sweep finds nothing');
    });
  });
}

for (const database of await testDatabases()) {
  describe(`rate limits and quotas per org (${database.name})`, { skip: database.skip, timeout: 120_000 }, () => {
    let net: Net;
    before(async () => {
      net = await network(database, { rateLimits: { quote: { burst: 2, perSecond: 0.01 }, logs: { burst: 1, perSecond: 0.01 } }, maxQueuedJobsPerOrg: 3, maxRunningJobsPerOrg: 1 });
    });
    after(async () => {
      await net?.close();
    });
    async function limited(res: Response, code: string) {
      const body = (await res.json()) as { error: { code: string; message: string; hint: string } };
      assert.equal(res.status, 429, JSON.stringify(body));
      assert.equal(body.error.code, code);
      assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After in seconds');
      return body.error;
    }

    it('regression: quotes and log reads past the org rate limit get 429 rate_limited with Retry-After; other orgs are not affected', async () => {
      for (let i = 0; i < 2; i++) assert.equal((await call(net.app, 'POST', '/v1/quote', net.alice, { command: ['sleep', '1'] })).status, 200);
      const before = await fingerprint(net.store);
      const error = await limited(await call(net.app, 'POST', '/v1/quote', net.alice, { command: ['sleep', '1'] }), 'rate_limited');
      assert.match(error.message, /quote/);
      assert.equal(await fingerprint(net.store), before, 'nothing written');
      assert.equal((await call(net.app, 'POST', '/v1/quote', net.bob, { command: ['sleep', '1'] })).status, 200, "bob's org has its own bucket");
      const job = await call(net.app, 'POST', '/v1/jobs', net.bob, { command: ['sleep', '1'] });
      const id = ((await job.json()) as { id: string }).id;
      assert.equal((await call(net.app, 'GET', `/v1/jobs/${id}/logs`, net.bob)).status, 200);
      await limited(await call(net.app, 'GET', `/v1/jobs/${id}/logs`, net.bob), 'rate_limited');
    });

    it('regression: an org past its waiting-jobs quota gets 429 quota_exceeded; past its running quota, jobs stay queued', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await call(net.app, 'POST', '/v1/jobs', net.alice, { command: ['sleep', '1'] })).status, 201);
      const before = await fingerprint(net.store);
      const error = await limited(await call(net.app, 'POST', '/v1/jobs', net.alice, { command: ['sleep', '1'] }), 'quota_exceeded');
      assert.match(error.message, /maxQueuedJobsPerOrg/);
      assert.equal(await fingerprint(net.store), before, 'nothing written');
      await tick(net.ctx);
      await tick(net.ctx);
      const states = await net.store.db.selectFrom('jobs').innerJoin('orgs', 'orgs.id', 'jobs.org_id').select(['orgs.name', 'jobs.state']).execute();
      const placed = (org: string) => states.filter((s) => s.name === org && s.state === 'placed').length;
      assert.equal(placed('lab-a'), 1, 'one placed at a time for alice (maxRunningJobsPerOrg: 1)');
      assert.equal(states.filter((s) => s.name === 'lab-a' && s.state === 'queued').length, 2);
      assert.equal(placed('lab-b'), 1, "bob's job is placed too");
    });
  });
}
