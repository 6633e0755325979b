import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { AgentPool } from '../../src/core/agent-protocol.js';
import { SlurmConnector } from '../../src/agent/connectors/slurm/slurm-connector.js';
import { SuanwangClient } from '../../src/api/client/client.js';
import type { CenterResource, JobDetailResource, JobResource, JobSubmissionInput } from '../../src/api/client/schemas.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import type { DemoCenter } from '../../src/cli/up/demo-network.js';
import { eventually } from '../support/wait.js';

/*
 * The issue's acceptance, on the platform: the embedded control plane with two centers, each an
 * in-process agent whose connector drives one of the real Slurm clusters of scripts/slurm/clusters.sh
 * through slurmrestd. `npm run test:slurm` starts and stops the clusters (and runs the files of
 * test/slurm one after the other: both use the same clusters, and both stop a slurmctld). By hand:
 * `bash scripts/slurm/clusters.sh up`, `set -a; . /tmp/suanwang-slurm/clusters.env; set +a`, run this
 * file, `bash scripts/slurm/clusters.sh down`.
 *
 *   ascend-cluster (region ningxia): asc-n1, asc-n2 with npu:8 (ascend-910b), asc-c1 CPU only
 *   nvidia-cluster (region shanghai): nv-g1, nv-g2 with gpu:8 (nvidia-a100)
 *
 * The NPUs are priced well below the A100s, so a job that may run on either goes to ascend unless
 * something keeps it away. Everything here runs on this host: the agents' state folders are "shared"
 * with the compute nodes, and squeue (through each cluster's SLURM_CONF) shows what Slurm really has.
 */

const execFileAsync = promisify(execFile);
const CLUSTERS_SH = fileURLToPath(new URL('../../scripts/slurm/clusters.sh', import.meta.url));

interface Cluster {
  readonly url: string;
  readonly token: string;
  readonly user: string;
  /** The cluster's slurm.conf, for squeue/scontrol. */
  readonly conf: string;
}

const ASCEND = 'ascend-cluster';
const NVIDIA = 'nvidia-cluster';
const DEADLINE_MS = 4000;
/** No case may hang the suite: every wait below is bounded, and so is each case. */
const CASE = { timeout: 90_000 };
const REQUIRED = process.env.SUANWANG_REQUIRE_SLURM === '1';
const SKIP = 'no Slurm clusters: run `npm run test:slurm` (it starts two on loopback), or start them with scripts/slurm/clusters.sh up and load clusters.env';

const ascendCluster = clusterEnv('ASCEND');
const nvidiaCluster = clusterEnv('NVIDIA');

function clusterEnv(name: string): Cluster | null {
  const get = (what: string): string | undefined => process.env[`SUANWANG_SLURM_${name}_${what}`];
  const [url, token, user, conf] = [get('URL'), get('TOKEN'), get('USER'), get('CONF')];
  return url && token && user && conf ? { url, token, user, conf } : null;
}

if (!ascendCluster || !nvidiaCluster) {
  if (REQUIRED) {
    it('Slurm clusters are required (SUANWANG_REQUIRE_SLURM=1)', () => {
      assert.fail(`SUANWANG_SLURM_ASCEND_* and SUANWANG_SLURM_NVIDIA_* (URL, TOKEN, USER, CONF) are not all set. ${SKIP}`);
    });
  } else {
    it('the platform on Slurm clusters', { skip: SKIP }, () => undefined);
  }
} else {
  suite(ascendCluster, nvidiaCluster);
}

