import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SuanwangClient } from '../../src/api/client/client.js';
import type { JobResource } from '../../src/api/client/schemas.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';
import { freePort, startAgent, startServer, type Proc } from './deploy-processes.js';

const JOBS = 6;
/** Longer than the agent deadline (15 s): without a grace period every job would be requeued. */
const DOWNTIME_MS = 30_000;
/** The server's default agent deadline; the test waits it out after the restart. */
const AGENT_DEADLINE_MS = 15_000;

/**
 * The control plane (`suanwang server`) is stopped for 30 s while its agents (separate processes)
 * keep running jobs, then started again on the same URL: every job is re-attached in its first
 * attempt, none requeued, because agents' deadlines count from the restart, not from before it.
 */
const postgres = (await testDatabases()).find((d) => d.name === 'postgres')!;
describe('control plane down for 30 s while jobs run (postgres, separate processes)', { skip: postgres.skip, timeout: 600_000 }, () => {
  it('re-attaches every job after the restart: attempt 1, never requeued, each run once', { timeout: 540_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'suanwang-restart-'));
    // As root, jobs run as their org's own user: they must pass through this folder to their
    // workdirs (o+x) and write their marks in a folder of their own (shared/, 0777).
    await chmod(dir, 0o711);
    await mkdir(join(dir, 'shared'));
    await chmod(join(dir, 'shared'), 0o777);
    const fresh = await postgres.fresh();
    const procs: Proc[] = [];
    try {
      const env = { DATABASE_URL: fresh.databaseUrl!, SUANWANG_HOME: join(dir, 'home') };
      const port = await freePort();
      const first = await startServer(env, port);
      procs.push(first);
      const token = (await readFile(join(dir, 'home', 'admin-token'), 'utf8')).trim();
      const client = new SuanwangClient(first.url, token);
      for (const center of ['dc-one', 'dc-two']) {
        const created = await client.createCenter({ name: center, region: center === 'dc-one' ? 'ningxia' : 'guizhou' });
        procs.push(await startAgent(dir, { server: first.url, center, enrollmentToken: created.enrollmentToken }));
      }

      // Each run appends its name to `marks` when it starts (twice would show), then waits for the
      // test's `release` file: the jobs outlive the downtime, and the test decides when they end.
      const marks = join(dir, 'shared', 'marks');
      const release = join(dir, 'shared', 'release');
      const jobs: JobResource[] = [];
      for (let i = 0; i < JOBS; i++) {
        jobs.push(await client.submit({ name: `long-${i}`, coresPerNode: 1, command: ['sh', '-c', `echo long-${i} >> ${marks}; until [ -e ${release} ]; do sleep 0.2; done; echo done`] }));
      }
      await eventually('every job running', async () => (await Promise.all(jobs.map((j) => client.job(j.id)))).every((d) => d.job.state === 'running'), 120_000, 300);

      await first.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, DOWNTIME_MS));
      const second = await startServer(env, port);
      procs.push(second);
      const restartedAt = Date.now();
      // Both agents report to the new process (their heartbeats resume on the same URL) …
      await eventually(
        'both agents heartbeating to the restarted server',
        async () => {
          const centers = (await client.centers()).items;
          return centers.length === 2 && centers.every((c) => c.state === 'online' && c.lastHeartbeatAt !== null && Date.parse(c.lastHeartbeatAt) >= restartedAt - 1000);
        },
        60_000,
        300,
      );
      // … and a whole agent deadline after the restart passes with the jobs still running.
      await new Promise((r) => setTimeout(r, Math.max(0, restartedAt + AGENT_DEADLINE_MS + 2_000 - Date.now())));
      for (const d of await Promise.all(jobs.map((j) => client.job(j.id)))) assert.equal(d.job.state, 'running', `${d.job.name} still running a deadline after the restart`);

      await writeFile(release, '');
      const ended = await eventually(
        'every job to end',
        async () => {
          const details = await Promise.all(jobs.map((j) => client.job(j.id)));
          return details.every((d) => ['succeeded', 'failed', 'cancelled'].includes(d.job.state)) ? details : undefined;
        },
        120_000,
        300,
      );
      for (const d of ended) {
        assert.equal(d.job.state, 'succeeded', `${d.job.name}: ${d.job.state} (${d.job.reason ?? ''})`);
        assert.equal(d.job.attempt, 1, `${d.job.name}: re-attached, not restarted`);
        assert.ok(!d.events.some((e) => /requeued|lost its agent/.test(e.message)), `${d.job.name} never requeued:\n${d.events.map((e) => e.message).join('\n')}`);
        assert.ok(Date.parse(d.job.finishedAt!) >= Date.parse(d.job.startedAt!), `${d.job.name}: finished after it started`);
      }
      const lines = (await readFile(marks, 'utf8')).split('\n').filter(Boolean).sort();
      assert.deepEqual(lines, jobs.map((j) => j.name).sort(), 'each job started exactly once');
      console.log(`# ${JOBS} jobs re-attached after ${DOWNTIME_MS / 1000} s of control-plane downtime, all in attempt 1`);
    } finally {
      await Promise.all(procs.map((p) => p.kill('SIGKILL')));
      await fresh.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
