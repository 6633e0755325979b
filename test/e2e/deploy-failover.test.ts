import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApiError, SuanwangClient } from '../../src/api/client/client.js';
import type { JobResource } from '../../src/api/client/schemas.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';
import { startAgent, startServer, type Proc } from './deploy-processes.js';

const JOBS_BEFORE_KILL = 15;
const JOBS_AFTER_KILL = 15;

/**
 * Two `suanwang server` processes and two `suanwang agent` processes, each its own OS process, on one
 * PostgreSQL. Under a steady stream of submissions the leader is killed with SIGKILL: the follower
 * takes the lead, no accepted job is lost, none runs twice.
 */
const postgres = (await testDatabases()).find((d) => d.name === 'postgres')!;
describe('leader killed under load (postgres, separate processes)', { skip: postgres.skip, timeout: 600_000 }, () => {
  it('the follower leads within 5 s; every accepted job runs exactly once', { timeout: 540_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'suanwang-failover-'));
    // As root, jobs run as their org's own user: they must pass through this folder to their
    // workdirs (o+x) and write their marks in a folder of their own (shared/, 0777).
    await chmod(dir, 0o711);
    await mkdir(join(dir, 'shared'));
    await chmod(join(dir, 'shared'), 0o777);
    const fresh = await postgres.fresh();
    const procs: Proc[] = [];
    try {
      const db = fresh.databaseUrl!;
      // A leads (started first, alone); B follows. Agents and most traffic go to B, which survives.
      const a = await startServer({ DATABASE_URL: db, SUANWANG_HOME: join(dir, 'a') });
      procs.push(a);
      await a.waitFor(/"msg":"leader: /, 60_000);
      const b = await startServer({ DATABASE_URL: db, SUANWANG_HOME: join(dir, 'b') });
      procs.push(b);
      await b.waitFor(/"msg":"follower: /, 60_000);

      const token = (await readFile(join(dir, 'a', 'admin-token'), 'utf8')).trim();
      const viaA = new SuanwangClient(a.url, token);
      const viaB = new SuanwangClient(b.url, token);
      for (const center of ['dc-one', 'dc-two']) {
        // Created through A, enrolled through B: every replica serves the whole API.
        const created = await viaA.createCenter({ name: center, region: center === 'dc-one' ? 'ningxia' : 'guizhou' });
        procs.push(await startAgent(dir, { server: b.url, center, enrollmentToken: created.enrollmentToken }));
      }

      const marks = join(dir, 'shared', 'marks');
      const accepted: JobResource[] = [];
      // Each run appends its tag to `marks` when it starts: a job run twice would leave two lines.
      const submit = async (i: number, preferA: boolean) => {
        const job = { name: `load-${i}`, command: ['sh', '-c', `echo load-${i} >> ${marks}; sleep 1`], coresPerNode: 1 };
        const key = randomUUID();
        try {
          accepted.push(await (preferA ? viaA : viaB).submit(job, key));
        } catch (error) {
          // A died with the request in flight: the same key through B either finds the job or submits it once.
          if (!(error instanceof ApiError) || error.status !== 0) throw error;
          accepted.push(await viaB.submit(job, key));
        }
      };
      // A steady stream: one submission every 200 ms, alternating replicas, the kill in the middle.
      let i = 0;
      for (; i < JOBS_BEFORE_KILL; i++) {
        await submit(i, i % 2 === 0);
        await new Promise((r) => setTimeout(r, 200));
      }
      const killedAt = Date.now();
      const killing = a.kill('SIGKILL');
      for (; i < JOBS_BEFORE_KILL + JOBS_AFTER_KILL; i++) {
        await submit(i, i % 2 === 0);
        await new Promise((r) => setTimeout(r, 200));
      }
      await killing;

      const leads = await b.waitFor(/"msg":"leader: /, 30_000);
      const takeoverMs = leads.at - killedAt;
      const ids = new Set(accepted.map((j) => j.id));
      const finished = await eventually(
        'every accepted job to end',
        async () => {
          const jobs = (await viaB.listJobs({ limit: 200, all: true })).items.filter((j) => ids.has(j.id));
          return jobs.length === ids.size && jobs.every((j) => ['succeeded', 'failed', 'cancelled'].includes(j.state)) ? jobs : undefined;
        },
        240_000,
        500,
      );
      // The first placement after the kill, from the jobs' event logs (the server's clock).
      let firstPlacementAfterKill = Infinity;
      for (const j of finished) {
        const detail = await viaB.job(j.id);
        for (const e of detail.events) {
          const at = Date.parse(e.at);
          if (/^placed on/.test(e.message) && at > killedAt) firstPlacementAfterKill = Math.min(firstPlacementAfterKill, at);
        }
      }
      console.log(
        `# leader SIGKILLed; the follower logged "leader" after ${takeoverMs} ms; first placement after the kill ${firstPlacementAfterKill - killedAt} ms after it; ${accepted.length} jobs accepted`,
      );

      assert.equal(ids.size, JOBS_BEFORE_KILL + JOBS_AFTER_KILL, 'every submission was accepted once (idempotency keys)');
      for (const j of finished) {
        assert.equal(j.state, 'succeeded', `${j.name}: ${j.state} (${j.reason ?? ''})`);
        assert.equal(j.attempt, 1, `${j.name} ran in one attempt`);
      }
      const lines = (await readFile(marks, 'utf8')).split('\n').filter(Boolean).sort();
      assert.deepEqual(lines, finished.map((j) => j.name).sort(), 'each job started exactly once');
      assert.ok(takeoverMs < 5_000, `the follower took the lead ${takeoverMs} ms after the kill (limit 5000 ms)`);
    } finally {
      await Promise.all(procs.map((p) => p.kill('SIGKILL')));
      await fresh.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
