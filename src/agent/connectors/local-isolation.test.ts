import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AgentPool, Lease, LeaseTenant, RunStatus } from '../../core/agent-protocol.js';
import { waitFor } from '../connector-contract.js';
import { nativeLauncher, type LauncherKind } from './launcher.js';
import { LocalConnector } from './local-connector.js';

/*
 * Escape tests: what a job of one org tries against another org's jobs and against the agent, on a
 * home folder laid out like `suanwang up`'s (admin token at the top, the center's state folder with
 * its agent token below). Each attack must fail; on the connector before per-org users, all of them
 * succeeded (the job ran as the agent's own user).
 */

const POOLS: AgentPool[] = [{ name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 4, memoryMiBPerNode: 8192, nodes: 1 }];
const ORG_A: LeaseTenant = { orgId: 'org_escapetesta', orgName: 'escape-a' };
const ORG_B: LeaseTenant = { orgId: 'org_escapetestb', orgName: 'escape-b' };
const IS_ROOT = process.getuid?.() === 0;

let sequence = 0;
function lease(tenant: LeaseTenant, command: readonly string[], overrides: Partial<Lease> = {}): Lease {
  sequence += 1;
  return {
    jobId: `job_escape${process.pid}x${sequence}`,
    attempt: 1,
    name: `escape ${sequence}`,
    tenant,
    poolName: 'cpu',
    command,
    env: {},
    workdir: null,
    files: {},
    nodes: 1,
    acceleratorsPerNode: 0,
    coresPerNode: 1,
    memoryMiBPerNode: 64,
    walltimeSeconds: 120,
    ...overrides,
  };
}

interface Home {
  readonly home: string;
  readonly stateDir: string;
  readonly connector: LocalConnector;
}

/** A home folder like `up` makes (0600 secrets), one connector over its center folder; always cleaned up. */
async function withHome(launcher: LauncherKind, body: (h: Home) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'suanwang-escape-'));
  const stateDir = join(home, 'centers', 'c1');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  // As `up` leaves them with per-org users: searchable (a job reaches its workdir by name), not listable.
  await chmod(home, 0o711);
  await chmod(join(home, 'centers'), 0o711);
  await writeFile(join(home, 'admin-token'), 'ADMIN-TOKEN-SECRET\n', { mode: 0o600 });
  await writeFile(join(stateDir, 'agent-token'), 'AGENT-TOKEN-SECRET\n', { mode: 0o600 });
  const connector = new LocalConnector({ stateDir, pools: POOLS, killGraceMs: 300, launcher });
  try {
    await body({ home, stateDir, connector });
  } finally {
    for (const status of await connector.runs().catch(() => [] as RunStatus[])) {
      if (status.state === 'running') await connector.cancel(status).catch(() => undefined);
    }
    await waitFor(async () => (await connector.runs()).every((r) => r.state !== 'running'), 20_000, 'every run ended').catch(() => undefined);
    await connector.close();
    await rm(home, { recursive: true, force: true });
  }
}

async function ended(connector: LocalConnector, ref: { jobId: string; attempt: number }): Promise<RunStatus> {
  return waitFor(
    async () => (await connector.runs()).find((r) => r.jobId === ref.jobId && r.attempt === ref.attempt && r.state !== 'running'),
    20_000,
    `${ref.jobId} ended`,
  );
}

async function output(connector: LocalConnector, ref: { jobId: string; attempt: number }): Promise<string> {
  return (await connector.readOutput(ref, 'stdout', 0, 1 << 20)).data;
}