function suite(ascend: Cluster, nvidia: Cluster): void {
  const clusterOf: Record<string, Cluster> = { [ASCEND]: ascend, [NVIDIA]: nvidia };
  const submitted: string[] = [];
  let home: string;
  let network: EmbeddedNetwork | undefined;
  let client: SuanwangClient;
  let ascendCtldStopped = false;

  const connectorFor = (cluster: Cluster, stateDir: string): SlurmConnector =>
    new SlurmConnector({ url: cluster.url, token: cluster.token, user: cluster.user, stateDir, pollIntervalMs: 200, pollWaitMs: 1000, maxBackoffMs: 1000 });

  /** The pools a cluster offers, as its connector describes them (a center declares them up front, with their prices). */
  const poolsOf = async (cluster: Cluster, stateDir: string): Promise<AgentPool[]> => {
    const probe = connectorFor(cluster, stateDir);
    try {
      return (await probe.describe()).pools;
    } finally {
      await probe.close();
    }
  };

  const submit = async (job: JobSubmissionInput): Promise<JobResource> => {
    const created = await client.submit(job);
    submitted.push(created.id);
    return created;
  };
  const detail = (id: string): Promise<JobDetailResource> => client.job(id);
  const center = async (name: string): Promise<CenterResource> => (await client.centers()).items.find((c) => c.name === name)!;
  const ended = (id: string, timeoutMs = 30_000): Promise<JobDetailResource> =>
    eventually(`job ${id} to end`, async () => {
      const d = await detail(id);
      return ['succeeded', 'failed', 'cancelled'].includes(d.job.state) ? d : undefined;
    }, timeoutMs, 200);

  describe('the platform on two Slurm clusters', () => {
    before(async () => {
      // Every node idle: nothing left running by another suite, no node still finding a restarted slurmctld.
      await Promise.all([allNodesIdle(ascend), allNodesIdle(nvidia)]);
      home = await mkdtemp(join(tmpdir(), 'suanwang-slurm-platform-'));
      const [ascendPools, nvidiaPools] = await Promise.all([poolsOf(ascend, join(home, 'probe-ascend')), poolsOf(nvidia, join(home, 'probe-nvidia'))]);
      // The prices below are keyed by these names: say so plainly if the clusters changed.
      assert.deepEqual(ascendPools.map((p) => p.name), ['main-ascend-910b', 'main-cpu'], 'the ascend cluster pools');
      assert.deepEqual(nvidiaPools.map((p) => p.name), ['gpu-nvidia-a100'], 'the nvidia cluster pools');

      const flat = (value: number): number[] => Array.from({ length: 24 }, () => value);
      const centers: DemoCenter[] = [
        {
          definition: {
            name: ASCEND,
            displayName: 'Ningxia — Slurm, Ascend 910B',
            region: 'ningxia',
            energy: { priceFenPerKwh: flat(26), pue: 1.15, carbonKgPerKwh: flat(0.3), utcOffsetHours: 8 },
            prices: { 'main-ascend-910b': { fenPerAcceleratorHour: 300, fenPerCoreHour: 10 }, 'main-cpu': { fenPerAcceleratorHour: 0, fenPerCoreHour: 8 } },
          },
          pools: ascendPools,
          connector: (stateDir) => connectorFor(ascend, stateDir),
        },
        {
          definition: {
            name: NVIDIA,
            displayName: 'Shanghai — Slurm, NVIDIA A100',
            region: 'shanghai',
            energy: { priceFenPerKwh: flat(42), pue: 1.25, carbonKgPerKwh: flat(0.58), utcOffsetHours: 8 },
            prices: { 'gpu-nvidia-a100': { fenPerAcceleratorHour: 1200, fenPerCoreHour: 20 } },
          },
          pools: nvidiaPools,
          connector: (stateDir) => connectorFor(nvidia, stateDir),
        },
      ];
      network = await startEmbeddedNetwork({
        home,
        host: '127.0.0.1',
        port: 0,
        centers,
        links: [{ fromRegion: 'shanghai', toRegion: 'ningxia', bandwidthMbps: 10_000, latencyMs: 12.5, egressFenPerGB: 50 }],
        engine: { tickMs: 200, heartbeatIntervalMs: 500, agentDeadlineMs: DEADLINE_MS },
        seedCatalog: false,
        log: (line) => {
          if (process.env.SUANWANG_TEST_LOG === '1') console.log(`# ${line}`);
        },
      });
      client = new SuanwangClient(network.url, network.adminToken);
      const online = await client.centers();
      assert.deepEqual(online.items.map((c) => [c.name, c.state, c.connector]).sort(), [
        [ASCEND, 'online', 'slurm'],
        [NVIDIA, 'online', 'slurm'],
      ]);
    }, { timeout: 120_000 });

    after(async () => {
      // Whatever happened: the controller back, our jobs cancelled, the network stopped, no Slurm job left.
      if (ascendCtldStopped) await clusters('start-ctld', 'ascend').catch((e: unknown) => console.log(`# start-ctld ascend: ${String(e)}`));
      if (network) {
        for (const id of submitted) await client.cancel(id).catch(() => undefined); // finished ones answer 409
        await eventually('our jobs to end', async () => {
          for (const id of submitted) if (!['succeeded', 'failed', 'cancelled'].includes((await detail(id)).job.state)) return false;
          return true;
        }, 20_000).catch((e: unknown) => console.log(`# ${String(e)}`));
        await network.stop();
      }
      if (home) {
        for (const [name, cluster] of Object.entries(clusterOf)) await cancelSlurmJobsOf(cluster, join(home, 'centers', name));
        // Slurm writes the output files of a job being killed into the state folder: let it finish first.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await rm(home, { recursive: true, force: true });
      }
    }, { timeout: 120_000 });

    it('runs a job on a real Slurm cluster: output, exit code and timings come back', CASE, async () => {
      const started = Date.now();
      const ok = await submit({ name: 'hello', command: ['sh', '-c', 'echo "hello from $SLURMD_NODENAME of $SLURM_CLUSTER_NAME, Slurm job $SLURM_JOB_ID"; sleep 2'], objective: 'cheapest' });
      const bad = await submit({ name: 'oops', command: ['sh', '-c', 'echo partial; echo oops >&2; exit 3'], objective: 'cheapest' });

      const done = await ended(ok.id);
      assert.equal(done.job.state, 'succeeded', JSON.stringify(done.events));
      assert.equal(done.job.exitCode, 0);
      assert.ok(done.job.center === ASCEND || done.job.center === NVIDIA, `ran on ${done.job.center}`);
      const out = await output(client, ok.id);
      const m = /^hello from (\S+) of (\S+), Slurm job (\d+)\n$/.exec(out.stdout);
      assert.ok(m, `output ${JSON.stringify(out)}`);
      assert.equal(`${m[2]}-cluster`, done.job.center, 'the output comes from the cluster the platform placed it on');
      const slurmJob = Number(m[3]);
      // Slurm has it, ended, under the name the connector gave it.
      assert.deepEqual(await slurmJobs(clusterOf[done.job.center!]!, ok.id, 1), [{ id: slurmJob, state: 'COMPLETED' }]);
      // Timings: Slurm's own start and end (whole seconds, so a start is never put before the submission), around the two-second sleep.
      const startedAt = Date.parse(done.job.startedAt!);
      const finishedAt = Date.parse(done.job.finishedAt!);
      assert.ok(startedAt >= Date.parse(done.job.submittedAt) && Date.parse(done.job.submittedAt) >= started - 1000, `startedAt ${done.job.startedAt} (submitted ${done.job.submittedAt})`);
      assert.ok(finishedAt - startedAt >= 1000 && finishedAt - startedAt <= 10_000, `ran ${finishedAt - startedAt} ms for a sleep of 2 s`);
      assert.ok(finishedAt <= Date.now());
      assert.deepEqual(done.events.map((e) => e.to).filter(Boolean), ['submitted', 'queued', 'placed', 'running', 'succeeded']);

      const failed = await ended(bad.id);
      assert.equal(failed.job.state, 'failed');
      assert.equal(failed.job.exitCode, 3);
      assert.match(failed.job.reason ?? '', /exited with code 3/);
      // A run of a few milliseconds: its end is not before its start (nor its start before its submission).
      const times = [failed.job.submittedAt, failed.job.startedAt, failed.job.finishedAt].map((t) => Date.parse(t ?? ''));
      assert.deepEqual(times, [...times].sort((a, b) => a - b), `submitted, started, finished: ${JSON.stringify([failed.job.submittedAt, failed.job.startedAt, failed.job.finishedAt])}`);
      assert.deepEqual(await output(client, bad.id), { stdout: 'partial\n', stderr: 'oops\n' });
      const [badSlurm] = await slurmJobs(clusterOf[failed.job.center!]!, bad.id, 1);
      assert.equal(badSlurm?.state, 'FAILED');
    });

    it('cancels a running job: the Slurm job is gone', CASE, async () => {
      const job = await submit({ name: 'to-cancel', command: ['sh', '-c', 'echo started; exec sleep 300'], objective: 'cheapest' });
      const running = await eventually('the job to run in Slurm', async () => {
        const d = await detail(job.id);
        return d.job.state === 'running' && (await output(client, job.id)).stdout === 'started\n' ? d : undefined;
      }, 30_000, 200);
      const cluster = clusterOf[running.job.center!]!;
      const [inSlurm] = await slurmJobs(cluster, job.id, 1);
      assert.equal(inSlurm?.state, 'RUNNING');

      await client.cancel(job.id);
      const done = await ended(job.id);
      assert.equal(done.job.state, 'cancelled');
      assert.ok(done.job.finishedAt !== null);
      // Gone from Slurm's queue (squeue without -t lists pending, running and completing jobs), and ended as CANCELLED.
      await eventually('the Slurm job to leave the queue', async () => (await squeue(cluster, ['-j', String(inSlurm!.id), '-o', '%i'])) === '', 15_000, 200);
      assert.deepEqual(await slurmJobs(cluster, job.id, 1), [{ id: inSlurm!.id, state: 'CANCELLED' }]);
    });

    it('puts a two-node gang job on the cluster with two free nodes, and says why not the other', CASE, async () => {
      // One NPU node of ascend taken: a one-node job with all its 8 NPUs.
      const occupy = await submit({ name: 'occupy', command: ['sh', '-c', 'echo occupying; exec sleep 300'], acceleratorsPerNode: 8, accelerators: ['ascend-910b'] });
      const occupying = await eventually('the NPU node to be taken', async () => {
        const d = await detail(occupy.id);
        return d.job.state === 'running' && (await output(client, occupy.id)).stdout === 'occupying\n' ? d : undefined;
      }, 30_000, 200);
      assert.equal(occupying.job.center, ASCEND);
      const occupied = occupying.placements[0]!.explanation;
      assert.ok(occupied.infeasible.some((i) => i.centerName === NVIDIA && i.reason === 'no-adapted-accelerator'), JSON.stringify(occupied.infeasible));

      const gang = await submit({ name: 'gang', nodes: 2, acceleratorsPerNode: 8, command: ['sh', '-c', 'echo "$SLURM_JOB_NUM_NODES nodes"; srun printenv SLURMD_NODENAME | sort'] });
      const done = await ended(gang.id);
      assert.equal(done.job.state, 'succeeded', JSON.stringify(done.events));
      assert.equal(done.job.center, NVIDIA);
      assert.deepEqual(await output(client, gang.id), { stdout: '2 nodes\nnv-g1\nnv-g2\n', stderr: '' });
      const why = done.placements[0]!.explanation;
      assert.equal(why.chosen?.centerName, NVIDIA);
      assert.ok(
        why.infeasible.some((i) => i.centerName === ASCEND && i.poolName === 'main-ascend-910b' && i.reason === 'insufficient-capacity'),
        `ascend's NPU pool ruled out for capacity: ${JSON.stringify(why.infeasible)}`,
      );

      await client.cancel(occupy.id);
      assert.equal((await ended(occupy.id)).job.state, 'cancelled');
    });

    it('sends a job that needs a chip one cluster lacks to the other, and says why', CASE, async () => {
      const job = await submit({ name: 'a100-only', acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], command: ['sh', '-c', 'echo "$SLURM_CLUSTER_NAME $SUANWANG_ACCELERATORS_PER_NODE"'] });
      const done = await ended(job.id);
      assert.equal(done.job.state, 'succeeded', JSON.stringify(done.events));
      assert.equal(done.job.center, NVIDIA);
      assert.equal((await output(client, job.id)).stdout, 'nvidia 1\n');
      const why = done.placements[0]!.explanation;
      assert.equal(why.chosen?.centerName, NVIDIA);
      const ascendReasons = why.infeasible.filter((i) => i.centerName === ASCEND);
      // The NPU pool has the wrong chip; the CPU pool has none at all (that reason comes first).
      assert.deepEqual(
        ascendReasons.map((i) => [i.poolName, i.reason]).sort(),
        [
          ['main-ascend-910b', 'no-adapted-accelerator'],
          ['main-cpu', 'no-accelerator'],
        ],
        JSON.stringify(why.infeasible),
      );
    });

    it("requeues a running job on the other center when ascend's slurmctld stops, says why, and takes ascend back when it returns", { timeout: 180_000 }, async () => {
      // Attempt 1 waits (on ascend, the cheaper one) and says so when it is stopped; any later attempt finishes at once.
      const job = await submit({
        name: 'survivor',
        acceleratorsPerNode: 1,
        objective: 'cheapest',
        command: [
          'sh',
          '-c',
          'echo "attempt $SUANWANG_ATTEMPT on $SLURM_CLUSTER_NAME"; if [ "$SUANWANG_ATTEMPT" = 1 ]; then trap \'echo "attempt 1 stopped"; exit 143\' TERM; sleep 600 & wait; fi; sleep 1',
        ],
      });
      const first = await eventually('attempt 1 to run on ascend', async () => {
        const d = await detail(job.id);
        return d.job.state === 'running' && (await output(client, job.id)).stdout === 'attempt 1 on ascend\n' ? d : undefined;
      }, 30_000, 200);
      assert.equal(first.job.center, ASCEND);
      const [stale] = await slurmJobs(ascend, job.id, 1);
      assert.equal(stale?.state, 'RUNNING');

      const stoppedAt = Date.now();
      ascendCtldStopped = true;
      await clusters('stop-ctld', 'ascend');
      try {
        const draining = await eventually('ascend to be reported degraded', async () => {
          const c = await center(ASCEND);
          return c.state === 'draining' ? c : undefined;
        }, 40_000, 200);
        const drainedMs = Date.now() - stoppedAt;
        assert.match(draining.stateReason ?? '', /^degraded: /);
        const again = await eventually('the job to run again on nvidia', async () => {
          const d = await detail(job.id);
          return d.job.attempt === 2 && ['running', 'succeeded'].includes(d.job.state) ? d : undefined;
        }, 40_000 + DEADLINE_MS, 200);
        console.log(`# ascend draining ${drainedMs} ms and the job running again on ${again.job.center} ${Date.now() - stoppedAt} ms after its slurmctld stopped (deadline ${DEADLINE_MS} ms)`);
        assert.equal(again.job.center, NVIDIA);
        const requeue = again.events.find((e) => e.attempt === 1 && e.to === 'queued');
        assert.match(requeue?.message ?? '', new RegExp(`^requeued after attempt 1 of 3: center ${ASCEND} degraded: `), JSON.stringify(again.events));
        assert.equal((await center(ASCEND)).state, 'draining', 'no new work while its scheduler is away');

        const done = await ended(job.id);
        assert.equal(done.job.state, 'succeeded', JSON.stringify(done.events));
        assert.equal(done.job.exitCode, 0);
        assert.equal(done.job.center, NVIDIA);
        assert.equal((await output(client, job.id, 2)).stdout, 'attempt 2 on nvidia\n');
        assert.deepEqual(done.placements.map((p) => [p.attempt, p.center]), [
          [1, ASCEND],
          [2, NVIDIA],
        ]);
      } finally {
        await clusters('start-ctld', 'ascend');
        ascendCtldStopped = false;
      }

      const back = await eventually('ascend to come back online', async () => {
        const c = await center(ASCEND);
        return c.state === 'online' ? c : undefined;
      }, 40_000, 200);
      assert.equal(back.stateReason, null);
      // The first attempt's Slurm job, still running at ascend through the outage, is stopped once Slurm answers again.
      await eventually('the stale Slurm job of attempt 1 to be cancelled', async () => {
        const [s] = await slurmJobs(ascend, job.id, 1);
        return s?.state === 'CANCELLED';
      }, 30_000, 200);
      // Let the agent report the stale run's end, then check it changed nothing.
      await eventually("ascend's agent to be done with the stale run", async () => !(await readdir(join(home, 'centers', ASCEND, 'runs')).catch(() => [] as string[])).includes(`${job.id}.1`), 15_000, 200);
      const final = await detail(job.id);
      assert.equal(final.job.state, 'succeeded');
      assert.equal(final.job.attempt, 2);
      assert.equal(final.job.exitCode, 0);
      assert.equal(final.job.center, NVIDIA);
      assert.equal(final.events.filter((e) => e.to === 'succeeded').length, 1, 'ended once');
      // What the stale run wrote once it was no longer wanted ("attempt 1 stopped") is not mixed in.
      assert.equal((await output(client, job.id, 1)).stdout, 'attempt 1 on ascend\n', 'nothing of the stale run after the requeue');
      // ascend takes work again.
      const later = await submit({ name: 'later', acceleratorsPerNode: 1, accelerators: ['ascend-910b'], command: ['sh', '-c', 'echo "$SLURM_CLUSTER_NAME is back"'] });
      const laterDone = await ended(later.id);
      assert.equal(laterDone.job.state, 'succeeded', JSON.stringify(laterDone.events));
      assert.equal(laterDone.job.center, ASCEND);
      assert.equal((await output(client, later.id)).stdout, 'ascend is back\n');
      // The cluster as it was found: every node back and idle (the next suite counts them).
      await allNodesIdle(ascend);
    });
  });
}

