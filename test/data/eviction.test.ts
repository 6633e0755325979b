import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SuanwangClient } from '../../src/api/client/client.js';
import { pushDataset } from '../../src/cli/data/transfer-commands.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import { createUser } from '../../src/engine/accounts.js';
import { testDatabases } from '../support/databases.js';
import { jobEnded } from '../support/jobs.js';

const MB = 1_000_000;

/**
 * Eviction at a center's quota at runtime, on the embedded network: east-shanghai may hold 5 MB.
 * A job there reads dataset a (3 MB, staged in); a job reading b (3 MB) makes the agent evict a
 * (unpinned: west-zhongwei holds it too, no job reads it, no rule) and tell the control plane; once a
 * rule pins b at east, a job reading a again finds no room: `storage_full`, and b stays. A push
 * of c straight to east is refused the same way while the rule pins b, and evicts b once it is gone.
 */
for (const database of await testDatabases()) {
  describe(`eviction at a center's quota (${database.name})`, { skip: database.skip, timeout: 300_000 }, () => {
    let home: string;
    let network: EmbeddedNetwork;
    let drop: () => Promise<void>;
    let alice: SuanwangClient;

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'suanwang-evict-'));
      const fresh = await database.fresh();
      drop = fresh.drop;
      network = await startEmbeddedNetwork({
        home, host: '127.0.0.1', port: 0, databaseUrl: fresh.databaseUrl, seedCatalog: false,
        engine: { tickMs: 200, heartbeatIntervalMs: 500, rulesEveryMs: 200 },
        data: (center) => (center === 'east-shanghai' ? { quotaBytes: 5 * MB } : undefined),
      });
      alice = new SuanwangClient(network.url, (await createUser(network.ctx, { orgName: 'lab-a', name: 'alice', role: 'user' })).token);
      for (const name of ['a', 'b']) {
        mkdirSync(join(home, name));
        writeFileSync(join(home, name, 'data.bin'), randomBytes(3 * MB));
        await pushDataset(alice, join(home, name), name, { center: 'west-zhongwei' });
      }
    });
    after(async () => {
      await network?.stop();
      await drop?.();
      await rm(home, { recursive: true, force: true });
    });

    const run = async (input: string) => {
      const { id } = await alice.submit({ command: ['sh', '-c', `cat inputs/${input}/data.bin | wc -c`], regions: ['shanghai'], acceleratorsPerNode: 1, inputs: [input] });
      return jobEnded(alice, id, 120_000);
    };
    const heldAt = async (name: string) => [...(await alice.dataset(name)).versions[0]!.centers].sort();
    const eastRoot = () => join(home, 'centers', 'east-shanghai', 'data');

    it('evicts the least recently used unpinned replica to make room, and tells the control plane', async () => {
      assert.equal((await run('a')).job.state, 'succeeded');
      assert.deepEqual(await heldAt('a'), ['east-shanghai', 'west-zhongwei']);
      const b = await run('b');
      assert.equal(b.job.state, 'succeeded', JSON.stringify(b.events?.slice(-3)));
      assert.deepEqual(await heldAt('a'), ['west-zhongwei'], 'a is no longer held at east');
      assert.deepEqual(await heldAt('b'), ['east-shanghai', 'west-zhongwei']);
      const aVersion = (await alice.dataset('a')).versions[0]!.id;
      assert.ok(!existsSync(join(eastRoot(), 'versions', `${aVersion}.json`)), "a's manifest left east's storage");
    });

    it('refuses with storage_full when pinned replicas leave no room, and drops nothing', async () => {
      await alice.replicate('b', { copies: 1, centers: ['east-shanghai'] });
      const a = await run('a');
      assert.equal(a.job.state, 'failed');
      assert.match(JSON.stringify(a), /needs \d+ bytes and the center's storage has \d+ free/);
      assert.deepEqual(await heldAt('b'), ['east-shanghai', 'west-zhongwei'], 'b (pinned by its rule) stays');
      const bVersion = (await alice.dataset('b')).versions[0]!.id;
      assert.ok(existsSync(join(eastRoot(), 'versions', `${bVersion}.json`)));
    });

    it('a push straight to a center at its quota evicts unpinned replicas first; refused with storage_full while they are pinned', async () => {
      mkdirSync(join(home, 'c'));
      writeFileSync(join(home, 'c', 'data.bin'), randomBytes(3 * MB));
      // b is pinned at east by the rule of the case before: no room for c, and b stays.
      await assert.rejects(pushDataset(alice, join(home, 'c'), 'c', { center: 'east-shanghai' }), (e: Error & { code?: string }) => e.code === 'storage_full');
      assert.deepEqual(await heldAt('b'), ['east-shanghai', 'west-zhongwei'], 'b (pinned) stays');
      const bVersion = (await alice.dataset('b')).versions[0]!.id;
      assert.ok(existsSync(join(eastRoot(), 'versions', `${bVersion}.json`)));
      for (const rule of (await alice.rules('b')).items) await alice.deleteRule(rule.id);
      const pushed = await pushDataset(alice, join(home, 'c'), 'c', { center: 'east-shanghai' });
      assert.equal(pushed.center, 'east-shanghai');
      assert.deepEqual(await heldAt('c'), ['east-shanghai']);
      assert.deepEqual(await heldAt('b'), ['west-zhongwei'], 'b (unpinned now) was evicted at east');
      assert.ok(!existsSync(join(eastRoot(), 'versions', `${bVersion}.json`)), "b's manifest left east's storage");
    });
  });
}
