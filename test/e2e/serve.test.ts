import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EndpointResource } from '../../src/api/client/endpoint-schemas.js';
import type { JobDetailResource } from '../../src/api/client/schemas.js';
import { SuanwangClient } from '../../src/api/client/client.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import { createUser } from '../../src/engine/accounts.js';
import { changeVersionStatus, publishManifest } from '../../src/engine/catalog.js';
import { SEED_PROVIDER } from '../../src/catalog/index.js';
import { findUserByName } from '../../src/store/accounts.js';
import { cliJson, runCli } from '../support/cli.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';

interface Answer {
  readonly status: number;
  readonly replica: string | null;
  readonly coldMs: number | null;
  readonly retryAfter: string | null;
  readonly text: string;
}

/**
 * Inference endpoints end to end, on the embedded network with its local centers: the real CLI
 * creates the endpoint, textgen-mini replicas run as real processes placed by the scheduler, and
 * requests go through the gateway over HTTP. Short autoscaling delays and idle time keep it quick.
 */
for (const database of await testDatabases()) {
  describe(`inference endpoints end to end (${database.name})`, { skip: database.skip, timeout: 600_000 }, () => {
    let home: string;
    let network: EmbeddedNetwork;
    let env: Record<string, string>;
    let drop: () => Promise<void>;
    let client: SuanwangClient;

    const call = async (body: object, token = network.adminToken, headers: Record<string, string> = {}): Promise<Answer> => {
      const res = await fetch(`${network.url}/e/textgen-mini/generate`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const text = await res.text();
      const cold = res.headers.get('x-suanwang-cold-start-ms');
      return { status: res.status, replica: res.headers.get('x-suanwang-replica'), coldMs: cold === null ? null : Number(cold), retryAfter: res.headers.get('retry-after'), text };
    };
    /** `count` requests, `concurrency` at a time (a closed-loop load generator). */
    const load = async (count: number, concurrency: number, body: object = { prompt: 'Alice ', length: 40 }): Promise<Answer[]> => {
      const out: Answer[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count) {
            next++;
            out.push(await call(body));
          }
        }),
      );
      return out;
    };
    const show = () => client.endpoint('textgen-mini');

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'suanwang-serve-'));
      const fresh = await database.fresh();
      drop = fresh.drop;
      network = await startEmbeddedNetwork({
        home,
        host: '127.0.0.1',
        port: 0,
        databaseUrl: fresh.databaseUrl,
        engine: { tickMs: 200, heartbeatIntervalMs: 500 },
        serving: { passMs: 200, scaleUpDelayMs: 1_000, scaleDownDelayMs: 3_000, coldStartHoldMs: 60_000 },
      });
      env = { SUANWANG_HOME: home, SUANWANG_PORT: new URL(network.url).port, SUANWANG_URL: '', SUANWANG_TOKEN: '' };
      client = new SuanwangClient(network.url, network.adminToken);
    });
    after(async () => {
      await client?.deleteEndpoint('textgen-mini').catch(() => undefined);
      await eventually('replica jobs to end', async () => (await client.listJobs({ state: 'placed,running' })).items.length === 0, 30_000).catch(() => undefined);
      await network?.stop();
      await drop?.();
      await rm(home, { recursive: true, force: true });
    });

    it('serve: min 1 in the east starts one replica at the east center, ready, with why', async () => {
      const created = await cliJson<EndpointResource>(
        ['serve', 'textgen-mini', '--region', 'east', '--min', '1', '--max', '3', '--target', '2', '--param', 'slots=2', '--param', 'token_ms=3'],
        env,
      );
      assert.deepEqual([created.name, created.region, created.min, created.max, created.url], ['textgen-mini', 'shanghai', 1, 3, '/e/textgen-mini/']);
      const ready = await eventually('a ready replica', async () => ((await show()).ready === 1 ? show() : null), 60_000);
      const [replica] = ready.replicas;
      assert.equal(replica!.center, 'east-shanghai');
      assert.match(replica!.address!, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(replica!.placement, /^nearest to callers in shanghai: east-shanghai\/a100 \(shanghai, 0 ms, .*vs west-zhongwei\/910b \(ningxia, 12\.5 ms/);
      const shown = await runCli(['endpoints', 'show', 'textgen-mini'], env);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /WHY job_\w+: nearest to callers in shanghai: east-shanghai\/a100/);
    });

    it('answers 200 requests from a load generator, streaming too, and meters them', async () => {
      const answers = await load(200, 4);
      assert.deepEqual(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`), []);
      assert.ok(answers.every((a) => JSON.parse(a.text).text.startsWith('Alice ')), 'every answer continues the prompt');
      const res = await fetch(`${network.url}/e/textgen-mini/generate`, { method: 'POST', headers: { authorization: `Bearer ${network.adminToken}` }, body: JSON.stringify({ prompt: 'Alice ', length: 60, stream: true }) });
      assert.equal(res.status, 200);
      // Streamed: sent chunked as the tokens come, with no length known up front. (How many reads
      // the client needs depends on the machine's load, so the test does not count them.)
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      assert.equal(res.headers.get('content-length'), null);
      let chunks = 0;
      let text = '';
      for await (const part of res.body!) {
        chunks++;
        text += Buffer.from(part).toString();
      }
      assert.ok(text.startsWith('Alice ') && text.length === 66, `${chunks} chunks: ${text}`);
      const metered = await eventually('metering to be written', async () => {
        const e = await show();
        return e.requests >= 201 ? e : null;
      });
      assert.equal(metered.tokens, 200 * 40 + 60);
      assert.ok(metered.latency && metered.latency.p50 > 0 && metered.latency.p99 >= metered.latency.p50, JSON.stringify(metered.latency));
      const metrics = await (await fetch(`${network.url}/metrics`)).text();
      assert.match(metrics, /suanwang_endpoint_request_duration_seconds\{quantile="0\.99",endpoint="org_\w+\/textgen-mini"\} \d/);
      const listed = await runCli(['endpoints'], env);
      // Four callers against a target of 2 may already have brought a second replica (scaling has its own step below).
      assert.match(listed.stdout, /textgen-mini\s+textgen-mini@1\.0\.0\s+shanghai\s+[12]\/[12] \(1–3\)\s+201\s+8060\s+\d+\/\d+\/\d+/);
    });

    it('another org can neither call nor see the endpoint', async () => {
      const other = await createUser(network.ctx, { orgName: 'rival', name: 'eve', role: 'user' });
      const answer = await call({ prompt: 'Alice ', length: 5 }, other.token);
      assert.equal(answer.status, 404);
      assert.equal(JSON.parse(answer.text).error.code, 'endpoint_not_found');
      const rival = new SuanwangClient(network.url, other.token);
      await assert.rejects(rival.endpoint('textgen-mini'), /no endpoint "textgen-mini" in your org/);
      assert.deepEqual((await rival.listEndpoints()).items, []);
      assert.equal((await call({ prompt: 'Alice ', length: 5 }, 'swt_not-a-token')).status, 401);
    });

    it('a revoked token stops working at the gateway at once', async () => {
      const extra = await client.createToken({ user: 'admin', label: 'revoked at once' });
      assert.equal((await call({ prompt: 'Alice ', length: 5 }, extra.token)).status, 200, 'works, and is cached by the gateway');
      await client.revokeToken(extra.id);
      const answer = await call({ prompt: 'Alice ', length: 5 }, extra.token);
      assert.equal(answer.status, 401, answer.text);
      assert.equal(JSON.parse(answer.text).error.code, 'unauthenticated');
    });

    it('refuses bad input naming the field', async () => {
      const bad = await runCli(['serve', 'textgen-mini', '--region', 'mars'], env);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /region "mars" is not a region of any center/);
      assert.match(bad.stderr, /field: region/);
      const minMax = await runCli(['serve', 'textgen-mini', '--name', 'x', '--region', 'east', '--min', '3', '--max', '2'], env);
      assert.match(minMax.stderr, /min 3 is above max 2/);
      const notServable = await runCli(['serve', 'md-lj', '--region', 'east'], env);
      assert.match(notServable.stderr, /md-lj@1\.0\.0 cannot be served/);
      const answer = await call({ prompt: 'Alice ', length: -1 });
      assert.equal(answer.status, 400);
      assert.equal(JSON.parse(answer.text).error.field, 'length');
    });

    it('load rises: a second replica starts and traffic splits', async () => {
      await eventually(
        'a second ready replica',
        async () => {
          const answers = await load(40, 8, { prompt: 'Alice ', length: 60 });
          assert.deepEqual(answers.filter((a) => a.status !== 200).map((a) => a.status), []);
          return (await show()).replicas.filter((r) => r.ready && !r.draining).length >= 2;
        },
        120_000,
        0,
      );
      const answers = await load(80, 8, { prompt: 'Alice ', length: 60 });
      assert.deepEqual(answers.filter((a) => a.status !== 200).map((a) => a.status), []);
      const counts = new Map<string, number>();
      for (const a of answers) counts.set(a.replica!, (counts.get(a.replica!) ?? 0) + 1);
      assert.ok(counts.size >= 2 && [...counts.values()].filter((n) => n >= 10).length >= 2, `traffic split: ${JSON.stringify([...counts])}`);
    });

    it('a replica killed under load: no request fails', async () => {
      const e = await show();
      const victim = e.replicas.find((r) => r.ready)!;
      const running = load(150, 8, { prompt: 'Alice ', length: 60 });
      await eventually('requests on the victim', () => (network.serving.live(e.id)?.replicas.get(victim.jobId)?.inflight ?? 0) > 0, 30_000, 5);
      killReplica(home, victim.jobId);
      const answers = await running;
      assert.deepEqual(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`), []);
      await eventually('the killed replica to be gone or replaced', async () => !(await show()).replicas.some((r) => r.jobId === victim.jobId && r.ready), 30_000);
    });

    it('rolling update to a new version under load: replaced replica by replica, no request fails', async () => {
      const provider = await findUserByName(network.ctx.store.db, SEED_PROVIDER);
      const owner = { kind: 'user' as const, userId: provider!.id, orgId: provider!.org_id, name: provider!.name, role: provider!.role };
      const text = readFileSync(new URL('../../src/catalog/seed/textgen-mini.yaml', import.meta.url), 'utf8').replace(/^version: 1\.0\.0$/m, 'version: 1.1.0');
      await publishManifest(network.ctx, owner, text);
      await changeVersionStatus(network.ctx, { ...owner, role: 'admin' }, 'textgen-mini', '1.1.0', 'approve', 'test');
      let stop = false;
      const answers: Answer[] = [];
      const running = (async () => {
        while (!stop) answers.push(...(await load(8, 4)));
      })();
      try {
        const updated = await cliJson<EndpointResource>(['endpoints', 'update', 'textgen-mini', '--version', '1.1.0'], env);
        assert.equal(updated.version, '1.1.0');
        await eventually(
          'every replica on 1.1.0 and ready',
          async () => {
            const e = await show();
            return e.replicas.length > 0 && e.replicas.every((r) => r.version === '1.1.0' && r.ready && !r.draining);
          },
          120_000,
        );
      } finally {
        stop = true;
        await running;
      }
      assert.deepEqual(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`), []);
      assert.ok(answers.length > 0, 'requests were sent during the update');
    });

    it('after idle it scales to zero; the next request is answered after a cold start the headers report', async () => {
      const changed = await cliJson<EndpointResource>(['endpoints', 'update', 'textgen-mini', '--idle', '2s'], env);
      assert.equal(changed.idleToZeroSeconds, 2);
      await eventually('zero replicas', async () => (await show()).replicas.length === 0, 90_000);
      const jobsLeft = (await client.listJobs({ state: 'placed,running' })).items.filter((j) => j.name.startsWith('textgen-mini@'));
      assert.deepEqual(jobsLeft, [], 'the replica jobs ended');
      const answer = await call({ prompt: 'Alice ', length: 20 });
      assert.equal(answer.status, 200, answer.text);
      assert.ok(answer.coldMs !== null && answer.coldMs > 0, `cold start header: ${answer.coldMs}`);
      const warm = await call({ prompt: 'Alice ', length: 20 });
      assert.equal(warm.coldMs, null);
      await eventually('the cold start metered', async () => (await show()).coldStarts >= 1);
      await client.changeEndpoint('textgen-mini', { idleToZeroSeconds: null });
    });

    it("placement: the model's training job goes west under balanced, its endpoint east, and show explains both", async () => {
      const launched = await runCli(['launch', 'textgen-mini', '--gpus', '1', '--objective', 'balanced', '--param', 'length=50'], env);
      assert.equal(launched.code, 0, launched.stderr);
      const id = launched.stdout.trim();
      const detail = await eventually('the training job placed', async () => {
        const d = await cliJson<JobDetailResource>(['show', id], env);
        return d.job.center ? d : null;
      });
      assert.equal(detail.job.center, 'west-zhongwei');
      const why = await runCli(['show', id], env);
      assert.match(why.stdout, /WHY west-zhongwei/);
      const endpoint = await runCli(['endpoints', 'show', 'textgen-mini'], env);
      assert.match(endpoint.stdout, /WHY job_\w+: nearest to callers in shanghai: east-shanghai\/a100/);
    });
  });
}

/** SIGKILLs a replica's whole process group (the local connector records its wrapper's pid, the group id). */
function killReplica(home: string, jobId: string): void {
  const runs = join(home, 'centers', 'east-shanghai', 'runs');
  const dir = readdirSync(runs).find((d) => d.startsWith(`${jobId}.`));
  assert.ok(dir, `a run folder of ${jobId} in ${runs}`);
  const meta = JSON.parse(readFileSync(join(runs, dir, 'meta.json'), 'utf8')) as { pid: number };
  process.kill(-meta.pid, 'SIGKILL');
}
