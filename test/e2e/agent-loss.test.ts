import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent, type AgentHandle } from '../../src/agent/agent.js';
import { LocalConnector } from '../../src/agent/connectors/local-connector.js';
import { HttpAgentTransport } from '../../src/api/client/agent-client.js';
import { SuanwangClient } from '../../src/api/client/client.js';
import type { EngineContext } from '../../src/engine/context.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import { DEMO_CENTERS } from '../../src/cli/up/demo-network.js';
import type { JobRow } from '../../src/store/schema.js';
import { alive } from '../support/cli.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';

// Long enough that the healthy agents of a loaded machine (two busy cores) keep their heartbeats
// (every 300 ms) inside it; a shorter one once requeued the second attempt too, until it failed.
const DEADLINE_MS = 5_000;
const LOST = 'guizhou-guian';

/**
 * Waits for a job row that satisfies `ok`, woken by the job's own signal (`job:<id>`: every state
 * report of its runs), re-reading at least every second in case the change came without one (a
 * requeue by the control loop). Throws after `timeoutMs` with the last state seen.
 */
async function untilJob(ctx: EngineContext, jobId: string, what: string, ok: (job: JobRow) => boolean, timeoutMs: number): Promise<JobRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const woken = ctx.signals.wait(`job:${jobId}`, Math.max(0, Math.min(1_000, deadline - Date.now())));
    const job = await ctx.store.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
    if (ok(job)) return job;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the job is ${job.state} (attempt ${job.attempt})`);
    await woken;
  }
}

/** Kills every run the test started (their pids, one a line in `pidsFile`), ignoring those gone. */
async function killRuns(pidsFile: string): Promise<void> {
  const text = await readFile(pidsFile, 'utf8').catch(() => '');
  for (const pid of text.split('\n').map(Number).filter((n) => n > 0)) {
    try {
      process.kill(pid, 'SIGKILL'); // the run's wrapper then records the exit and ends too
    } catch {
      // gone already
    }
  }
}

/**
 * A center whose agent stops heartbeating is declared lost after the deadline and not before; its
 * running jobs are requeued and run on another center. When the agent comes back, the stale run it
 * still has is stopped and recorded, so nothing runs twice unnoticed.
 */
for (const database of await testDatabases()) {
  describe(`an agent that stops heartbeating (${database.name})`, { skip: database.skip, timeout: 180_000 }, () => {
    let home: string | undefined;
    let network: EmbeddedNetwork | undefined;
    let client: SuanwangClient;
    let drop: (() => Promise<void>) | undefined;
    let back: AgentHandle | undefined;
    let backConnector: LocalConnector | undefined;
    let jobId: string | undefined;

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'suanwang-loss-'));
      const fresh = await database.fresh();
      drop = fresh.drop;
      network = await startEmbeddedNetwork({
        home,
        host: '127.0.0.1',
        port: 0,
        databaseUrl: fresh.databaseUrl,
        seedCatalog: false,
        engine: { tickMs: 200, heartbeatIntervalMs: 300, agentDeadlineMs: DEADLINE_MS },
      });
      client = new SuanwangClient(network.url, network.adminToken);
    });
    // Everything started here is stopped here, whatever failed: a leftover agent or server would keep
    // `node --test` waiting forever.
    after(async () => {
      if (jobId && network) await client.cancel(jobId).catch(() => undefined); // it may have ended already
      await back?.stop().catch(() => undefined);
      await backConnector?.close().catch(() => undefined);
      await network?.stop();
      // A failed test leaves runs going (detached, so the network's stop does not end them).
      if (home) await killRuns(join(home, 'pids'));
      await drop?.();
      if (home) await rm(home, { recursive: true, force: true });
    });

    it('requeues its running job on another center after the deadline and not before, and stops the stale run when it returns', { timeout: 120_000 }, async () => {
      const net = network!;
      const pids = join(home!, 'pids');
      // A CPU job lands on the CPU center first (cheapest); it records each start's pid.
      const job = await client.submit({ command: ['sh', '-c', `echo $$ >> ${pids}; exec sleep 300`], objective: 'cheapest', maxAttempts: 5 });
      jobId = job.id;
      const first = await untilJob(net.ctx, job.id, 'the first run', (j) => j.state === 'running', 30_000);
      assert.equal(first.attempt, 1);
      const lost = await net.ctx.store.db.selectFrom('centers').select(['id']).where('name', '=', LOST).executeTakeFirstOrThrow();
      assert.equal(first.center_id, lost.id, `the first run is at ${LOST}`);
      const firstPid = Number((await eventually('its pid', () => readFile(pids, 'utf8').catch(() => ''), 15_000)).trim().split('\n')[0]);

      await net.agents.get(LOST)!.stop(); // silence: no heartbeat, no reports; the run goes on
      const second = await untilJob(net.ctx, job.id, 'the job to run again elsewhere', (j) => j.attempt >= 2 && j.state === 'running', DEADLINE_MS + 60_000);
      assert.notEqual(second.center_id, lost.id);

      // After the deadline and not before, in server time: the requeue is at least the deadline past
      // the lost agent's last heartbeat.
      const center = await net.ctx.store.db.selectFrom('centers').select(['state', 'state_reason', 'last_heartbeat_at']).where('id', '=', lost.id).executeTakeFirstOrThrow();
      assert.equal(center.state, 'offline');
      assert.match(center.state_reason ?? '', /lost its agent/);
      const requeue = await net.ctx.store.db
        .selectFrom('job_events')
        .select(['at', 'message'])
        .where('job_id', '=', job.id)
        .where('message', 'like', 'requeued after attempt 1 of 5: center guizhou-guian lost its agent%')
        .executeTakeFirst();
      assert.ok(requeue, 'the requeue is recorded on the job');
      const silentMs = requeue.at.getTime() - center.last_heartbeat_at!.getTime();
      console.log(`# requeued ${silentMs} ms after the lost agent's last heartbeat (deadline ${DEADLINE_MS} ms)`);
      assert.ok(silentMs >= DEADLINE_MS, `requeued ${silentMs} ms after the last heartbeat, before the ${DEADLINE_MS} ms deadline`);
      assert.ok(alive(firstPid), 'the orphaned first run is still going at the silent center');

      // The agent comes back (a new process over the same state folder): it re-registers with its run.
      const demo = DEMO_CENTERS.find((c) => c.definition.name === LOST)!;
      const token = (await readFile(join(home!, 'centers', LOST, 'agent-token'), 'utf8')).trim();
      backConnector = new LocalConnector({ stateDir: join(home!, 'centers', LOST), pools: [...demo.pools], killGraceMs: 500 });
      back = startAgent({ transport: new HttpAgentTransport({ serverUrl: net.url, token }), connector: backConnector, name: LOST });
      await back.registered;
      // A process that is not our child gives no exit event: this one wait polls (bounded).
      await eventually('the stale first run to be killed', () => !alive(firstPid), 30_000);
      const events = (await client.job(job.id)).events.map((e) => e.message);
      assert.ok(events.some((m) => /stale run of attempt 1 found at guizhou-guian; stopping it/.test(m)), events.join('\n'));
      const now = await net.ctx.store.db.selectFrom('jobs').select(['state', 'attempt']).where('id', '=', job.id).executeTakeFirstOrThrow();
      assert.equal(now.state, 'running', 'the later attempt is untouched');
      assert.equal(now.attempt, second.attempt);
      assert.equal((await client.centers()).items.find((c) => c.name === LOST)!.state, 'online');

      await client.cancel(job.id);
      await untilJob(net.ctx, job.id, 'the job to end', (j) => j.state === 'cancelled', 30_000);
    });
  });
}
