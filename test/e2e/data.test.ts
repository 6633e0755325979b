import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent, type AgentHandle } from '../../src/agent/agent.js';
import { LocalConnector } from '../../src/agent/connectors/local-connector.js';
import { HttpAgentTransport } from '../../src/api/client/agent-client.js';
import { SuanwangClient, type ApiError } from '../../src/api/client/client.js';
import type { JobDetailResource } from '../../src/api/client/schemas.js';
import { pullDataset, pushDataset } from '../../src/cli/data/transfer-commands.js';
import { DEMO_CENTERS } from '../../src/cli/up/demo-network.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import { createUser } from '../../src/engine/accounts.js';
import { testDatabases } from '../support/databases.js';
import { jobEnded, jobOutput } from '../support/jobs.js';
import { eventually } from '../support/wait.js';


const MB = 1_000_000;
const SIZE = Number(process.env.SUANWANG_DATA_TEST_MB ?? 200) * MB;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of createReadStream(path)) hash.update(part as Buffer);
  return hash.digest('hex');
}

/**
 * The data plane end to end on the embedded network: a 200 MB dataset pushed to west-zhongwei, read
 * by jobs at east-shanghai (staged in, checksummed by the job itself), the transfer recorded and the
 * replica reused; the receiving agent killed mid-transfer and restarted; stage-in started early for
 * a job that waits for a reservation; another org kept out. Once on PGlite, once on PostgreSQL.
 */
