import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CenterResource, JobDetailResource, JobList, JobResource } from '../../src/api/client/schemas.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import { alive, cliJson, runCli } from '../support/cli.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';

/**
 * The user's path, end to end: the embedded network (control plane, HTTP API, three real agents with
 * the local connector) and the real CLI in child processes, which find the network through
 * SUANWANG_HOME and SUANWANG_PORT alone. Once on PGlite, once on PostgreSQL. Billing is on, as `up`
 * starts it: jobs are charged to the demo credit.
 */
for (const database of await testDatabases()) {
  describe(`the platform end to end (${database.name})`, { skip: database.skip, timeout: 600_000 }, () => {
    let home: string;
    let network: EmbeddedNetwork;
    let env: Record<string, string>;
    let drop: () => Promise<void>;

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'suanwang-e2e-'));
      const fresh = await database.fresh();
      drop = fresh.drop;
      network = await startEmbeddedNetwork({ home, host: '127.0.0.1', port: 0, databaseUrl: fresh.databaseUrl, engine: { tickMs: 200, heartbeatIntervalMs: 500, billing: 'on' } });
      env = { SUANWANG_HOME: home, SUANWANG_PORT: new URL(network.url).port, SUANWANG_URL: '', SUANWANG_TOKEN: '' };
    });
    after(async () => {
      await network?.stop();
      await drop?.();
      await rm(home, { recursive: true, force: true });
    });

    it('lists the three centers online', async () => {
      const centers = await cliJson<{ items: CenterResource[] }>(['centers'], env);
      assert.deepEqual(centers.items.map((c) => [c.name, c.state]).sort(), [
        ['east-shanghai', 'online'],
        ['guizhou-guian', 'online'],
        ['west-zhongwei', 'online'],
      ]);
      const table = await runCli(['centers'], env);
      assert.match(table.stdout, /west-zhongwei\s+ningxia\s+online\s+910b\s+4×8 ascend-910b/);
    });

    it('submits a GPU job, runs it on an accelerator center, streams its output and explains the choice', async () => {
      const submitted = await runCli(['submit', '--gpus', '1', '--', 'python3', '-c', "print('hi')"], env);
      assert.equal(submitted.code, 0, submitted.stderr);
      const id = submitted.stdout.trim();
      assert.match(id, /^job_[0-9a-z]{22}$/);
      const logs = await runCli(['logs', '-f', id], env);
      if (logs.code !== 0) assert.fail(`logs -f ended with ${logs.code}: ${logs.stderr} ${logs.stdout}; the job: ${(await runCli(['show', id], env)).stdout}`);
      assert.equal(logs.stdout, 'hi\n');
      const detail = await cliJson<JobDetailResource>(['show', id], env);
      assert.equal(detail.job.state, 'succeeded');
      assert.equal(detail.job.exitCode, 0);
      assert.ok(['east-shanghai', 'west-zhongwei'].includes(detail.job.center!), `placed on an accelerator center, not ${detail.job.center}`);
      const explanation = detail.placements[0]!.explanation;
      assert.equal(explanation.chosen!.centerName, detail.job.center);
      assert.ok(explanation.infeasible.some((i) => i.centerName === 'guizhou-guian' && i.reason === 'no-accelerator'), 'the CPU center is ruled out, with its reason');
      assert.deepEqual(
        detail.events.map((e) => e.to).filter(Boolean),
        ['submitted', 'queued', 'placed', 'running', 'succeeded'],
      );
      const shown = await runCli(['show', id], env);
      assert.match(shown.stdout, /WHY (east-shanghai|west-zhongwei)/);
      assert.match(shown.stdout, /✗\s+guizhou-guian\/cpu.*no-accelerator/);
      const listed = await cliJson<JobList>(['jobs'], env);
      assert.ok(listed.items.some((j) => j.id === id && j.state === 'succeeded'));
    });

    it('charges jobs to the demo credit `up` grants: the wallet, the bill in show, the voucher on domestic chips', async () => {
      const before = await cliJson<{ grantedFen: number; paidFen: number; heldFen: number }>(['wallet'], env);
      assert.ok(before.grantedFen > 0 && before.grantedFen <= 1_000_000, `demo credit granted: ${JSON.stringify(before)}`);
      const submitted = await runCli(['submit', '--gpus', '8', '--accelerator', 'ascend-910b', '--time', '10m', '--', 'sleep', '3'], env);
      assert.equal(submitted.code, 0, submitted.stderr);
      const id = submitted.stdout.trim();
      const logs = await runCli(['logs', '-f', id], env);
      if (logs.code !== 0) assert.fail(`logs -f ended with ${logs.code}: ${logs.stderr} ${logs.stdout}; the job: ${(await runCli(['show', id], env)).stdout}`);
      const charges = await eventually('the job settled', async () => {
        const res = await fetch(`${network.url}/v1/jobs/${id}/charges`, { headers: { authorization: `Bearer ${network.adminToken}` } });
        const c = (await res.json()) as { items: { state: string; outcome: string; bill: number; voucher: number; userPaid: number }[] };
        return c.items.length === 1 && c.items[0]!.state === 'settled' ? c.items[0]! : undefined;
      });
      assert.equal(charges.outcome, 'succeeded');
      assert.ok(charges.bill > 0, `three seconds of eight 910Bs are not free: ${JSON.stringify(charges)}`);
      assert.ok(charges.voucher > 0 && charges.voucher <= Math.ceil(charges.bill * 0.3), `the demo voucher pays up to 30% on a domestic chip: ${JSON.stringify(charges)}`);
      const after = await cliJson<{ grantedFen: number; paidFen: number; heldFen: number }>(['wallet'], env);
      assert.equal(after.heldFen, before.heldFen, 'the hold is released at the end');
      assert.equal(before.grantedFen + before.paidFen - (after.grantedFen + after.paidFen), charges.userPaid);
      assert.match((await runCli(['show', id], env)).stdout, /BILLING/);
    });

    it('runs a job file, with its environment and working directory, on the cheapest CPU center', async () => {
      const workdir = join(home, 'wd');
      await writeFile(join(home, 'job.yaml'), `name: env-check\ncommand: [sh, -c, 'echo "$GREETING from $(pwd)"; echo oops >&2; exit 3']\nenv: { GREETING: ni-hao }\ncoresPerNode: 2\nobjective: cheapest\nworkdir: ${workdir}\n`);
      await (await import('node:fs/promises')).mkdir(workdir);
      const job = await cliJson<JobResource>(['submit', join(home, 'job.yaml')], env);
      const followed = await runCli(['logs', '-f', job.id], env);
      assert.equal(followed.code, 3, 'logs -f exits with the job exit code');
      assert.equal(followed.stdout, `ni-hao from ${workdir}\n`);
      assert.equal(followed.stderr.split('\n')[0], 'oops');
      const done = await cliJson<JobDetailResource>(['show', job.id], env);
      assert.equal(done.job.state, 'failed');
      assert.equal(done.job.exitCode, 3);
      assert.equal(done.job.center, 'guizhou-guian');
    });

    it('cancels a running job and kills its whole process group', async () => {
      // A folder the job may write to: as root, jobs run as their org's own user, and the home is not theirs.
      const pidDir = join(home, 'shared');
      await (await import('node:fs/promises')).mkdir(pidDir, { recursive: true, mode: 0o777 });
      await (await import('node:fs/promises')).chmod(pidDir, 0o777);
      const pidFile = join(pidDir, 'grandchild.pid');
      const job = await cliJson<JobResource>(['submit', '--', 'sh', '-c', `sleep 300 & echo $! > ${pidFile}; echo started; wait`], env);
      await eventually('the job to run', async () => (await cliJson<JobDetailResource>(['show', job.id], env)).job.state === 'running');
      const grandchild = Number(await eventually('the pid file', () => readFile(pidFile, 'utf8').catch(() => '')));
      assert.ok(alive(grandchild));
      const cancelled = await runCli(['cancel', job.id], env);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      await eventually('the job to end cancelled', async () => (await cliJson<JobDetailResource>(['show', job.id], env)).job.state === 'cancelled');
      await eventually('the background sleep to die with its group', () => !alive(grandchild), 10_000);
      const again = await runCli(['cancel', job.id], env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /job_already_finished/);
    });

    it('queues a job while capacity is taken and explains why it waits', async () => {
      const big = await cliJson<JobResource>(['submit', '--gpus', '8', '--nodes', '2', '--accelerator', 'nvidia-a100', '--', 'sleep', '600'], env);
      // It holds the A100s until cancelled below (no race against its run time on a busy machine).
      await eventually('the A100 gang to run', async () => (await cliJson<JobDetailResource>(['show', big.id], env)).job.state === 'running', 60_000);
      const waiting = await cliJson<JobResource>(['submit', '--gpus', '1', '--accelerator', 'nvidia-a100', '--', 'echo', 'later'], env);
      const shown = await eventually('a waiting explanation', async () => (await cliJson<JobDetailResource>(['show', waiting.id], env)).job.waiting, 60_000);
      assert.equal(shown.wait?.kind, 'capacity', JSON.stringify(shown));
      const reservedThere = shown.chosen?.start === 'reservation' && shown.chosen.centerName === 'east-shanghai';
      const fullThere = shown.infeasible.some((i) => i.reason === 'insufficient-capacity' && i.centerName === 'east-shanghai');
      assert.ok(reservedThere || fullThere, `waits for the A100 center: ${shown.summary}`);
      await runCli(['cancel', big.id], env);
      await eventually('the waiting job to run once capacity frees', async () => (await cliJson<JobDetailResource>(['show', waiting.id], env)).job.state === 'succeeded', 60_000);
    });
  });
}
