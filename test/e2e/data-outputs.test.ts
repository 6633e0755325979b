import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent, type AgentHandle } from '../../src/agent/agent.js';
import { LocalConnector } from '../../src/agent/connectors/local-connector.js';
import { HttpAgentTransport } from '../../src/api/client/agent-client.js';
import { SuanwangClient, type ApiError } from '../../src/api/client/client.js';
import type { JobDetailResource, JobSubmissionInput } from '../../src/api/client/schemas.js';
import { pullDataset } from '../../src/cli/data/transfer-commands.js';
import { DEMO_CENTERS } from '../../src/cli/up/demo-network.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import { openJobOutput } from '../../src/engine/job-outputs.js';
import { findCenterByName } from '../../src/store/centers.js';
import { createUser } from '../../src/engine/accounts.js';
import { testDatabases } from '../support/databases.js';
import { jobEnded, jobOutput } from '../support/jobs.js';
import { eventually } from '../support/wait.js';

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of createReadStream(path)) hash.update(part as Buffer);
  return hash.digest('hex');
}

/** `sha256sum` lines (`<hex>  <path>`) as path → hex. */
function sums(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((l) => /^[0-9a-f]{64}  /.test(l))
      .map((l) => [l.slice(66).replace(/^.*?(big\.bin|sub\/small\.txt)$/, '$1'), l.slice(0, 64)]),
  );
}

/**
 * Outputs registered as a new dataset (docs/data.md, "Outputs"), end to end on the embedded network:
 * a job at west-zhongwei writes files under its output dir; once it succeeded they are a sealed
 * version at that center with the exact bytes; a job at east-shanghai reads them as an input
 * (staged over) and writes the next version; a failed job, a missing dir and a symlink out of the
 * workdir register nothing; bad specs are refused naming the field. Once on PGlite, once on PostgreSQL.
 */