/** A job's whole output (of one attempt, or all), read through the API. */
async function output(client: SuanwangClient, id: string, attempt?: number): Promise<{ stdout: string; stderr: string }> {
  const text = { stdout: '', stderr: '' };
  let after = 0;
  for (;;) {
    const page = await client.logs(id, after, 0);
    for (const chunk of page.chunks) if (attempt === undefined || chunk.attempt === attempt) text[chunk.stream] += chunk.data;
    if (page.chunks.length === 0 || page.next === after) return text;
    after = page.next;
  }
}

async function squeue(cluster: Cluster, args: readonly string[]): Promise<string> {
  const { stdout } = await execFileAsync('squeue', ['-h', ...args], { env: { ...process.env, SLURM_CONF: cluster.conf }, timeout: 15_000 });
  return stdout.trim();
}

/** Waits until every node of the cluster is idle (as clusters.sh up leaves them). */
async function allNodesIdle(cluster: Cluster, timeoutMs = 60_000): Promise<void> {
  await eventually(`every node of ${cluster.conf} to be idle`, async () => {
    const { stdout } = await execFileAsync('sinfo', ['-h', '-N', '-o', '%N %t'], { env: { ...process.env, SLURM_CONF: cluster.conf }, timeout: 15_000 });
    const states = stdout.trim().split('\n').map((line) => line.trim().split(/\s+/)[1]);
    return states.length > 0 && states.every((state) => state === 'idle');
  }, timeoutMs, 250);
}