for (const database of await testDatabases()) {
  describe(`the data plane end to end (${database.name})`, { skip: database.skip, timeout: 600_000 }, () => {
    let home: string;
    let network: EmbeddedNetwork;
    let drop: () => Promise<void>;
    let alice: SuanwangClient;
    let mallory: SuanwangClient;
    let digest: string;
    let extraAgent: { agent: AgentHandle; connector: LocalConnector } | null = null;

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'suanwang-data-'));
      const fresh = await database.fresh();
      drop = fresh.drop;
      network = await startEmbeddedNetwork({
        home, host: '127.0.0.1', port: 0, databaseUrl: fresh.databaseUrl, seedCatalog: false,
        engine: { tickMs: 200, heartbeatIntervalMs: 500 },
        // east receives at 40 MB/s: a 200 MB stage-in takes about 5 s, long enough to kill it mid-way.
        data: (center) => (center === 'east-shanghai' ? { receiveBytesPerSecond: 40 * MB } : undefined),
      });
      alice = new SuanwangClient(network.url, (await createUser(network.ctx, { orgName: 'lab-a', name: 'alice', role: 'user' })).token);
      mallory = new SuanwangClient(network.url, (await createUser(network.ctx, { orgName: 'lab-b', name: 'mallory', role: 'user' })).token);
      mkdirSync(join(home, 'corpus'));
      const fd = openSync(join(home, 'corpus', 'data.bin'), 'w');
      const block = randomBytes(4 * 1024 * 1024);
      for (let left = SIZE, i = 0; left > 0; left -= block.length, i++) {
        block.writeUInt32LE(i, 0);
        writeSync(fd, block, 0, Math.min(left, block.length));
      }
      closeSync(fd);
      digest = await sha256File(join(home, 'corpus', 'data.bin'));
    });
    after(async () => {
      await extraAgent?.agent.stop();
      await extraAgent?.connector.close();
      await network?.stop();
      await drop?.();
      await rm(home, { recursive: true, force: true });
    });

    const finished = (id: string, timeoutMs = 240_000, client = alice) => jobEnded(client, id, timeoutMs);
    const output = (id: string) => jobOutput(alice, id);
    const stageIns = async () => (await alice.transfers(1000)).items.filter((t) => t.kind === 'stage-in');
    const readsCorpus = { command: ['sh', '-c', 'sha256sum inputs/corpus/data.bin && if [ -w inputs/corpus/data.bin ] || touch inputs/corpus/new 2>/dev/null; then echo WRITABLE; fi'], regions: ['shanghai'], acceleratorsPerNode: 1, inputs: ['corpus'] };

    it('pushes 200 MB to west-zhongwei, resumably, and pulls it back byte for byte', async () => {
      const pushed = await pushDataset(alice, join(home, 'corpus'), 'corpus', { center: 'west-zhongwei' });
      assert.equal(pushed.center, 'west-zhongwei');
      assert.equal(pushed.bytes, SIZE);
      assert.equal(pushed.sent, SIZE);
      const again = await pushDataset(alice, join(home, 'corpus'), 'corpus', { center: 'west-zhongwei' });
      assert.equal(again.sent, 0, 'the same content again sends nothing');
      assert.equal(again.versionId, pushed.versionId);
      const detail = await alice.dataset('corpus');
      assert.deepEqual(detail.versions.map((v) => [v.version, v.state, v.centers]), [[1, 'sealed', ['west-zhongwei']]]);
      const pulled = await pullDataset(alice, 'corpus', join(home, 'pulled'));
      assert.equal(pulled.bytes, SIZE);
      assert.equal(await sha256File(join(home, 'pulled', 'data.bin')), digest);
      await rm(join(home, 'pulled'), { recursive: true });
    });

    it('another org can neither pull nor read it: not by name, not as an input, not from the disk', async () => {
      await assert.rejects(mallory.download('corpus'), (e: ApiError) => e.status === 404 && e.code === 'dataset_not_found' && e.field === 'name');
      await assert.rejects(mallory.submit({ ...readsCorpus }), (e: ApiError) => e.field === 'inputs[0]' && /no dataset "corpus" in your org/.test(e.message));
    });

    it('a job at east-shanghai has the input staged in; after the receiving agent is killed mid-transfer it resumes; the bytes are exact', async () => {
      const submitted = await alice.submit({ ...readsCorpus });
      // The stage-in starts (east receives at 40 MB/s); kill east's agent once bytes are moving.
      const moving = await eventually('the stage-in to move bytes', async () => (await stageIns()).find((t) => t.jobId === submitted.id && t.bytesMoved > 0), 60_000, 100);
      assert.equal(moving.center, 'east-shanghai');
      await network.agents.get('east-shanghai')!.stop();
      const partial = join(home, 'centers', 'east-shanghai', 'data', 'partial');
      const stopped = (await stageIns()).find((t) => t.id === moving.id)!;
      assert.ok(stopped.state === 'running' && stopped.bytesMoved < SIZE, `cut mid-way: ${JSON.stringify(stopped)}`);
      // A new agent process for east: same state folder, same token.
      const east = DEMO_CENTERS.find((c) => c.definition.name === 'east-shanghai')!;
      const stateDir = join(home, 'centers', 'east-shanghai');
      const connector = new LocalConnector({ stateDir, pools: [...east.pools], isolation: network.isolation });
      const token = readFileSync(join(stateDir, 'agent-token'), 'utf8').trim();
      const agent = startAgent({
        transport: new HttpAgentTransport({ serverUrl: network.url, token }), connector, name: 'east-shanghai (restarted)', log: () => {},
        data: { root: join(stateDir, 'data'), sharedWithOrgUsers: network.isolation === 'users' },
      });
      extraAgent = { agent, connector };
      const done = await finished(submitted.id);
      assert.equal(done.job.state, 'succeeded', JSON.stringify(done.events));
      assert.equal(done.job.center, 'east-shanghai');
      const out = await output(submitted.id);
      assert.equal(out.split(' ')[0], digest, `the job sees the exact bytes: ${out}`);
      assert.doesNotMatch(out, /WRITABLE/, 'the input is read-only for the job');
      const transfer = (await stageIns()).find((t) => t.id === moving.id)!;
      assert.equal(transfer.state, 'done');
      assert.ok(transfer.bytesMoved > 0 && transfer.seconds !== null && transfer.seconds > 0, `recorded with bytes and time: ${JSON.stringify(transfer)}`);
      assert.ok(existsSync(partial) && (await readdir(partial)).length === 0, 'no partial chunk left');
      assert.deepEqual((await alice.dataset('corpus')).versions[0]!.centers.sort(), ['east-shanghai', 'west-zhongwei']);
    });

    it('a second job at east-shanghai reuses the replica: no new transfer', async () => {
      const before = (await stageIns()).length;
      const second = await alice.submit({ ...readsCorpus });
      const done = await finished(second.id);
      assert.equal(done.job.state, 'succeeded', JSON.stringify(done.events));
      assert.equal((await output(second.id)).split(' ')[0], digest);
      assert.equal((await stageIns()).length, before, 'no stage-in for a replica already there');
    });

    it('stage-in overlaps a reservation: the input is there before the job is placed, and its start moves nothing', async () => {
      // A second dataset (new chunks: nothing of it is at east yet).
      mkdirSync(join(home, 'corpus2'));
      const fd = openSync(join(home, 'corpus2', 'data.bin'), 'w');
      const block = randomBytes(4 * 1024 * 1024);
      for (let left = SIZE, i = 0; left > 0; left -= block.length, i++) {
        block.writeUInt32LE(i, 0);
        writeSync(fd, block, 0, Math.min(left, block.length));
      }
      closeSync(fd);
      const digest2 = await sha256File(join(home, 'corpus2', 'data.bin'));
      await pushDataset(alice, join(home, 'corpus2'), 'corpus2', { center: 'west-zhongwei' });
      // The wait is an event this test controls: a job holding all of east's GPUs until a file appears.
      const release = join(home, 'release');
      const blocker = await alice.submit({ command: ['sh', '-c', `while [ ! -e ${release} ]; do sleep 0.2; done`], regions: ['shanghai'], nodes: 2, acceleratorsPerNode: 8, walltimeSeconds: 600 });
      await eventually('the blocker to run', async () => ((await alice.job(blocker.id)) as JobDetailResource).job.state === 'running', 60_000, 100);
      const waiting = await alice.submit({ ...readsCorpus, command: ['sh', '-c', 'sha256sum inputs/corpus2/data.bin'], inputs: ['corpus2'] });
      // While it waits for the reservation, its stage-in runs to the end.
      const staged = await eventually('the early stage-in to finish', async () => (await stageIns()).find((t) => t.jobId === waiting.id && t.state === 'done'), 120_000, 200);
      assert.equal(staged.center, 'east-shanghai');
      assert.equal(((await alice.job(waiting.id)) as JobDetailResource).job.state, 'queued', 'still waiting when its input is complete');
      writeFileSync(release, '');
      const done = await finished(waiting.id);
      assert.equal(done.job.state, 'succeeded', JSON.stringify(done.events));
      assert.equal((await output(waiting.id)).split(' ')[0], digest2);
      const at = (re: RegExp) => Date.parse(done.events.find((e) => re.test(e.message) || re.test(e.to ?? ''))!.at);
      const stageInDone = at(/^stage-in .* done/);
      const placed = at(/^placed$/);
      const running = at(/^running$/);
      assert.ok(stageInDone <= placed, 'the input was complete before the job was placed');
      assert.equal((await stageIns()).filter((t) => t.jobId === waiting.id).length, 1, 'placing it moved nothing more');
      // The figure the issue asks for, printed rather than asserted (tests never assert on timings).
      console.log(`stage-in overlap: input complete ${((placed - stageInDone) / 1000).toFixed(1)} s before placement; placed -> running ${running - placed} ms`);
    });

    it("another org's job cannot read the staged files at the center", async () => {
      if (network.isolation !== 'users') return; // one org per machine without root: nothing to cross
      const views = join(home, 'centers', 'east-shanghai', 'data', 'views');
      const [owner] = await readdir(views);
      const [version] = await readdir(join(views, owner!));
      const path = join(views, owner!, version!, 'data.bin');
      const spy = await mallory.submit({ command: ['sh', '-c', `cat ${path} 2>/dev/null | head -c 10 | wc -c; ls ${join(views, owner!)} 2>&1 | head -1`], regions: ['shanghai'], acceleratorsPerNode: 1 });
      const done = await finished(spy.id, 60_000, mallory);
      const out = (await mallory.logs(spy.id)).chunks?.map((c: { data: string }) => c.data).join('') ?? '';
      assert.match(out, /^0\n/, `no byte readable by another org: ${out} (${done.job.state})`);
      assert.match(out, /Permission denied/);
    });
  });
}