for (const database of await testDatabases()) {
  describe(`job outputs as datasets (${database.name})`, { skip: database.skip, timeout: 300_000 }, () => {
    let home: string;
    let network: EmbeddedNetwork;
    let drop: () => Promise<void>;
    let alice: SuanwangClient;
    let mallory: SuanwangClient;
    let extraAgent: { agent: AgentHandle; connector: LocalConnector } | null = null;

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'suanwang-outputs-'));
      const fresh = await database.fresh();
      drop = fresh.drop;
      network = await startEmbeddedNetwork({
        home, host: '127.0.0.1', port: 0, databaseUrl: fresh.databaseUrl, seedCatalog: false,
        engine: { tickMs: 200, heartbeatIntervalMs: 500 },
        // guizhou's storage holds 5 MB: an output of 9 MB does not fit there.
        data: (center) => (center === 'guizhou-guian' ? { quotaBytes: 5_000_000 } : undefined),
      });
      alice = new SuanwangClient(network.url, (await createUser(network.ctx, { orgName: 'lab-a', name: 'alice', role: 'user' })).token);
      mallory = new SuanwangClient(network.url, (await createUser(network.ctx, { orgName: 'lab-b', name: 'mallory', role: 'user' })).token);
    });
    after(async () => {
      await extraAgent?.agent.stop();
      await extraAgent?.connector.close();
      await network?.stop();
      await drop?.();
      await rm(home, { recursive: true, force: true });
    });

    const finished = (id: string, client = alice) => jobEnded(client, id, 120_000);
    const output = (id: string) => jobOutput(alice, id);
    const outputTransfers = async (jobId: string) => (await alice.transfers(1000)).items.filter((t) => t.kind === 'output' && t.jobId === jobId);
    /** Writes ~9 MB of random bytes (three chunks) and a small file under DIR, and prints their sha256. */
    const writes = (dir: string) =>
      `mkdir -p ${dir}/sub && head -c 9000000 /dev/urandom > ${dir}/big.bin && echo "made by $(id -un)" > ${dir}/sub/small.txt && cd ${dir} && sha256sum big.bin sub/small.txt`;
    let v1: Map<string, string>;

    it('a job at west-zhongwei writes its output dir; on success it is a sealed version there, with the exact bytes', async () => {
      const job = await alice.submit({ command: ['sh', '-c', writes('outputs/result')], regions: ['ningxia'], acceleratorsPerNode: 1, outputs: [{ dataset: 'result' }] });
      assert.deepEqual(job.outputs, [{ dataset: 'result', dir: 'outputs/result' }], 'the default dir is outputs/NAME');
      const done = await finished(job.id);
      assert.equal(done.job.state, 'succeeded', JSON.stringify(done.events));
      assert.equal(done.job.center, 'west-zhongwei');
      v1 = sums(await output(job.id));
      assert.equal(v1.size, 2, `the job printed its checksums: ${await output(job.id)}`);
      const sealed = done.events.find((e) => /^output result v1 sealed/.test(e.message));
      assert.ok(sealed, `the job's events say it: ${JSON.stringify(done.events.map((e) => e.message))}`);
      assert.match(sealed.message, /^output result v1 sealed: \d+ bytes, 2 files at west-zhongwei$/);
      const detail = await alice.dataset('result');
      assert.deepEqual(detail.versions.map((v) => [v.version, v.state, v.files, v.centers]), [[1, 'sealed', 2, ['west-zhongwei']]]);
      assert.equal(Number(/: (\d+) bytes/.exec(sealed.message)![1]), detail.versions[0]!.bytes);
      const [t] = await outputTransfers(job.id);
      assert.equal(t?.state, 'done');
      assert.equal(t?.center, 'west-zhongwei');
      assert.equal(t?.bytesTotal, detail.versions[0]!.bytes);
      // The bytes, pulled back from the center: exactly what the job wrote.
      await pullDataset(alice, 'result', join(home, 'pulled'));
      assert.equal(await sha256File(join(home, 'pulled', 'big.bin')), v1.get('big.bin'));
      assert.equal(await sha256File(join(home, 'pulled', 'sub', 'small.txt')), v1.get('sub/small.txt'));
      // `datasets ls`: its size and the center holding its current version (the scheduler reads these).
      const row = (await alice.datasets()).items.find((d) => d.name === 'result');
      assert.deepEqual(row && [row.bytes, row.centers], [detail.versions[0]!.bytes, ['west-zhongwei']]);
    });

    it('another org sees nothing of it', async () => {
      await assert.rejects(mallory.dataset('result'), (e: ApiError) => e.status === 404 && e.code === 'dataset_not_found');
    });

    it('a job at east-shanghai reads it as an input (staged over, exact bytes) and its own output is the next version', async () => {
      const job = await alice.submit({
        command: ['sh', '-c', `(cd inputs/result && sha256sum big.bin sub/small.txt) && mkdir -p out/v2 && cp inputs/result/big.bin out/v2/ && echo v2 > out/v2/note.txt`],
        regions: ['shanghai'], acceleratorsPerNode: 1, inputs: ['result'], outputs: [{ dataset: 'result', dir: 'out/v2/' }],
      });
      assert.deepEqual(job.outputs, [{ dataset: 'result', dir: 'out/v2' }]);
      const done = await finished(job.id);
      assert.equal(done.job.state, 'succeeded', JSON.stringify(done.events));
      assert.equal(done.job.center, 'east-shanghai');
      assert.deepEqual(sums(await output(job.id)), v1, 'the job at the other center read the exact bytes');
      assert.ok(done.events.some((e) => /^stage-in .* done/.test(e.message)), 'staged over from west');
      assert.ok(done.events.some((e) => /^output result v2 sealed: \d+ bytes, 2 files at east-shanghai$/.test(e.message)), JSON.stringify(done.events.map((e) => e.message)));
      const detail = await alice.dataset('result');
      assert.deepEqual(detail.versions.map((v) => [v.version, v.state, v.centers.sort()]), [
        [2, 'sealed', ['east-shanghai']],
        [1, 'sealed', ['east-shanghai', 'west-zhongwei']],
      ]);
      // v2 is the dataset's current content: a pull gets it.
      await pullDataset(alice, 'result', join(home, 'pulled2'));
      assert.equal(await sha256File(join(home, 'pulled2', 'big.bin')), v1.get('big.bin'));
    });

    it('a job that fails registers nothing', async () => {
      const job = await alice.submit({ command: ['sh', '-c', `${writes('outputs/never')}; exit 3`], regions: ['ningxia'], acceleratorsPerNode: 1, outputs: [{ dataset: 'never' }] });
      const done = await finished(job.id);
      assert.equal(done.job.state, 'failed');
      assert.equal(done.job.exitCode, 3);
      await assert.rejects(alice.dataset('never'), (e: ApiError) => e.status === 404);
      assert.deepEqual(await outputTransfers(job.id), []);
    });

    it('a missing output dir fails the job, naming the dir; nothing is registered', async () => {
      const job = await alice.submit({ command: ['sh', '-c', `${writes('outputs/found')} && echo wrote`], regions: ['ningxia'], acceleratorsPerNode: 1, outputs: [{ dataset: 'found' }, { dataset: 'absent', dir: 'results/absent' }] });
      const done = await finished(job.id);
      assert.equal(done.job.state, 'failed', JSON.stringify(done.events));
      assert.equal(done.job.exitCode, 0, 'the program itself succeeded');
      assert.match(done.job.reason ?? '', /^exited with code 0 \(output absent: output dir results\/absent does not exist in the job's workdir/);
      // Every dir is checked before any is registered: not even the one that was there.
      await assert.rejects(alice.dataset('found'), (e: ApiError) => e.status === 404);
      await assert.rejects(alice.dataset('absent'), (e: ApiError) => e.status === 404);
      assert.deepEqual(await outputTransfers(job.id), []);
    });

    it('an output dir that is a symlink out of the workdir, or holds one, is refused and registers nothing', async () => {
      const out = await alice.submit({ command: ['sh', '-c', 'mkdir -p outputs && ln -s /etc outputs/etc'], regions: ['ningxia'], acceleratorsPerNode: 1, outputs: [{ dataset: 'etc' }] });
      const inner = await alice.submit({ command: ['sh', '-c', 'mkdir -p outputs/sneaky && echo ok > outputs/sneaky/a.txt && ln -s /etc/hostname outputs/sneaky/host'], regions: ['ningxia'], acceleratorsPerNode: 1, outputs: [{ dataset: 'sneaky' }] });
      const [a, b] = [await finished(out.id), await finished(inner.id)];
      assert.equal(a.job.state, 'failed');
      assert.match(a.job.reason ?? '', /output etc: output dir outputs\/etc leads out of the job's workdir/);
      assert.equal(b.job.state, 'failed');
      assert.match(b.job.reason ?? '', /output sneaky: .*host is not a regular file or a folder/);
      for (const name of ['etc', 'sneaky']) await assert.rejects(alice.dataset(name), (e: ApiError) => e.status === 404);
    });

    it("an output the center's storage has no room for fails the job with storage_full and registers nothing", async () => {
      const job = await alice.submit({ command: ['sh', '-c', writes('outputs/huge')], regions: ['guizhou'], outputs: [{ dataset: 'huge' }] });
      const done = await finished(job.id);
      assert.equal(done.job.center, 'guizhou-guian');
      assert.equal(done.job.state, 'failed', JSON.stringify(done.events));
      assert.match(done.job.reason ?? '', /output huge: the output for dataset huge needs \d+ bytes and the center's storage has \d+ free/);
      await assert.rejects(alice.dataset('huge'), (e: ApiError) => e.status === 404);
      assert.deepEqual(await outputTransfers(job.id), []);
    });

    it('an agent restarted after the run ended stores its outputs from the run\'s files; opening one again is idempotent', async () => {
      const release = join(home, 'release');
      const job = await alice.submit({ command: ['sh', '-c', `while [ ! -e ${release} ]; do sleep 0.1; done; ${writes('outputs/late')}`], regions: ['ningxia'], acceleratorsPerNode: 1, outputs: [{ dataset: 'late' }] });
      const running = await eventually('the job to run', async () => {
        const d = (await alice.job(job.id)) as JobDetailResource;
        return d.job.state === 'running' ? d.job : null;
      }, 60_000, 100);
      // The control plane's side, called as west's agent would: the same manifest opened twice gets
      // the same version and transfer; another manifest replaces the output still open.
      const west = (await findCenterByName(network.ctx.store.db, 'west-zhongwei'))!;
      const fake = (n: number) => ({ chunkBytes: 4 * 1024 * 1024, files: [{ path: 'f.txt', bytes: 1, chunks: [n.toString(16).padStart(64, '0')] }] });
      const first = await openJobOutput(network.ctx, west.id, job.id, { attempt: running.attempt, dataset: 'late', manifest: fake(1) });
      assert.deepEqual(await openJobOutput(network.ctx, west.id, job.id, { attempt: running.attempt, dataset: 'late', manifest: fake(1) }), first);
      const other = await openJobOutput(network.ctx, west.id, job.id, { attempt: running.attempt, dataset: 'late', manifest: fake(2) });
      assert.notEqual(other.versionId, first.versionId);
      assert.deepEqual((await outputTransfers(job.id)).map((t) => [t.version, t.state]).sort(), [[1, 'failed'], [2, 'running']]);
      await assert.rejects(openJobOutput(network.ctx, west.id, job.id, { attempt: running.attempt + 1, dataset: 'late', manifest: fake(1) }), (e: Error & { code?: string }) => e.code === 'conflict');
      // West's agent goes away; the run ends without it.
      await network.agents.get('west-zhongwei')!.stop();
      const stateDir = join(home, 'centers', 'west-zhongwei');
      const connector = new LocalConnector({ stateDir, pools: [...DEMO_CENTERS.find((c) => c.definition.name === 'west-zhongwei')!.pools], isolation: network.isolation });
      writeFileSync(release, '');
      await eventually('the run to end while no agent watches', async () => (await connector.runs()).find((r) => r.jobId === job.id && r.state === 'succeeded'), 60_000, 100);
      // A new agent process: it knows the run only from the connector's files, and stores its output.
      const token = readFileSync(join(stateDir, 'agent-token'), 'utf8').trim();
      const agent = startAgent({
        transport: new HttpAgentTransport({ serverUrl: network.url, token }), connector, name: 'west-zhongwei (restarted)', log: () => {},
        data: { root: join(stateDir, 'data'), sharedWithOrgUsers: network.isolation === 'users' },
      });
      extraAgent = { agent, connector };
      const done = await finished(job.id);
      assert.equal(done.job.state, 'succeeded', JSON.stringify(done.events));
      assert.ok(done.events.some((e) => /^output late v3 sealed: \d+ bytes, 2 files at west-zhongwei$/.test(e.message)), JSON.stringify(done.events.map((e) => e.message)));
      const printed = sums(await output(job.id));
      await pullDataset(alice, 'late', join(home, 'pulled-late'));
      assert.equal(await sha256File(join(home, 'pulled-late', 'big.bin')), printed.get('big.bin'));
      assert.equal(await sha256File(join(home, 'pulled-late', 'sub', 'small.txt')), printed.get('sub/small.txt'));
    });

    it('refuses bad output specs with 400 naming the field; nothing is written', async () => {
      const base: JobSubmissionInput = { command: ['true'], regions: ['ningxia'] };
      const cases: [JobSubmissionInput['outputs'], string, RegExp][] = [
        [[{ dataset: 'ok', dir: '../up' }], 'outputs[0].dir', /"\.\.\/up".*outside/],
        [[{ dataset: 'ok' }, { dataset: 'abs', dir: '/etc' }], 'outputs[1].dir', /absolute/],
        [[{ dataset: 'bad/name' }], 'outputs[0].dataset', /not allowed/],
        [[{ dataset: 'twice' }, { dataset: 'twice', dir: 'x' }], 'outputs[1].dataset', /twice/],
        [[{ dataset: 'ro', dir: 'inputs/x' }], 'outputs[0].dir', /inputs/],
      ];
      const before = (await alice.listJobs({ limit: 500 })).items.length;
      for (const [outputs, field, message] of cases) {
        await assert.rejects(alice.submit({ ...base, outputs }), (e: ApiError) => {
          assert.equal(e.status, 400, e.message);
          assert.equal(e.field, field, e.message);
          assert.match(e.message, message);
          return true;
        });
      }
      await assert.rejects(alice.submit({ ...base, outputs: [{ dataset: 'x', path: 'y' } as never] }), (e: ApiError) => e.status === 400 && e.field === 'outputs[0].path');
      assert.equal((await alice.listJobs({ limit: 500 })).items.length, before, 'no job was made');
    });
  });
}
