import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Lease, RunRef, RunStatus } from '../../src/core/agent-protocol.js';
import { connectorContract, waitFor } from '../../src/agent/connector-contract.js';
import type { SlurmConnectorOptions } from '../../src/agent/connectors/slurm/slurm-connector.js';
import { SlurmConnector } from '../../src/agent/connectors/slurm/slurm-connector.js';

/*
 * The slurm connector against the real clusters of scripts/slurm/clusters.sh (`npm run test:slurm`
 * starts and stops them; by hand: `bash scripts/slurm/clusters.sh up`, then
 * `set -a; . /tmp/suanwang-slurm/clusters.env; set +a` and run this file). Everything runs on this
 * host, so the state folder is "shared" with the compute nodes, and the contract suite's cancel case
 * can look for a job's grandchild process itself.
 */

const execFileAsync = promisify(execFile);
const CLUSTERS_SH = fileURLToPath(new URL('../../scripts/slurm/clusters.sh', import.meta.url));

const ascend = clusterEnv('ASCEND');
const nvidia = clusterEnv('NVIDIA');
const REQUIRED = process.env.SUANWANG_REQUIRE_SLURM === '1';
const SKIP = 'no Slurm cluster: run `npm run test:slurm` (it starts two on loopback), or start them with scripts/slurm/clusters.sh up and load clusters.env';

function clusterEnv(name: string): { url: string; token: string; user: string } | null {
  const url = process.env[`SUANWANG_SLURM_${name}_URL`];
  const token = process.env[`SUANWANG_SLURM_${name}_TOKEN`];
  const user = process.env[`SUANWANG_SLURM_${name}_USER`];
  return url && token && user ? { url, token, user } : null;
}

if (!ascend) {
  if (REQUIRED) {
    it('Slurm clusters are required (SUANWANG_REQUIRE_SLURM=1)', () => {
      assert.fail(`SUANWANG_SLURM_ASCEND_URL/_TOKEN/_USER are not set. ${SKIP}`);
    });
  } else {
    it('slurm connector', { skip: SKIP }, () => undefined);
  }
} else {
  suite(ascend);
}