/** Whether a process is gone (or a zombie nobody has reaped yet: it runs no more). */
function isGone(pid: number): boolean {
  try {
    return /\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** A shell line per attack: prints `escaped <what>` when it worked, `held <what>` when it did not. */
function attack(what: string, line: string): string {
  return `if ${line} >/dev/null 2>&1; then echo "escaped ${what}"; else echo "held ${what}"; fi`;
}

// Both launchers (launcher.ts): the C one where a compiler built it, and the Perl one it falls back to.
for (const launcher of ['native', 'perl'] as const) {
  describe(`LocalConnector isolation (${launcher} launcher)`, { timeout: 90_000, skip: launcher === 'native' && !nativeLauncher().path && nativeLauncher().why }, () => {
    it('keeps a job of org B away from the admin token, org A\'s workdir and output, and the agent\'s state and markers', { skip: !IS_ROOT && 'needs root (per-org users)' }, async () => {
      await withHome(launcher, async ({ home, stateDir, connector }) => {
        const victim = lease(ORG_A, ['sh', '-c', 'echo A-OUTPUT-SECRET $$; echo A-WORKDIR-SECRET > secret.txt; exec sleep 300']);
        await connector.start(victim);
        await waitFor(async () => (await output(connector, victim)).includes('A-OUTPUT-SECRET'), 20_000, 'the victim printed');
        const victimPid = Number(/A-OUTPUT-SECRET (\d+)/.exec(await output(connector, victim))?.[1]);
        assert.ok(victimPid > 0);
        const victimRun = join(stateDir, 'runs', `${victim.jobId}.1`);
        const victimWork = join(stateDir, 'work', victim.jobId);
        await waitFor(async () => existsSync(join(victimWork, 'secret.txt')), 20_000, 'the victim wrote its file');

        const script = [
          attack('admin-token', `cat "${join(home, 'admin-token')}"`),
          attack('admin-token-relative', 'cat ../../../../admin-token'),
          attack('agent-token', `cat "${join(stateDir, 'agent-token')}"`),
          attack('other-workdir', `cat "${join(victimWork, 'secret.txt')}"`),
          attack('other-workdir-list', `ls "${victimWork}"`),
          attack('other-output', `cat "${join(victimRun, 'stdout')}"`),
          attack('agent-state', `cat "${join(victimRun, 'meta.json')}"`),
          attack('runs-list', `ls "${join(stateDir, 'runs')}"`),
          attack('other-exit-marker', `sh -c 'echo 0 > "${join(victimRun, 'exit')}"'`),
          attack('other-stop-marker', `sh -c 'echo cancelled > "${join(victimRun, 'stop')}"'`),
          attack('home-write', `sh -c 'echo x > "${join(home, 'planted')}"'`),
          attack('environment', `sh -c 'env | grep -q -e SUANWANG_EXIT_FILE -e AGENT-TOKEN-SECRET'`),
          attack('signal-other', `kill -STOP ${victimPid}`),
          'echo done',
        ].join('\n');
        const intruder = lease(ORG_B, ['sh', '-c', script]);
        await connector.start(intruder);
        const status = await ended(connector, intruder);
        const report = await output(connector, intruder);
        assert.equal(status.state, 'succeeded', report);
        assert.match(report, /done/);
        assert.deepEqual(
          report.split('\n').filter((l) => l.startsWith('escaped')),
          [],
          `every attack must fail:\n${report}`,
        );
        // The victim is untouched: still running, no marker written for it by anyone.
        const victimStatus = (await connector.runs()).find((r) => r.jobId === victim.jobId);
        assert.equal(victimStatus?.state, 'running');
        assert.equal(existsSync(join(victimRun, 'exit')), false);
        assert.equal(existsSync(join(home, 'planted')), false);
      });
    });

    it('runs each org as its own unprivileged user, with HOME in a workdir only that user can read', { skip: !IS_ROOT && 'needs root (per-org users)' }, async () => {
      await withHome(launcher, async ({ stateDir, connector }) => {
        const a = lease(ORG_A, ['sh', '-c', 'id -u; id -g; echo "$HOME"; pwd; stat -c "%u %a" .; cat hello.txt'], { files: { 'hello.txt': 'hi\n' } });
        const b = lease(ORG_B, ['id', '-u']);
        await connector.start(a);
        await connector.start(b);
        assert.equal((await ended(connector, a)).state, 'succeeded', await output(connector, a));
        assert.equal((await ended(connector, b)).state, 'succeeded');
        const [uidA, gidA, homeA, cwdA, workStat, hello] = (await output(connector, a)).trim().split('\n');
        const uidB = (await output(connector, b)).trim();
        assert.notEqual(uidA, '0');
        assert.notEqual(gidA, '0');
        assert.notEqual(uidB, '0');
        assert.notEqual(uidA, uidB, 'two orgs, two users');
        const workdir = join(stateDir, 'work', a.jobId);
        assert.equal(homeA, workdir);
        assert.equal(cwdA, workdir);
        assert.equal(workStat, `${uidA} 700`);
        assert.equal(hello, 'hi');
        // The mapping is recorded for the operator.
        const users = JSON.parse(await readFile(join(stateDir, 'users.json'), 'utf8')) as Record<string, { uid: number }>;
        assert.equal(String(users[ORG_A.orgId]?.uid), uidA);
      });
    });

    it('kills a background process when the main process succeeds', async () => {
      await withHome(launcher, async ({ connector }) => {
        const job = lease(ORG_A, ['sh', '-c', 'sleep 93 & echo $!']);
        await connector.start(job);
        const status = await ended(connector, job);
        assert.equal(status.state, 'succeeded');
        const pid = Number((await output(connector, job)).trim());
        assert.ok(pid > 0);
        await waitFor(async () => isGone(pid), 10_000, `background sleep ${pid} gone`);
      });
    });

    it('kills a setsid child when the run is cancelled', async () => {
      await withHome(launcher, async ({ connector }) => {
        const job = lease(ORG_A, ['sh', '-c', 'setsid sleep 94 & echo $!; exec sleep 300']);
        await connector.start(job);
        let pid = 0;
        await waitFor(async () => (pid = Number((await output(connector, job)).trim())) > 0, 20_000, 'the child pid printed');
        await connector.cancel(job);
        assert.equal((await ended(connector, job)).state, 'cancelled');
        await waitFor(async () => isGone(pid), 10_000, `setsid sleep ${pid} gone`);
      });
    });

    it('refuses a second org without root unless told the machine is single-tenant', async () => {
      const stateDir = await mkdtemp(join(tmpdir(), 'suanwang-single-'));
      const connector = new LocalConnector({ stateDir, pools: POOLS, killGraceMs: 300, isolation: 'single-org' } as never);
      try {
        const first = lease(ORG_A, ['true']);
        await connector.start(first);
        await ended(connector, first);
        await assert.rejects(connector.start(lease(ORG_B, ['true'])), /escape-a.*escape-b|cannot keep orgs apart/s);
        assert.deepEqual((await readdir(join(stateDir, 'runs'))).length, 1);
      } finally {
        await connector.close();
        await rm(stateDir, { recursive: true, force: true });
      }
    });
  });
}
