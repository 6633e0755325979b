import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { AgentPool, Lease, RunRef, RunStatus } from '../../core/agent-protocol.js';
import { connectorContract, waitFor } from '../connector-contract.js';
import { nativeLauncher } from './launcher.js';
import { LocalConnector } from './local-connector.js';

const POOLS: AgentPool[] = [
  { name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 4, memoryMiBPerNode: 8192, nodes: 1 },
  { name: 'a100', accelerator: 'nvidia-a100', acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 1_048_576, nodes: 2 },
];
const KILL_GRACE_MS = 500;

/** SIGKILLs every process group the state folder knows of: the last line of cleanup, whatever a test did. */
async function killLeftovers(stateDir: string, runsDir = join(stateDir, 'runs')): Promise<void> {
  const names = await readdir(runsDir).catch(() => [] as string[]);
  for (const name of names) {
    try {
      const { pid } = JSON.parse(await readFile(join(runsDir, name, 'meta.json'), 'utf8')) as { pid: number };
      process.kill(-pid, 'SIGKILL');
    } catch {
      // no meta, or the group is gone
    }
  }
}

async function newStateDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'suanwang-local-'));
}

// The contract with each launcher (launcher.ts): the C one where it can be built, else only Perl.
for (const launcher of nativeLauncher().path ? (['native', 'perl'] as const) : (['perl'] as const)) {
  connectorContract(`local (${launcher} launcher)`, async () => {
    const stateDir = await newStateDir();
    const make = (): LocalConnector => new LocalConnector({ stateDir, pools: POOLS, killGraceMs: KILL_GRACE_MS, launcher });
    return {
      connector: make(),
      reopen: async () => make(),
      cleanup: async () => {
        await killLeftovers(stateDir);
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  });
}

// …and with the run folders apart from the state folder (`runsDir`, on a tmpfs where there is one).
connectorContract('local (runsDir apart from stateDir)', async () => {
  const stateDir = await newStateDir();
  const runsDir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'suanwang-runs-'));
  const make = (): LocalConnector => new LocalConnector({ stateDir, runsDir, pools: POOLS, killGraceMs: KILL_GRACE_MS });
  return {
    connector: make(),
    reopen: async () => make(),
    cleanup: async () => {
      await killLeftovers(stateDir, runsDir);
      const strayRuns = existsSync(join(stateDir, 'runs'));
      await rm(stateDir, { recursive: true, force: true });
      await rm(runsDir, { recursive: true, force: true });
      assert.ok(!strayRuns, 'no run folder went to the state folder');
    },
  };
});

interface Bench {
  readonly stateDir: string;
  readonly connector: LocalConnector;
  reopen(): LocalConnector;
}

/** Runs `body` over a fresh state folder and always stops every process it started, then removes the folder. */
async function withBench(body: (bench: Bench) => Promise<void>): Promise<void> {
  const stateDir = await newStateDir();
  const instances: LocalConnector[] = [];
  const make = (): LocalConnector => {
    const c = new LocalConnector({ stateDir, pools: POOLS, killGraceMs: KILL_GRACE_MS });
    instances.push(c);
    return c;
  };
  try {
    await body({ stateDir, connector: make(), reopen: make });
  } finally {
    for (const c of instances) await c.close();
    await killLeftovers(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  }
}

let sequence = 0;
function lease(command: readonly string[], overrides: Partial<Lease> = {}): Lease {
  sequence += 1;
  return {
    jobId: `job_local${sequence}`,
    attempt: 1,
    name: `local ${sequence}`,
    tenant: { orgId: 'org_localtest', orgName: 'local-test' },
    poolName: 'cpu',
    command,
    env: {},
    workdir: null,
    files: {},
    nodes: 1,
    acceleratorsPerNode: 0,
    coresPerNode: 1,
    memoryMiBPerNode: 64,
    walltimeSeconds: 60,
    ...overrides,
  };
}

async function status(c: LocalConnector, run: RunRef): Promise<RunStatus | undefined> {
  return (await c.runs()).find((r) => r.jobId === run.jobId && r.attempt === run.attempt);
}

async function ended(c: LocalConnector, run: RunRef): Promise<RunStatus> {
  return waitFor(async () => {
    const s = await status(c, run);
    return s && s.state !== 'running' ? s : undefined;
  }, 10_000, `${run.jobId} to end`);
}

async function stdoutOf(c: LocalConnector, run: RunRef): Promise<string> {
  return (await c.readOutput(run, 'stdout', 0, 1 << 20)).data;
}

/** True while `pid` exists and is not a zombie (here nobody may reap a killed orphan). */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return process.platform !== 'linux';
  }
}

