import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent } from '../../src/agent/agent.js';
import { LocalConnector } from '../../src/agent/connectors/local-connector.js';
import { HttpAgentTransport } from '../../src/api/client/agent-client.js';
import { SuanwangClient } from '../../src/api/client/client.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import { DEMO_CENTERS } from '../../src/cli/up/demo-network.js';
import { alive } from '../support/cli.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';

const DEADLINE_MS = 2_000;

/**
 * A center whose agent stops heartbeating is declared lost after the deadline; its running jobs are
 * requeued and run on another center. When the agent comes back, the stale run it still has is
 * stopped and recorded, so nothing runs twice unnoticed.
 */
for (const database of await testDatabases()) {
  describe(`an agent that stops heartbeating (${database.name})`, { skip: database.skip }, () => {
    let home: string;
    let network: EmbeddedNetwork;
    let client: SuanwangClient;
    let drop: () => Promise<void>;

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'suanwang-loss-'));
      const fresh = await database.fresh();
      drop = fresh.drop;
      network = await startEmbeddedNetwork({
        home,
        host: '127.0.0.1',
        port: 0,
        databaseUrl: fresh.databaseUrl,
        engine: { tickMs: 200, heartbeatIntervalMs: 300, agentDeadlineMs: DEADLINE_MS },
      });
      client = new SuanwangClient(network.url, network.adminToken);
    });
    after(async () => {
      await network?.stop();
      await drop?.();
      await rm(home, { recursive: true, force: true });
    });

    it('requeues its running job on another center within the deadline, and stops the stale run when it returns', async () => {
      // Jobs may write here: as root they run as their org's own user, and the home is not theirs.
      const shared = join(home, 'shared');
      await mkdir(shared, { recursive: true });
      await chmod(shared, 0o777);
      const pids = join(shared, 'pids');
      // A CPU job lands on the CPU center first (cheapest); it records each start's pid.
      const job = await client.submit({ command: ['sh', '-c', `echo $$ >> ${pids}; exec sleep 300`], objective: 'cheapest' });
      const first = await eventually('the first run', async () => {
        const d = await client.job(job.id);
        return d.job.state === 'running' ? d.job : undefined;
      });
      assert.equal(first.center, 'guizhou-guian');
      const firstPid = Number((await eventually('its pid', () => readFile(pids, 'utf8').catch(() => ''))).trim());

      const lostAt = Date.now();
      await network.agents.get('guizhou-guian')!.stop(); // silence: no heartbeat, no reports; the run goes on
      const second = await eventually('the job to run again elsewhere', async () => {
        const d = await client.job(job.id);
        return d.job.attempt === 2 && d.job.state === 'running' ? d.job : undefined;
      }, DEADLINE_MS + 15_000);
      const tookMs = Date.now() - lostAt;
      console.log(`# requeued and running on ${second.center} ${tookMs} ms after the agent went silent (deadline ${DEADLINE_MS} ms)`);
      assert.notEqual(second.center, 'guizhou-guian');
      const centers = await client.centers();
      const lost = centers.items.find((c) => c.name === 'guizhou-guian')!;
      assert.equal(lost.state, 'offline');
      assert.match(lost.stateReason ?? '', /lost its agent/);
      const events = (await client.job(job.id)).events.map((e) => e.message);
      assert.ok(events.some((m) => /requeued after attempt 1 of 3: center guizhou-guian lost its agent/.test(m)), events.join('\n'));
      assert.ok(alive(firstPid), 'the orphaned first run is still going at the silent center');

      // The agent comes back (a new process over the same state folder): it re-registers with its run.
      const demo = DEMO_CENTERS.find((c) => c.definition.name === 'guizhou-guian')!;
      const token = (await readFile(join(home, 'centers', 'guizhou-guian', 'agent-token'), 'utf8')).trim();
      const back = startAgent({
        transport: new HttpAgentTransport({ serverUrl: network.url, token }),
        connector: new LocalConnector({ stateDir: join(home, 'centers', 'guizhou-guian'), pools: [...demo.pools], killGraceMs: 500 }),
        name: 'guizhou-guian',
      });
      try {
        await back.registered;
        await eventually('the stale first run to be killed', () => !alive(firstPid), 15_000);
        const after = await client.job(job.id);
        assert.ok(after.events.some((e) => /stale run of attempt 1 found at guizhou-guian; stopping it/.test(e.message)));
        assert.equal(after.job.state, 'running', 'the second attempt is untouched');
        assert.equal(after.job.attempt, 2);
        assert.equal((await client.centers()).items.find((c) => c.name === 'guizhou-guian')!.state, 'online');
      } finally {
        await client.cancel(job.id);
        await eventually('the job to end', async () => (await client.job(job.id)).job.state === 'cancelled');
        await back.stop();
      }
    });
  });
}
