import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp, requestsInFlight } from '../../src/api/app.js';
import { listen } from '../../src/api/server.js';
import { createMetrics, type Metrics } from '../../src/api/metrics.js';
import type { Log } from '../../src/core/log.js';
import { createUser } from '../../src/engine/accounts.js';
import { registerAgent } from '../../src/engine/agents.js';
import { createCenter } from '../../src/engine/centers.js';
import { createContext, type EngineContext } from '../../src/engine/context.js';
import { tick } from '../../src/engine/control-loop.js';
import { measuredPass } from '../../src/engine/metrics.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';

/** A Log that keeps every line, for asserting on what a request logged. */
function capture(): { log: Log; lines: { level: string; fields: Record<string, unknown>; msg: string | undefined }[] } {
  const lines: { level: string; fields: Record<string, unknown>; msg: string | undefined }[] = [];
  const at =
    (level: string) =>
    (fields: object | string, msg?: string): void => {
      if (typeof fields === 'string') lines.push({ level, fields: {}, msg: fields });
      else lines.push({ level, fields: fields as Record<string, unknown>, msg });
    };
  const log: Log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return { log, lines };
}

/** One value of a metric line in the text exposition (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** /healthz, /readyz, /metrics and request ids, through app.request() without a port, on both databases. */
for (const database of await testDatabases()) {
  describe(`observability endpoints (${database.name})`, { skip: database.skip, timeout: 60_000 }, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let ctx: EngineContext;
    let metrics: Metrics;
    let app: ReturnType<typeof createApp>;
    let logged: ReturnType<typeof capture>;
    let user: string;
    let agentToken: string;
    let session: string;

    before(async () => {
      const fresh = await database.fresh();
      drop = fresh.drop;
      store = await openStore({ databaseUrl: fresh.databaseUrl });
      metrics = createMetrics(store.db, { processMetrics: false });
      ctx = { ...createContext(store), metrics: metrics.engine };
      logged = capture();
      app = createApp(ctx, { log: logged.log, metrics, metricsToken: undefined });
      user = (await createUser(ctx, { orgName: 'lab-a', name: 'alice', role: 'user' })).token;
      const center = await createCenter(ctx, {
        name: 'west',
        displayName: 'West',
        region: 'ningxia',
        operatorOrg: 'ops',
        energy: { priceFenPerKwh: Array(24).fill(30), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 },
        prices: { npu: { fenPerAcceleratorHour: 600, fenPerCoreHour: 0 } },
      });
      agentToken = center.agentToken;
      session = (
        await registerAgent(ctx, center.centerId, {
          connector: 'local',
          agentVersion: 'test',
          pools: [{ name: 'npu', accelerator: 'ascend-910b', acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 }],
          commands: ['sh', 'echo', 'sleep'],
          runs: [],
        })
      ).sessionId;
    });
    after(async () => {
      await store.close();
      await drop();
    });

    const get = (path: string, headers: Record<string, string> = {}) => app.request(path, { headers });
    const post = (path: string, body: unknown, headers: Record<string, string>) =>
      app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    it('/healthz answers without the store', async () => {
      const res = await get('/healthz');
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true });
    });

    it('/readyz says the store answers and is migrated', async () => {
      const res = await get('/readyz');
      const body = (await res.json()) as { ok: boolean; store: string; migration: number };
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.ok, true);
      assert.equal(body.store, database.name);
      assert.ok(body.migration >= 5);
    });

    it('echoes a usable X-Request-Id, replaces an unusable one, and logs the request with its route pattern', async () => {
      const mine = await get('/v1/health', { 'X-Request-Id': 'lb-7f3a.42' });
      assert.equal(mine.headers.get('x-request-id'), 'lb-7f3a.42');
      const bad = await get('/v1/health', { 'X-Request-Id': 'has spaces and "quotes"' });
      assert.match(bad.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      const none = await get('/v1/health');
      assert.match(none.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      // Errors carry it too.
      const missing = await get('/v1/jobs/job_nope', { authorization: `Bearer ${user}`, 'X-Request-Id': 'req-404' });
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('x-request-id'), 'req-404');
      const line = logged.lines.find((l) => l.fields.reqId === 'req-404');
      assert.ok(line, 'the request was logged');
      assert.equal(line.level, 'info');
      assert.deepEqual(
        { method: line.fields.method, route: line.fields.route, status: line.fields.status, principal: line.fields.principal },
        { method: 'GET', route: '/v1/jobs/:id', status: 404, principal: 'user' },
      );
      assert.equal(typeof line.fields.ms, 'number');
    });

    it('/metrics has the engine and HTTP metrics, with route patterns as labels, never raw paths', async () => {
      const created = await post('/v1/jobs', { command: ['echo', 'hi'] }, { authorization: `Bearer ${user}` });
      assert.equal(created.status, 201);
      const jobId = ((await created.json()) as { id: string }).id;
      assert.equal((await get(`/v1/jobs/${jobId}`, { authorization: `Bearer ${user}` })).status, 200);
      // One pass through the hook the control loop uses: admits and places the job.
      const report = await measuredPass(ctx, () => tick(ctx));
      assert.equal(report.placed, 1);
      const agent = { authorization: `Bearer ${agentToken}`, 'X-Agent-Session': session };
      const beat = await post('/v1/agent/heartbeat', { runs: [] }, agent);
      assert.equal(beat.status, 200, await beat.text());
      const { job } = (await (await get(`/v1/jobs/${jobId}`, { authorization: `Bearer ${user}` })).json()) as { job: { attempt: number } };
      const running = await post(`/v1/agent/jobs/${jobId}/state`, { attempt: job.attempt, state: 'running', exitCode: null, reason: null, at: Date.now() }, agent);
      assert.equal(running.status, 200, await running.text());

      const res = await get('/metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      for (const name of [
        'suanwang_jobs',
        'suanwang_queue_depth',
        'suanwang_scheduling_pass_duration_seconds',
        'suanwang_placements_total',
        'suanwang_dispatch_latency_seconds',
        'suanwang_agent_heartbeats_total',
        'suanwang_agent_last_heartbeat_age_seconds',
        'suanwang_center_state',
        'suanwang_http_request_duration_seconds',
      ]) {
        assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exported`);
      }
      assert.equal(sample(text, 'suanwang_jobs', 'state="running"'), 1);
      assert.equal(sample(text, 'suanwang_queue_depth'), 0);
      assert.equal(sample(text, 'suanwang_placements_total'), 1);
      assert.equal(sample(text, 'suanwang_scheduling_pass_duration_seconds_count'), 1);
      assert.equal(sample(text, 'suanwang_dispatch_latency_seconds_count'), 1);
      assert.equal(sample(text, 'suanwang_agent_heartbeats_total', 'center="west"'), 1);
      assert.equal(sample(text, 'suanwang_center_state', 'center="west",state="online"'), 1);
      assert.ok((sample(text, 'suanwang_agent_last_heartbeat_age_seconds', 'center="west"') ?? -1) >= 0);
      assert.equal(sample(text, 'suanwang_http_request_duration_seconds_count', 'method="GET",route="/v1/jobs/:id",status="200"'), 2);
      assert.equal(sample(text, 'suanwang_http_request_duration_seconds_count', 'method="POST",route="/v1/agent/jobs/:id/state",status="200"'), 1);
      assert.ok(!text.includes(jobId), 'no job id in any label');
    });

    it('/metrics requires the metrics token when one is set', async () => {
      const guarded = createApp(ctx, { metrics: createMetrics(store.db, { processMetrics: false }), metricsToken: 'm-secret' });
      const refused = await guarded.request('/metrics');
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { error: { code: string; field: string } }).error.field, 'Authorization');
      assert.equal((await guarded.request('/metrics', { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await guarded.request('/metrics', { headers: { authorization: 'Bearer m-secret' } })).status, 200);
    });

    it('closing the server ends long polls, lets other requests finish, and says so on /readyz', async () => {
      const own = createApp(ctx, { metrics: createMetrics(store.db, { processMetrics: false }) });
      // A drain far longer than the poll's wait: had close() waited the poll out, it would answer 200.
      const server = await listen(own, '127.0.0.1', 0, 120_000);
      const base = `http://127.0.0.1:${server.port}`;
      const auth = { authorization: `Bearer ${user}` };
      const created = await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ command: ['sleep', '1'] }) });
      const jobId = ((await created.json()) as { id: string }).id;
      const poll = fetch(`${base}/v1/jobs/${jobId}/logs?waitMs=20000`, { headers: auth }).then(
        (r) => `answered ${r.status}`,
        () => 'connection ended',
      );
      await eventually('the poll to be in flight', () => requestsInFlight(own) === 1);
      const closing = server.close();
      assert.equal(await poll, 'connection ended');
      await closing;
      assert.equal((await own.request('/readyz')).status, 503);
      assert.equal(((await (await own.request('/readyz')).json()) as { reason: string }).reason, 'shutting down');
    });
  });

  describe(`/readyz on a closed store (${database.name})`, { skip: database.skip, timeout: 60_000 }, () => {
    it('answers 503 with the reason', async () => {
      const fresh = await database.fresh();
      const store = await openStore({ databaseUrl: fresh.databaseUrl });
      const ctx = createContext(store);
      const app = createApp(ctx, { metrics: createMetrics(store.db, { processMetrics: false }) });
      await store.close();
      try {
        const res = await app.request('/readyz');
        assert.equal(res.status, 503);
        const body = (await res.json()) as { ok: boolean; reason: string };
        assert.equal(body.ok, false);
        assert.match(body.reason, /^store: /);
        assert.equal((await app.request('/healthz')).status, 200, 'liveness does not depend on the store');
        const metrics = await app.request('/metrics');
        assert.equal(metrics.status, 200, 'a scrape still answers');
        assert.equal(sample(await metrics.text(), 'suanwang_metrics_store_read_errors_total'), 1);
      } finally {
        await fresh.drop();
      }
    });
  });
}