/** The Slurm jobs (any state Slurm still remembers) of one attempt of a job, by the name the connector gives them. */
async function slurmJobs(cluster: Cluster, jobId: string, attempt: number): Promise<{ id: number; state: string }[]> {
  const out = await squeue(cluster, ['-t', 'all', '-n', `sw-${jobId}.${attempt}`, '-o', '%i %T']);
  return out === ''
    ? []
    : out.split('\n').map((line) => {
        const [id, state] = line.trim().split(/\s+/);
        return { id: Number(id), state: state ?? '' };
      });
}

/** Cancels (through slurmrestd) every Slurm job an agent's state folder knows, so nothing outlives the suite. */
async function cancelSlurmJobsOf(cluster: Cluster, stateDir: string): Promise<void> {
  const names = await readdir(join(stateDir, 'runs')).catch(() => [] as string[]);
  for (const name of names) {
    const record = await readFile(join(stateDir, 'runs', name, 'run.json'), 'utf8')
      .then((text) => JSON.parse(text) as { slurmJobId: number | null })
      .catch(() => null);
    if (record?.slurmJobId == null) continue;
    await fetch(`${cluster.url}/slurm/v0.0.38/job/${record.slurmJobId}`, {
      method: 'DELETE',
      headers: { 'X-SLURM-USER-NAME': cluster.user, 'X-SLURM-USER-TOKEN': cluster.token },
    }).catch(() => undefined);
  }
}

async function clusters(...args: string[]): Promise<void> {
  await execFileAsync('bash', [CLUSTERS_SH, ...args], { env: process.env, timeout: 60_000 });
}
