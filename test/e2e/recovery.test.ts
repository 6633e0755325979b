import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { JobDetailResource, JobResource } from '../../src/api/client/schemas.js';
import { cliJson, REPO } from '../support/cli.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/**
 * SIGKILL the whole control plane (it runs the agents too) mid-run, then start it again: jobs that
 * kept running are re-attached, a job that finished while nothing watched it is reported with its
 * output, and nothing runs twice.
 */
for (const database of await testDatabases()) {
  describe(`control plane killed mid-run (${database.name})`, { skip: database.skip }, () => {
    const children: ChildProcess[] = [];
    after(() => {
      for (const c of children) c.kill('SIGKILL');
    });

    async function up(env: Record<string, string>): Promise<ChildProcess> {
      await rm(join(env.SUANWANG_HOME!, 'server.json'), { force: true });
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'up', '--port', '0'], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      children.push(child);
      await eventually(`up to start (output so far: ${output})`, () => readFile(join(env.SUANWANG_HOME!, 'server.json'), 'utf8').catch(() => ''), 60_000);
      return child;
    }
    const killed = (child: ChildProcess) => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });

    it('re-attaches running jobs, collects one that ended meanwhile, and runs none twice', async () => {
      const home = await mkdtemp(join(tmpdir(), 'suanwang-recovery-'));
      const fresh = await database.fresh();
      const env = { SUANWANG_HOME: home, SUANWANG_PORT: '', SUANWANG_URL: '', SUANWANG_TOKEN: '', DATABASE_URL: fresh.databaseUrl ?? '' };
      try {
        const first = await up(env);
        // Jobs may write here: as root they run as their org's own user, and the home is not theirs.
        const shared = join(home, 'shared');
        await mkdir(shared);
        await chmod(shared, 0o777);
        const marks = join(shared, 'starts.log');
        // Each run appends a line to `marks` when it starts: a job run twice would leave two lines.
        // Each waits for a file the test creates, so the test decides when it ends.
        const waitFor = (name: string) => `until [ -e ${join(home, name)} ]; do sleep 0.1; done`;
        const slow = await cliJson<JobResource>(['submit', '--', 'sh', '-c', `echo slow >> ${marks}; ${waitFor('release-slow')}; echo slow-done`], env);
        const quick = await cliJson<JobResource>(['submit', '--', 'sh', '-c', `echo quick >> ${marks}; echo quick-start; ${waitFor('release-quick')}; echo quick-done`], env);
        const state = async (id: string) => (await cliJson<JobDetailResource>(['show', id], env)).job.state;
        await eventually('both jobs running', async () => (await state(slow.id)) === 'running' && (await state(quick.id)) === 'running');

        await killed(first);
        // The quick job ends while no control plane runs; the slow one outlives the restart.
        await writeFile(join(home, 'release-quick'), '');
        await new Promise((r) => setTimeout(r, 1000));
        await up(env);
        await writeFile(join(home, 'release-slow'), '');

        await eventually('both jobs to succeed after the restart', async () => (await state(slow.id)) === 'succeeded' && (await state(quick.id)) === 'succeeded', 30_000);
        for (const [job, expected] of [
          [quick, 'quick-start\nquick-done\n'],
          [slow, 'slow-done\n'],
        ] as const) {
          const detail = await cliJson<JobDetailResource>(['show', job.id], env);
          assert.equal(detail.job.attempt, 1, 'one attempt: the run was re-attached, not restarted');
          assert.equal(detail.job.exitCode, 0);
          assert.ok(!detail.events.some((e) => /requeued/.test(e.message)), 'never requeued');
          const out = await fetchLogs(env, job.id);
          assert.equal(out, expected, 'its output, each byte once');
        }
        assert.deepEqual((await readFile(marks, 'utf8')).split('\n').filter(Boolean).sort(), ['quick', 'slow'], 'each job started exactly once');
      } finally {
        for (const c of children) c.kill('SIGKILL');
        await fresh.drop();
        await rm(home, { recursive: true, force: true });
      }
    });
  });
}

async function fetchLogs(env: Record<string, string>, id: string): Promise<string> {
  const { runCli } = await import('../support/cli.js');
  const r = await runCli(['logs', id], env);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}