function suite(cluster: { url: string; token: string; user: string }): void {
  const stateDirs: string[] = [];
  const instances: SlurmConnector[] = [];

  const newStateDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'suanwang-slurm-'));
    stateDirs.push(dir);
    return dir;
  };
  const connectorOver = (stateDir: string, extra: Partial<SlurmConnectorOptions> = {}): SlurmConnector => {
    const connector = new SlurmConnector({ ...cluster, stateDir, pollIntervalMs: 200, maxBackoffMs: 1000, ...extra });
    instances.push(connector);
    return connector;
  };

  /** Cancels (through slurmrestd) every Slurm job a state folder knows, so nothing outlives the suite. */
  const cancelJobsOf = async (stateDir: string): Promise<void> => {
    const names = await readdir(join(stateDir, 'runs')).catch(() => [] as string[]);
    for (const name of names) {
      const record = await readJson<{ slurmJobId: number | null }>(join(stateDir, 'runs', name, 'run.json'));
      if (record?.slurmJobId == null) continue;
      await fetch(`${cluster.url}/slurm/v0.0.38/job/${record.slurmJobId}`, {
        method: 'DELETE',
        headers: { 'X-SLURM-USER-NAME': cluster.user, 'X-SLURM-USER-TOKEN': cluster.token },
      }).catch(() => undefined);
    }
  };

  let sequence = 0;
  const lease = (poolName: string, command: readonly string[], overrides: Partial<Lease> = {}): Lease => {
    sequence += 1;
    return {
      jobId: `job_slurm${Date.now().toString(36)}${sequence}`,
      attempt: 1,
      name: `slurm ${sequence}`,
      tenant: { orgId: 'org_slurmtest', orgName: 'slurm-test' },
      poolName,
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
  };

  describe('slurm connector on the ascend cluster', () => {
    // Slurm checks time limits about every 30 s, so a real TIMEOUT takes 60–90 s: that run starts
    // first and is checked last, while everything else runs.
    let timeoutConnector: SlurmConnector;
    let timeoutLease: Lease;
    let timeoutStateDir: string;

    before(async () => {
      timeoutStateDir = await newStateDir();
      // A grace far beyond the walltime: only Slurm's own time limit can end this run.
      timeoutConnector = connectorOver(timeoutStateDir, { walltimeGraceMs: 10 * 60_000 });
      timeoutLease = lease('main-ascend-910b', ['sleep', '600'], { walltimeSeconds: 60, acceleratorsPerNode: 1 });
      await timeoutConnector.start(timeoutLease);
    });

    after(async () => {
      for (const instance of instances) await instance.close().catch(() => undefined);
      for (const dir of stateDirs) await cancelJobsOf(dir);
      // Slurm writes the output files of a job being killed into the state folder: let it finish first.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const dir of stateDirs) await rm(dir, { recursive: true, force: true });
    });

    connectorContract('slurm', async () => {
      const stateDir = await newStateDir();
      const make = (): SlurmConnector => connectorOver(stateDir);
      return {
        connector: make(),
        reopen: async () => make(),
        cleanup: async () => {
          await cancelJobsOf(stateDir);
        },
      };
    });

    it('maps partitions and nodes to pools with the right accelerator and counts', async () => {
      const connector = connectorOver(await newStateDir());
      const { pools, commands } = await connector.describe();
      assert.equal(commands, null, 'the compute nodes PATH cannot be seen from the agent');
      assert.deepEqual(pools, [
        { name: 'main-ascend-910b', accelerator: 'ascend-910b', acceleratorsPerNode: 8, coresPerNode: 32, memoryMiBPerNode: 131_072, nodes: 2 },
        { name: 'main-cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 16, memoryMiBPerNode: 32_768, nodes: 1 },
      ]);
      const health = connector.health();
      assert.equal(health.degraded, false);
      assert.equal(health.apiVersion, 'v0.0.38');
      const capacity = await connector.capacity();
      const npu = capacity.find((c) => c.pool === 'main-ascend-910b');
      assert.ok(npu && npu.usableNodes === 2 && npu.freeAccelerators <= 16, `capacity ${JSON.stringify(capacity)}`);

      if (nvidia) {
        const other = new SlurmConnector({ ...nvidia, stateDir: await newStateDir() });
        instances.push(other);
        assert.deepEqual((await other.describe()).pools, [
          { name: 'gpu-nvidia-a100', accelerator: 'nvidia-a100', acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 262_144, nodes: 2 },
        ]);
      }
    });

    it('runs a two-node gang job on two nodes', async () => {
      const connector = connectorOver(await newStateDir());
      const l = lease('main-ascend-910b', ['sh', '-c', 'echo "$SLURM_JOB_NUM_NODES $SUANWANG_NODES"; srun sh -c \'echo "$SLURMD_NODENAME"\' | sort'], {
        nodes: 2,
        acceleratorsPerNode: 4,
        coresPerNode: 4,
      });
      await connector.start(l);
      const run = await ended(connector, l, 30_000);
      assert.equal(run.state, 'succeeded', await readAll(connector, l, 'stderr'));
      assert.equal(await readAll(connector, l, 'stdout'), '2 2\nasc-n1\nasc-n2\n');
    });

    it('puts a job that needs npu only where the GRES is, and queues it when those nodes are full', async () => {
      const connector = connectorOver(await newStateDir());
      // Each takes 7 of a node's 8 NPUs: one per node at a time, so the third waits in Slurm's queue
      // (and is reported running meanwhile). The CPU-only node asc-c1 has cores to spare but no NPU.
      const leases = [1, 2, 3].map(() => lease('main-ascend-910b', ['sh', '-c', 'echo "$SLURMD_NODENAME"; sleep 2'], { acceleratorsPerNode: 7 }));
      for (const l of leases) await connector.start(l);
      await waitFor(async () => (await connector.runs()).length === 3 && connector.health().pendingRuns > 0, 10_000, 'one of three full-node jobs to wait in Slurm');
      for (const l of leases) {
        const run = await ended(connector, l, 30_000);
        assert.equal(run.state, 'succeeded');
        assert.match(await readAll(connector, l, 'stdout'), /^asc-n[12]\n$/, 'ran on a node with NPUs');
      }

      // A pool without accelerators cannot take a lease that needs them: refused before Slurm is asked.
      await assert.rejects(connector.start(lease('main-cpu', ['true'], { acceleratorsPerNode: 1 })), /has none/);
      // Slurm itself refuses what no node has (9 NPUs per node): start rejects and leaves no run behind.
      const tooBig = lease('main-ascend-910b', ['true'], { acceleratorsPerNode: 9 });
      await assert.rejects(connector.start(tooBig), /Requested node configuration is not available/);
      assert.ok(!(await connector.runs()).some((r) => r.jobId === tooBig.jobId));
    });

    it('finds its job by name when the agent died between submitting it and recording its id', async () => {
      const stateDir = await newStateDir();
      const connector = connectorOver(stateDir);
      const l = lease('main-cpu', ['sh', '-c', 'echo adopted']);
      await connector.start(l);
      await connector.close();
      // Leave on disk only what was there during the submission: the intent, with the job's name.
      const path = join(stateDir, 'runs', `${l.jobId}.1`, 'run.json');
      const record = (await readJson<{ slurmJobId: number }>(path))!;
      await writeFile(path, JSON.stringify({ ...record, phase: 'intent', slurmJobId: null, submittedAt: null }));

      const restarted = connectorOver(stateDir);
      const run = await ended(restarted, l, 15_000);
      assert.equal(run.state, 'succeeded');
      assert.equal(await readAll(restarted, l, 'stdout'), 'adopted\n');
      assert.equal((await readJson<{ slurmJobId: number }>(path))?.slurmJobId, record.slurmJobId, 'the same Slurm job, not a second one');
    });

    it('stays degraded with its mapping while slurmctld is down, and gets the real end once it is back', { timeout: 90_000 }, async () => {
      const stateDir = await newStateDir();
      const connector = connectorOver(stateDir);
      const l = lease('main-cpu', ['sh', '-c', 'while [ ! -e go ]; do sleep 0.1; done; echo finished']);
      await connector.start(l);
      const workdir = join(stateDir, 'work', l.jobId);
      await waitFor(async () => {
        await connector.runs(); // polls Slurm
        return (await readLast(stateDir, l))?.slurmState === 'RUNNING';
      }, 15_000, 'Slurm to run the job');
      const { slurmJobId } = (await readJson<{ slurmJobId: number }>(join(stateDir, 'runs', `${l.jobId}.1`, 'run.json')))!;

      await clusters('stop-ctld', 'ascend');
      try {
        await waitFor(async () => {
          await connector.runs();
          return connector.health().degraded;
        }, 20_000, 'the connector to notice slurmctld is gone');
        assert.match(connector.health().reason ?? '', /list jobs|did not answer/);
        assert.equal((await status(connector, l))?.state, 'running', 'the last state seen is kept');
        // The job finishes while nobody can ask Slurm about it.
        await writeFile(join(workdir, 'go'), '');
        await waitFor(async () => (await readAll(connector, l, 'stdout')) === 'finished\n', 10_000, 'the job to finish');
        // An agent restarted during the outage still has the run and its Slurm job id.
        await connector.close();
        const restarted = connectorOver(stateDir);
        assert.equal((await status(restarted, l))?.state, 'running');
        await waitFor(async () => {
          await restarted.runs();
          return restarted.health().degraded;
        }, 20_000, 'the restarted connector to find slurmctld gone');
        assert.equal((await status(restarted, l))?.state, 'running');
        const record = await readJson<{ slurmJobId: number; phase: string }>(join(stateDir, 'runs', `${l.jobId}.1`, 'run.json'));
        assert.deepEqual({ id: record?.slurmJobId, phase: record?.phase }, { id: slurmJobId, phase: 'submitted' });

        // A lease that comes during the outage is refused after startTimeoutMs, in words the control
        // plane can act on; its intent stays on disk (abandoned) in case Slurm got it after all.
        const impatient = connectorOver(stateDir, { startTimeoutMs: 2000 });
        const late = lease('main-cpu', ['true']);
        await assert.rejects(impatient.start(late), /^Error: center-unavailable: /);
        assert.equal((await readJson<{ phase: string }>(join(stateDir, 'runs', `${late.jobId}.1`, 'run.json')))?.phase, 'abandoned');
        assert.ok(!(await impatient.runs()).some((r) => r.jobId === late.jobId), 'a run that never started is not reported');
      } finally {
        await clusters('start-ctld', 'ascend');
      }
      const fresh = connectorOver(stateDir);
      const run = await ended(fresh, l, 60_000);
      assert.equal(run.state, 'succeeded');
      assert.equal(run.exitCode, 0);
      assert.equal(fresh.health().degraded, false);
      assert.equal(await readAll(fresh, l, 'stdout'), 'finished\n');
    });

    it('maps Slurm TIMEOUT to failed, walltime-exceeded', { timeout: 150_000 }, async () => {
      const run = await ended(timeoutConnector, timeoutLease, 140_000);
      assert.equal(run.state, 'failed');
      assert.equal(run.reason, 'walltime-exceeded');
      assert.equal((await readLast(timeoutStateDir, timeoutLease))?.slurmState, 'TIMEOUT', 'Slurm ended it, not the connector');
      assert.ok(run.finishedAt !== null && run.finishedAt - run.startedAt >= 60_000, `ran its walltime: ${JSON.stringify(run)}`);
    });
  });
}

async function clusters(...args: string[]): Promise<void> {
  await execFileAsync('bash', [CLUSTERS_SH, ...args], { env: process.env });
}

async function status(connector: SlurmConnector, run: RunRef): Promise<RunStatus | undefined> {
  return (await connector.runs()).find((r) => r.jobId === run.jobId && r.attempt === run.attempt);
}

async function ended(connector: SlurmConnector, run: RunRef, timeoutMs: number): Promise<RunStatus> {
  return waitFor(
    async () => {
      const s = await status(connector, run);
      return s !== undefined && s.state !== 'running' ? s : undefined;
    },
    timeoutMs,
    `run ${run.jobId}.${run.attempt} to end`,
  );
}

async function readAll(connector: SlurmConnector, run: RunRef, stream: 'stdout' | 'stderr'): Promise<string> {
  let text = '';
  let offset = 0;
  for (;;) {
    const { data, nextOffset } = await connector.readOutput(run, stream, offset, 65_536);
    if (data === '') return text;
    text += data;
    offset = nextOffset;
  }
}

async function readLast(stateDir: string, run: RunRef): Promise<{ slurmState: string | null } | null> {
  return readJson(join(stateDir, 'runs', `${run.jobId}.${run.attempt}`, 'last.json'));
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
