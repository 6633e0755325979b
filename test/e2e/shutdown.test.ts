import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
 * Ctrl-C of `suanwang up` is a clean stop: with a job just finished, one running, the agents' long
 * polls open and a user following a job's output, SIGINT ends the process with exit 0 and stderr
 * holds only JSON log lines, none an error and no stack trace (it used to print three
 * `driver has already been destroyed` traces: handlers still querying a closed store).
 */
for (const database of await testDatabases()) {
  describe(`suanwang up stops cleanly on SIGINT (${database.name})`, { skip: database.skip, timeout: 180_000 }, () => {
    const children: ChildProcess[] = [];
    after(() => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    });

    it('exits 0 with no stack trace and no error line', async () => {
      const home = await mkdtemp(join(tmpdir(), 'suanwang-shutdown-'));
      const fresh = await database.fresh();
      const env = { SUANWANG_HOME: home, SUANWANG_PORT: '', SUANWANG_URL: '', SUANWANG_TOKEN: '', DATABASE_URL: fresh.databaseUrl ?? '', SUANWANG_LOG_LEVEL: 'info' };
      const release = join(home, 'release');
      try {
        const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'up', '--port', '0'], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        const server = await eventually('up to start', () =>
          readFile(join(home, 'server.json'), 'utf8')
            .then((t) => JSON.parse(t) as { url: string })
            .catch(() => undefined),
        120_000).catch((error: Error) => {
          throw new Error(`${error.message} (exit code ${child.exitCode}; stdout: ${stdout}; stderr: ${stderr})`);
        });

        const state = async (id: string) => (await cliJson<JobDetailResource>(['show', id], env)).job.state;
        const done = await cliJson<JobResource>(['submit', '--', 'echo', 'hi'], env);
        await eventually('the first job to succeed', async () => (await state(done.id)) === 'succeeded', 60_000);
        const running = await cliJson<JobResource>(['submit', '--', 'sh', '-c', `for i in $(seq 600); do [ -e ${release} ] && break; sleep 0.1; done`], env);
        await eventually('the second job to run', async () => (await state(running.id)) === 'running', 60_000);

        // (The run ends on its own within a minute if the release file is gone before it looks.)
        // A user's long poll on the running job's output is in flight when the signal arrives.
        const token = (await readFile(join(home, 'admin-token'), 'utf8')).trim();
        const follow = fetch(`${server.url}/v1/jobs/${running.id}/logs?waitMs=20000`, { headers: { authorization: `Bearer ${token}` } })
          .then((r) => r.text())
          .catch(() => 'connection closed');
        child.kill('SIGINT');
        const code = await exited;
        await follow;

        assert.equal(code, 0, `exit code (stderr: ${stderr})`);
        assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
        assert.doesNotMatch(stderr, /destroyed/);
        for (const line of stderr.split('\n').filter((l) => l.trim() !== '')) {
          const entry = JSON.parse(line) as { level: string; msg: string };
          assert.ok(entry.level !== 'error' && entry.level !== 'fatal', `no error logged: ${line}`);
        }
        assert.match(stdout, /stopping/);
      } finally {
        await writeFile(release, '');
        await fresh.drop().catch(() => {});
        await rm(home, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
      }
    });
  });
}
