import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Lease, LeaseTenant, RunRef, RunStatus } from '../../src/core/agent-protocol.js';
import { waitFor } from '../../src/agent/connector-contract.js';
import { SlurmConnector } from '../../src/agent/connectors/slurm/slurm-connector.js';

/*
 * Escape tests at the Slurm connector, on the real clusters of scripts/slurm/clusters.sh (run through
 * scripts/slurm/with-clusters.sh): a job of org B tries to read the admin token (a file in the home
 * like the real one), org A's workdir, output and the agent's records of it, and to write org A's
 * markers and the agent's. Before per-org Slurm users, every job ran as one Slurm user (root here)
 * and all of these worked.
 */

const url = process.env.SUANWANG_SLURM_ASCEND_URL;
const token = process.env.SUANWANG_SLURM_ASCEND_TOKEN;
const user = process.env.SUANWANG_SLURM_ASCEND_USER;
const REQUIRED = process.env.SUANWANG_REQUIRE_SLURM === '1';
const ORG_A: LeaseTenant = { orgId: 'org_slurmescapea', orgName: 'slurm-escape-a' };
const ORG_B: LeaseTenant = { orgId: 'org_slurmescapeb', orgName: 'slurm-escape-b' };

let sequence = 0;
function lease(tenant: LeaseTenant, poolName: string, command: readonly string[]): Lease {
  sequence += 1;
  return {
    jobId: `job_slurmesc${Date.now().toString(36)}${sequence}`,
    attempt: 1,
    name: `slurm escape ${sequence}`,
    tenant,
    poolName,
    command,
    env: {},
    workdir: null,
    files: {},
    nodes: 1,
    acceleratorsPerNode: 0,
    coresPerNode: 1,
    memoryMiBPerNode: 64,
    walltimeSeconds: 300,
  };
}

/** A shell line per attack: prints `escaped <what>` when it worked, `held <what>` when it did not. */
function attack(what: string, line: string): string {
  return `if ${line} >/dev/null 2>&1; then echo "escaped ${what}"; else echo "held ${what}"; fi`;
}

async function output(connector: SlurmConnector, run: RunRef): Promise<string> {
  return (await connector.readOutput(run, 'stdout', 0, 1 << 20)).data;
}

async function ended(connector: SlurmConnector, run: RunRef): Promise<RunStatus> {
  return waitFor(async () => (await connector.runs()).find((r) => r.jobId === run.jobId && r.state !== 'running'), 60_000, `${run.jobId} ended`);
}

if (!url || !token || !user) {
  it('slurm isolation', { skip: !REQUIRED && 'no Slurm cluster (see test/slurm/slurm-connector.test.ts)' }, () => {
    assert.fail('SUANWANG_SLURM_ASCEND_URL/_TOKEN/_USER are not set');
  });
} else {
  describe('slurm connector isolation', { timeout: 180_000 }, () => {
    const homes: string[] = [];
    const connectors: SlurmConnector[] = [];
    after(async () => {
      for (const c of connectors) {
        for (const run of await c.runs().catch(() => [] as RunStatus[])) if (run.state === 'running') await c.cancel(run).catch(() => undefined);
        await waitFor(async () => (await c.runs()).every((r) => r.state !== 'running'), 60_000, 'every run ended').catch(() => undefined);
        await c.close();
      }
      for (const home of homes) await rm(home, { recursive: true, force: true });
    });

    it('keeps a job of org B away from the admin token, org A\'s workdir and output, and the agent\'s records and markers', async () => {
      const home = await mkdtemp(join(tmpdir(), 'suanwang-slurm-escape-'));
      homes.push(home);
      const stateDir = join(home, 'centers', 'c1');
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      // As `up` leaves them with per-org users: searchable, not listable.
      await chmod(home, 0o711);
      await chmod(join(home, 'centers'), 0o711);
      await writeFile(join(home, 'admin-token'), 'ADMIN-TOKEN-SECRET\n', { mode: 0o600 });
      await writeFile(join(stateDir, 'agent-token'), 'AGENT-TOKEN-SECRET\n', { mode: 0o600 });
      const connector = new SlurmConnector({ url, token, user, stateDir, pollIntervalMs: 200, maxBackoffMs: 1000 });
      connectors.push(connector);
      const pool = (await connector.describe()).pools.find((p) => p.acceleratorsPerNode === 0 || p.coresPerNode > 0);
      assert.ok(pool, 'the cluster offers a pool');

      const victim = lease(ORG_A, pool.name, ['sh', '-c', 'echo A-OUTPUT-SECRET; id -u; echo A-WORKDIR-SECRET > secret.txt; exec sleep 240']);
      await connector.start(victim);
      await waitFor(async () => (await output(connector, victim)).includes('A-OUTPUT-SECRET'), 60_000, 'the victim printed');
      const victimKey = `${victim.jobId}.1`;
      const victimWork = join(stateDir, 'work', victim.jobId);
      await waitFor(async () => existsSync(join(victimWork, 'secret.txt')), 30_000, 'the victim wrote its file');
      // Wherever this version keeps them: the agent's run folder, and the folder Slurm writes the job's files in.
      const runDir = join(stateDir, 'runs', victimKey);
      const outDir = existsSync(join(stateDir, 'out', victimKey)) ? join(stateDir, 'out', victimKey) : runDir;

      const script = [
        attack('admin-token', `cat "${join(home, 'admin-token')}"`),
        attack('agent-token', `cat "${join(stateDir, 'agent-token')}"`),
        attack('other-workdir', `cat "${join(victimWork, 'secret.txt')}"`),
        attack('other-output', `cat "${join(outDir, 'stdout')}"`),
        attack('agent-record', `cat "${join(runDir, 'run.json')}"`),
        attack('agent-script', `cat "${join(runDir, 'job.sh')}"`),
        attack('runs-list', `ls "${join(stateDir, 'runs')}"`),
        attack('other-exit-marker', `sh -c 'echo 0 > "${join(outDir, 'exit')}"'`),
        attack('agent-stop-marker', `sh -c 'echo cancelled > "${join(runDir, 'stop')}"'`),
        attack('agent-record-write', `sh -c 'echo {} > "${join(runDir, 'last.json')}"'`),
        attack('home-write', `sh -c 'echo x > "${join(home, 'planted')}"'`),
        'id -u',
        'echo done',
      ].join('\n');
      const intruder = lease(ORG_B, pool.name, ['sh', '-c', script]);
      await connector.start(intruder);
      const status = await ended(connector, intruder);
      const report = await output(connector, intruder);
      assert.equal(status.state, 'succeeded', report);
      assert.match(report, /done/);
      assert.deepEqual(report.split('\n').filter((l) => l.startsWith('escaped')), [], `every attack must fail:\n${report}`);

      // Each org's job ran as its own unprivileged user.
      const uidA = (await output(connector, victim)).split('\n')[1];
      const uidB = report.trim().split('\n').at(-2);
      assert.notEqual(uidA, '0');
      assert.notEqual(uidB, '0');
      assert.notEqual(uidA, uidB);

      assert.equal((await connector.runs()).find((r) => r.jobId === victim.jobId)?.state, 'running');
      assert.equal(existsSync(join(runDir, 'stop')), false);
      assert.equal(existsSync(join(home, 'planted')), false);
      const users = JSON.parse(await readFile(join(stateDir, 'users.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(users).sort(), [ORG_A.orgId, ORG_B.orgId].sort());
      assert.ok((await readdir(join(stateDir, 'runs'))).includes(victimKey));
    });
  });
}
