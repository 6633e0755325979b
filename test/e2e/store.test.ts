import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError, SuanwangClient } from '../../src/api/client/client.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';

/** A manifest of an app adapted to one chip only, from a provider of the test. */
function a100OnlyApp(version: string, extra = ''): string {
  return `name: a100-only
title: An app tuned for one chip
summary: Prints which family it was launched for; adapted to NVIDIA A100 only.
category: software
licence: Apache-2.0
version: ${version}
tags: [test, 单卡]
app:
  parameters:
    type: object
    properties:
      greeting: { type: string, default: hello, maxLength: 20 }
      times: { type: integer, default: 1, minimum: 1, maximum: 3 }
  command:
    cuda: [sh, -c, 'for i in $(seq {{times}}); do echo "{{greeting}} from cuda"; done']
  resources:
    defaults: { acceleratorsPerNode: 1, walltimeSeconds: 60 }
  adaptation:
    nvidia-a100: { efficiency: 1, level: verified }
${extra}`;
}

async function refused(p: Promise<unknown>, status: number, code: string): Promise<ApiError> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, status, error.message);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${status} ${code}`);
}

for (const database of await testDatabases()) {
  describe(`the store: publish, search, launch (${database.name})`, { skip: database.skip }, () => {
    let home: string;
    let network: EmbeddedNetwork;
    let drop: () => Promise<void>;
    let admin: SuanwangClient;
    let provider: SuanwangClient;
    let user: SuanwangClient;

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'suanwang-store-'));
      const fresh = await database.fresh();
      drop = fresh.drop;
      network = await startEmbeddedNetwork({ home, host: '127.0.0.1', port: 0, databaseUrl: fresh.databaseUrl, engine: { tickMs: 200 } });
      admin = new SuanwangClient(network.url, network.adminToken);
      provider = new SuanwangClient(network.url, (await admin.createUser({ org: 'tuned-labs', name: 'tuner', role: 'provider' })).token);
      user = new SuanwangClient(network.url, (await admin.createUser({ org: 'lab-x', name: 'xiaoming', role: 'user' })).token);
    });
    after(async () => {
      await network?.stop();
      await drop?.();
      await rm(home, { recursive: true, force: true });
    });

    async function jobCount(): Promise<number> {
      return (await admin.listJobs({ all: true, limit: 500 })).items.length;
    }

    it('lists the seed catalog and finds apps by words, substrings (Chinese too), facets and sorts', async () => {
      const all = await user.searchProducts({});
      assert.deepEqual(all.items.map((p) => p.name).sort(), ['cn-weather-sample', 'md-lj', 'notebook-hub', 'poisson2d', 'textgen-mini']);
      assert.deepEqual(all.facets.category, { dataset: 1, model: 1, saas: 1, software: 2 });
      assert.equal((await user.searchProducts({ q: 'molecular dynamics' })).items[0]?.name, 'md-lj');
      assert.equal((await user.searchProducts({ q: 'poisson' })).items[0]?.name, 'poisson2d');
      const ascend = await user.searchProducts({ family: 'cann' });
      assert.deepEqual(ascend.items.map((p) => p.name).sort(), ['md-lj', 'textgen-mini']);
      const models = await user.searchProducts({ category: 'model' });
      assert.deepEqual(models.items.map((p) => p.name), ['textgen-mini']);
      const newest = await user.searchProducts({ sort: 'newest' });
      assert.equal(newest.total, 5);
    });

    it('publishes for review; validation errors point at the line and field; admins list it', async () => {
      const broken = await refused(provider.publish(a100OnlyApp('1.0.0').replace('nvidia-a100: {', 'nvidia-a1000: {')), 422, 'invalid_manifest');
      assert.match(broken.message, /line 19, column 5: app\.adaptation\.nvidia-a1000: unknown accelerator nvidia-a1000/);
      assert.match(broken.field ?? '', /^app\./, 'the field of the first problem');
      const published = await provider.publish(a100OnlyApp('1.0.0'));
      assert.deepEqual(published, { product: 'a100-only', version: '1.0.0', status: 'in-review' });
      assert.equal((await user.searchProducts({ q: 'a100-only' })).total, 0, 'not searchable before review');
      await refused(provider.review('a100-only', '1.0.0', 'approve'), 403, 'forbidden');
      assert.equal((await admin.review('a100-only', '1.0.0', 'approve', 'looks good')).status, 'listed');
      assert.equal((await user.searchProducts({ q: '单卡' })).items[0]?.name, 'a100-only', 'a Chinese tag is found as a substring');
    });

    it('never lets a listed version change, nor another provider take the name', async () => {
      await refused(provider.publish(a100OnlyApp('1.0.0').replace('hello', 'changed')), 409, 'version_immutable');
      const other = new SuanwangClient(network.url, (await admin.createUser({ org: 'other-labs', name: 'copycat', role: 'provider' })).token);
      await refused(other.publish(a100OnlyApp('9.0.0')), 403, 'forbidden');
      await refused(user.publish(a100OnlyApp('9.0.1')), 403, 'forbidden');
      const detail = await user.product('a100-only');
      assert.deepEqual(detail.versions.map((v) => [v.version, v.status]), [['1.0.0', 'listed']]);
    });

    it('rejects a bad parameter before anything is queued, naming the parameter, value and rule', async () => {
      const before = await jobCount();
      const e1 = await refused(user.launch('a100-only', { params: { times: 9 } }), 400, 'invalid_parameter');
      assert.equal(e1.field, 'params.times');
      assert.match(e1.message, /times: 9 is above the maximum 3/);
      const e2 = await refused(user.launch('a100-only', { params: { tims: 2 } }), 400, 'invalid_parameter');
      assert.equal(e2.field, 'params.tims');
      await refused(user.launch('a100-only', { params: {}, accelerators: ['ascend-910b'] }), 400, 'invalid_parameter');
      await refused(user.launch('cn-weather-sample', { params: {} }), 422, 'not_runnable');
      await refused(user.launch('no-such-app', { params: {} }), 404, 'product_not_found');
      assert.equal(await jobCount(), before, 'no job was written');
    });

    it("runs a launch only on a chip in the app's matrix, even when another is cheaper, and records the app", async () => {
      const job = await user.launch('a100-only', { params: { greeting: '你好', times: 2 }, objective: 'cheapest' });
      await eventually('the launch to succeed', async () => (await user.job(job.id)).job.state === 'succeeded', 20_000);
      const detail = await user.job(job.id);
      assert.equal(detail.job.center, 'east-shanghai', 'the only center with an adapted chip');
      const why = detail.placements[0]!.explanation;
      assert.ok(why.infeasible.some((i) => i.centerName === 'west-zhongwei' && i.reason === 'no-adapted-accelerator'), JSON.stringify(why.infeasible));
      const out = (await user.logs(job.id)).chunks.map((c) => c.data).join('');
      assert.equal(out, '你好 from cuda\n你好 from cuda\n');
      const search = await user.searchProducts({ q: 'a100-only' });
      assert.equal(search.items[0]!.launches, 1, 'the launch counts toward popularity');
    });

    it('launches a seed model on a domestic chip with its Day-0 adaptation, using that family\'s command', async () => {
      const job = await user.launch('textgen-mini', { params: { length: 40 }, resources: { acceleratorsPerNode: 1 }, objective: 'cheapest' });
      await eventually('the model run to succeed', async () => (await user.job(job.id)).job.state === 'succeeded', 20_000);
      const detail = await user.job(job.id);
      assert.equal(detail.job.center, 'west-zhongwei', 'the cheaper adapted chip: Ascend 910B');
      const out = (await user.logs(job.id)).chunks.map((c) => c.data).join('');
      assert.match(out, /backend cann/);
    });

    it('keeps the total and every facet count exact through delisting, relisting and a new version', async () => {
      const listed = await user.searchProducts({});
      assert.equal(listed.exact, true, 'nothing is estimated');
      assert.equal(listed.total, 6, 'the seed catalog and a100-only');
      assert.equal(listed.facets.provider['tuned-labs'], 1);
      const onCuda = await user.searchProducts({ family: 'cuda' });
      const without = (facet: Record<string, number>, key: string, n: number) => {
        const out = { ...facet, [key]: facet[key]! - 1 };
        if (out[key] === 0) delete out[key];
        return n === 0 ? facet : out;
      };

      await provider.review('a100-only', '1.0.0', 'delist');
      const delisted = await user.searchProducts({});
      assert.equal(delisted.total, 5);
      assert.deepEqual(delisted.facets.category, without(listed.facets.category, 'software', 1));
      assert.deepEqual(delisted.facets.family, without(listed.facets.family, 'cuda', 1));
      assert.equal(delisted.facets.provider['tuned-labs'], undefined);
      assert.equal((await user.searchProducts({ q: '单卡' })).total, 0, 'nor found by its words');

      await admin.review('a100-only', '1.0.0', 'relist');
      assert.deepEqual(await user.searchProducts({}), listed, 'relisted: the same answer as before');

      await provider.publish(a100OnlyApp('1.1.0').replace('category: software', 'category: model'));
      await admin.review('a100-only', '1.1.0', 'approve');
      await provider.review('a100-only', '1.0.0', 'delist');
      const republished = await user.searchProducts({ family: 'cuda' });
      assert.equal(republished.total, onCuda.total, 'still listed (1.1.0), still on cuda');
      assert.equal(republished.facets.category.model, (onCuda.facets.category.model ?? 0) + 1, 'now a model');
      assert.equal(republished.facets.category.software ?? 0, onCuda.facets.category.software! - 1, 'no longer software');
      assert.equal((await user.searchProducts({ q: '单卡', category: 'model' })).items[0]?.name, 'a100-only');
    });
  });
}