describe('LocalConnector', { timeout: 60_000 }, () => {
  it('describes exactly the pools it was given and the executables on PATH', () =>
    withBench(async ({ connector }) => {
      const { pools, commands } = await connector.describe();
      assert.deepEqual(pools, POOLS);
      assert.ok(commands !== null);
      for (const name of ['sh', 'echo', 'sleep', 'printf']) assert.ok(commands.includes(name), `${name} is listed`);
      assert.ok(!commands.some((name) => name.includes('/')), 'names, not paths');
    }));

  it('keeps a run folder per attempt and a default workdir that survives forget', () =>
    withBench(async ({ stateDir, connector }) => {
      const l = lease(['sh', '-c', 'echo result > out.txt; echo done']);
      await connector.start(l);
      assert.equal((await ended(connector, l)).state, 'succeeded');
      const runDir = join(stateDir, 'runs', `${l.jobId}.1`);
      // `spec` is what the launcher ran (user, workdir, environment, argv).
      assert.deepEqual((await readdir(runDir)).sort(), ['exit', 'meta.json', 'spec', 'stderr', 'stdout']);
      const meta = JSON.parse(await readFile(join(runDir, 'meta.json'), 'utf8')) as { pid: number; workdir: string; lease: Lease };
      assert.ok(meta.pid > 1);
      assert.equal(meta.workdir, join(stateDir, 'work', l.jobId));
      assert.deepEqual(meta.lease, l);
      assert.equal((await readFile(join(runDir, 'exit'), 'utf8')).trim(), '0');
      // What the agent reads a succeeded run's outputs from (docs/data.md, "Outputs").
      const info = await connector.runInfo(l);
      assert.deepEqual(info && [info.lease, info.workdir], [l, meta.workdir]);

      await connector.forget(l);
      assert.equal(await connector.runInfo(l), null, 'a forgotten run is unknown');
      assert.ok(!existsSync(runDir), 'the run folder is gone');
      assert.equal(await readFile(join(meta.workdir, 'out.txt'), 'utf8'), 'result\n', 'the outputs stay');
      assert.equal(await status(connector, l), undefined);
    }));

  it('gives a run a clean env: the lease env and SUANWANG_*, not the agent env', () =>
    withBench(async ({ connector }) => {
      process.env.SUANWANG_TEST_AGENT_SECRET = 'leak';
      try {
        const l = lease(['env'], { env: { MY_VAR: 'a=b c' }, nodes: 2, acceleratorsPerNode: 4, attempt: 3 });
        await connector.start(l);
        assert.equal((await ended(connector, l)).state, 'succeeded');
        const lines = (await stdoutOf(connector, l)).split('\n');
        for (const line of ['MY_VAR=a=b c', `SUANWANG_JOB_ID=${l.jobId}`, 'SUANWANG_ATTEMPT=3', 'SUANWANG_NODES=2', 'SUANWANG_ACCELERATORS_PER_NODE=4']) {
          assert.ok(lines.includes(line), `${line} in ${JSON.stringify(lines)}`);
        }
        assert.ok(lines.some((line) => line.startsWith('PATH=')), 'PATH is passed on');
        assert.ok(!lines.some((line) => line.startsWith('SUANWANG_TEST_AGENT_SECRET=')), 'agent env does not leak');
        assert.ok(!lines.some((line) => line.startsWith('SUANWANG_EXIT_FILE=')), 'the wrapper keeps its own variable');
      } finally {
        delete process.env.SUANWANG_TEST_AGENT_SECRET;
      }
    }));

  it('rejects a start it cannot do, saying why, and leaves nothing behind', () =>
    withBench(async ({ stateDir, connector }) => {
      const missing = join(stateDir, 'no', 'such', 'dir');
      await assert.rejects(connector.start(lease(['true'], { workdir: missing })), (e: Error) => e.message.includes(missing));
      const file = join(stateDir, 'a-file');
      await writeFile(file, '');
      await assert.rejects(connector.start(lease(['true'], { workdir: file })), /not a directory/);
      await assert.rejects(connector.start(lease([])), /command is empty/);
      await assert.rejects(connector.start(lease(['true'], { jobId: '../escape' })), /jobId/);
      await assert.rejects(connector.start(lease(['true'], { files: { '../../outside.txt': 'x' } })), /outside the working directory/);
      await assert.rejects(connector.start(lease(['true'], { files: { '/etc/evil': 'x' } })), /outside the working directory/);
      assert.deepEqual(await connector.runs(), []);

      const l = lease(['sleep', '30']);
      await connector.start(l);
      await assert.rejects(connector.start(l), /already started/);
      await assert.rejects(connector.forget(l), /still running/);
      await connector.cancel(l);
      assert.equal((await ended(connector, l)).state, 'cancelled');
    }));

  it('reports process-vanished when the run dies without a trace', () =>
    withBench(async ({ stateDir, connector }) => {
      const l = lease(['sleep', '30']);
      await connector.start(l);
      const { pid } = JSON.parse(await readFile(join(stateDir, 'runs', `${l.jobId}.1`, 'meta.json'), 'utf8')) as { pid: number };
      // Whatever records how the run ends goes first (the native launcher is the command's parent; the
      // Perl launcher's wrapper is the pid itself), then the run: as the OOM killer would.
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      process.kill(parent, 'SIGKILL');
      process.kill(pid, 'SIGKILL');
      const run = await ended(connector, l);
      assert.equal(run.state, 'failed');
      assert.equal(run.reason, 'process-vanished');
      assert.equal(run.exitCode, null);
      assert.equal((await status(connector, l))?.finishedAt, run.finishedAt, 'finishedAt does not move');
    }));

  it('SIGKILLs a run that ignores SIGTERM after the grace, even when the stopping instance went away', () =>
    withBench(async ({ connector, reopen }) => {
      const stubborn = ['sh', '-c', 'trap "" TERM; sleep 300 & echo $!; wait'];
      const a = lease(stubborn);
      const b = lease(stubborn);
      await connector.start(a);
      await connector.start(b);
      const pidOf = async (c: LocalConnector, run: RunRef): Promise<number> =>
        Number(await waitFor(async () => (await stdoutOf(c, run)).trim(), 10_000, 'the pid'));
      const pa = await pidOf(connector, a);
      const pb = await pidOf(connector, b);

      await connector.cancel(a); // this instance's timer sends the SIGKILL
      await waitFor(() => !isProcessAlive(pa), 10_000, 'the stubborn child of a to die');

      await connector.cancel(b);
      await connector.close(); // …and here nobody's timer does: the next instance must
      const started = Date.now();
      const fresh = reopen();
      await waitFor(async () => {
        await fresh.runs();
        return !isProcessAlive(pb);
      }, 10_000, 'the stubborn child of b to die');
      assert.ok(Date.now() - started >= KILL_GRACE_MS / 2, 'the grace is given first');
      // The wrapper dies with its child, but not necessarily before the child is seen gone.
      await waitFor(async () => (await status(fresh, b))?.state === 'cancelled', 10_000, 'b to read as cancelled');
    }));

  it('re-attaches to runs whose agent process was SIGKILLed', () =>
    withBench(async ({ stateDir, reopen }) => {
      // A separate Node process plays the agent: it starts a run, then dies without any cleanup.
      const modulePath = fileURLToPath(new URL('./local-connector.ts', import.meta.url));
      const script = join(stateDir, 'agent.mts');
      const l = lease(['sh', '-c', 'sleep 300 & echo $!; wait']);
      await writeFile(
        script,
        [
          `import { LocalConnector } from ${JSON.stringify(modulePath)};`,
          `const c = new LocalConnector({ stateDir: ${JSON.stringify(stateDir)}, pools: [] });`,
          `await c.start(${JSON.stringify(l)});`,
          `process.stdout.write('started\\n');`,
          'setInterval(() => {}, 60_000);',
        ].join('\n'),
      );
      const agent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        let said = '';
        agent.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
        await waitFor(() => said.includes('started') || agent.exitCode !== null, 20_000, 'the agent process to start a run');
        assert.ok(said.includes('started'), 'the agent process started the run');
      } finally {
        agent.kill('SIGKILL');
      }
      await new Promise((resolve) => (agent.exitCode !== null || agent.signalCode !== null ? resolve(null) : agent.once('exit', resolve)));

      const fresh = reopen();
      assert.equal((await status(fresh, l))?.state, 'running');
      const child = Number(await waitFor(async () => (await stdoutOf(fresh, l)).trim(), 10_000, 'the pid'));
      await fresh.cancel(l);
      assert.equal((await ended(fresh, l)).state, 'cancelled');
      await waitFor(() => !isProcessAlive(child), 10_000, 'the grandchild to be gone');
    }));

  it('returns a character longer than maxBytes whole, and waits for one cut off at the end of the file', () =>
    withBench(async ({ stateDir, connector }) => {
      const l = lease(['printf', '中']);
      await connector.start(l);
      await ended(connector, l);
      assert.deepEqual(await connector.readOutput(l, 'stdout', 0, 1), { data: '中', nextOffset: 3 });
      // Half a character at the end of the file (a writer caught mid-character) is not returned yet.
      await writeFile(join(stateDir, 'runs', `${l.jobId}.1`, 'stdout'), Buffer.from([0x61, 0xe4, 0xb8]));
      assert.deepEqual(await connector.readOutput(l, 'stdout', 0, 100), { data: 'a', nextOffset: 1 });
      assert.deepEqual(await connector.readOutput(l, 'stdout', 1, 100), { data: '', nextOffset: 1 });
      await assert.rejects(connector.readOutput({ jobId: 'job_unknown', attempt: 1 }, 'stdout', 0, 10), /unknown run/);
    }));
});
