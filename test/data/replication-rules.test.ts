import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SuanwangClient, type ApiError } from '../../src/api/client/client.js';
import { pushDataset } from '../../src/cli/data/transfer-commands.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import { createUser } from '../../src/engine/accounts.js';
import { applyReplicationRules } from '../../src/engine/replication-rules.js';
import { replicaKey } from '../../src/data/index.js';
import { findCenterByName } from '../../src/store/centers.js';
import { cliJson, runCli } from '../support/cli.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';

/**
 * Replication rules at runtime on the embedded network (three centers, three agents): a rule "2
 * copies in the west hub" copies a version pushed to west-zhongwei into guizhou-guian by a
 * `replicate` transfer between the agents; bad input is refused naming field, value and fix, and
 * writes nothing; another org can neither see nor end a rule; a rule past its days expires and pins
 * nothing any more.
 */
for (const database of await testDatabases()) {
  describe(`replication rules (${database.name})`, { skip: database.skip, timeout: 240_000 }, () => {
    let home: string;
    let network: EmbeddedNetwork;
    let drop: () => Promise<void>;
    let alice: SuanwangClient;
    let aliceEnv: Record<string, string>;
    let mallory: SuanwangClient;

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'suanwang-rules-'));
      const fresh = await database.fresh();
      drop = fresh.drop;
      network = await startEmbeddedNetwork({
        home, host: '127.0.0.1', port: 0, databaseUrl: fresh.databaseUrl, seedCatalog: false,
        engine: { tickMs: 200, heartbeatIntervalMs: 500, rulesEveryMs: 200 },
      });
      const a = await createUser(network.ctx, { orgName: 'lab-a', name: 'alice', role: 'user' });
      alice = new SuanwangClient(network.url, a.token);
      aliceEnv = { SUANWANG_URL: network.url, SUANWANG_TOKEN: a.token, HOME: home };
      mallory = new SuanwangClient(network.url, (await createUser(network.ctx, { orgName: 'lab-b', name: 'mallory', role: 'user' })).token);
      mkdirSync(join(home, 'corpus'));
      writeFileSync(join(home, 'corpus', 'a.bin'), randomBytes(3_000_000));
      await pushDataset(alice, join(home, 'corpus'), 'corpus', { center: 'west-zhongwei' });
    });
    after(async () => {
      await network?.stop();
      await drop?.();
      await rm(home, { recursive: true, force: true });
    });

    const refused = async (p: Promise<unknown>, status: number, code: string, field?: string) => {
      const e = (await p.then(() => assert.fail('accepted'), (x: unknown) => x)) as ApiError;
      assert.equal(e.status, status, e.message);
      assert.equal(e.code, code, e.message);
      if (field) assert.equal(e.field, field, e.message);
      assert.ok(e.hint, 'says how to fix it');
    };
    const ruleRows = () => network.ctx.store.db.selectFrom('replication_rules').select('id').execute();

    it('refuses bad rules naming the field, the value and the fix, and writes nothing', async () => {
      await refused(alice.replicate('corpus', { copies: 3, hub: 'west' }), 400, 'invalid_field', 'copies');
      await refused(alice.replicate('corpus', { copies: 1, region: 'atlantis' }), 400, 'invalid_field', 'region');
      await refused(alice.replicate('corpus', { copies: 1, hub: 'north' }), 400, 'invalid_field', 'hub');
      await refused(alice.replicate('corpus', { copies: 1, region: 'ningxia', hub: 'west' }), 400, 'invalid_request');
      await refused(alice.replicate('corpus', { copies: 0, region: 'ningxia' }), 400, 'invalid_field', 'copies');
      await refused(alice.replicate('corpus', { copies: 1, region: 'ningxia', days: -1 }), 400, 'invalid_field', 'days');
      await refused(alice.replicate('corpus', { copies: 1, centers: ['nowhere'] }), 404, 'center_not_found', 'centers');
      await refused(alice.replicate('nothing', { copies: 1, region: 'ningxia' }), 404, 'dataset_not_found', 'name');
      const cli = await runCli(['datasets', 'replicate', 'corpus', '--copies', '9', '--region', 'ningxia'], aliceEnv);
      assert.notEqual(cli.code, 0);
      assert.match(cli.stderr, /copies/);
      assert.deepEqual(await ruleRows(), []);
    });

    it('2 copies in the west hub: the version is copied from west-zhongwei to guizhou-guian by the agents', async () => {
      const rule = await cliJson<{ id: string; centers: string[]; state: string; expiresAt: string | null }>(['datasets', 'replicate', 'corpus', '--copies', '2', '--hub', 'west', '--days', '30'], aliceEnv);
      assert.deepEqual(rule.centers, ['guizhou-guian', 'west-zhongwei']);
      assert.equal(rule.state, 'active');
      assert.ok(rule.expiresAt);
      const held = await eventually('the rule to hold 2 copies', async () => {
        const r = (await alice.rules('corpus')).items.find((x) => x.id === rule.id)!;
        return r.held.length === 2 ? r.held : null;
      }, 60_000, 200);
      assert.deepEqual([...held].sort(), ['guizhou-guian', 'west-zhongwei']);
      const t = (await alice.transfers()).items.find((x) => x.kind === 'replicate');
      assert.equal(t?.center, 'guizhou-guian');
      assert.equal(t?.state, 'done');
      assert.equal(t?.bytesMoved, 3_000_000);
      assert.deepEqual([...(await alice.dataset('corpus')).versions[0]!.centers].sort(), ['guizhou-guian', 'west-zhongwei']);
      // Held: the next passes queue nothing more.
      assert.equal((await applyReplicationRules(network.ctx)).queued, 0);
    });

    it("another org sees none of alice's rules and cannot end one", async () => {
      const [rule] = (await alice.rules('corpus')).items;
      await refused(mallory.rules('corpus'), 404, 'dataset_not_found');
      await refused(mallory.replicate('corpus', { copies: 1, region: 'shanghai' }), 404, 'dataset_not_found');
      await refused(mallory.deleteRule(rule!.id), 404, 'not_found');
      assert.equal((await alice.rules('corpus')).items[0]!.state, 'active');
    });

    it('a rule past its days expires and pins nothing; a deleted one too', async () => {
      const east = (await findCenterByName(network.ctx.store.db, 'east-shanghai'))!.id;
      const version = (await alice.dataset('corpus')).versions[0]!.id;
      const short = await alice.replicate('corpus', { copies: 1, centers: ['east-shanghai'], days: 1.5 / 86_400 });
      const pinned = await applyReplicationRules(network.ctx);
      assert.ok(pinned.pinned.has(replicaKey(version, east)), 'pinned while the rule holds');
      await eventually('the short rule to expire', async () => (await alice.rules('corpus')).items.find((r) => r.id === short.id)?.state === 'expired', 30_000, 200);
      assert.ok(!(await applyReplicationRules(network.ctx)).pinned.has(replicaKey(version, east)), 'an expired rule pins nothing');
      const west = (await alice.rules('corpus')).items.find((r) => r.state === 'active')!;
      const out = await runCli(['datasets', 'unreplicate', west.id], aliceEnv);
      assert.equal(out.code, 0, out.stderr);
      assert.equal((await alice.rules('corpus')).items.find((r) => r.id === west.id)!.state, 'deleted');
      assert.equal((await applyReplicationRules(network.ctx)).pinned.size, 0);
    });
  });
}
