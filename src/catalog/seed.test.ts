import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { acceleratorByKey } from '../core/accelerators.js';
import { planLaunch } from './launch.js';
import { familiesOf } from './render.js';
import { parseSeedCatalog, SEED_FILES } from './seed.js';

const dir = new URL('./seed/', import.meta.url);
const texts = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => [f, readFileSync(new URL(f, dir), 'utf8')]));
const seed = parseSeedCatalog(texts);
const byName = new Map(seed.map((m) => [m.name, m]));

describe('seed catalog', () => {
  it('lists every file in the folder, and each one validates', () => {
    assert.deepEqual(Object.keys(texts).sort(), [...SEED_FILES].sort());
    assert.deepEqual(seed.map((m) => m.name), ['md-lj', 'poisson2d', 'textgen-mini', 'cn-weather-sample', 'notebook-hub']);
  });
  it('covers apps, a model, a dataset and a SaaS product', () => {
    assert.deepEqual(seed.map((m) => m.category), ['software', 'software', 'model', 'dataset', 'saas']);
    assert.equal(byName.get('cn-weather-sample')?.app, undefined);
    assert.equal(byName.get('notebook-hub')?.app, undefined);
    assert.deepEqual(byName.get('notebook-hub')?.price, { kind: 'per-hour', fenPerHour: 50 });
  });
  it('launches every app with its defaults, with a cpu variant that runs here', () => {
    for (const m of seed.filter((s) => s.app !== undefined)) {
      const r = planLaunch(m);
      assert.ok(r.ok, `${m.name}: ${JSON.stringify(!r.ok && r.errors)}`);
      assert.ok(r.plan.variants.cpu, `${m.name} has a cpu variant`);
      assert.equal(r.plan.variants.cpu.command[0], 'python3');
    }
  });
  it('md-lj runs on cpu, cuda, cann and dtk', () => {
    assert.deepEqual(familiesOf(byName.get('md-lj')!), ['cuda', 'cann', 'dtk', 'cpu']);
  });
  it('textgen-mini ships Day-0 adaptation to domestic chips', () => {
    const m = byName.get('textgen-mini')!;
    const rows = m.app!.adaptation;
    for (const key of ['ascend-910b', 'ascend-910c', 'hygon-k100-ai', 'cambricon-mlu590', 'kunlunxin-p800', 'metax-c500', 'nvidia-a100', 'nvidia-h100']) {
      assert.ok(rows[key], `${key} adapted`);
      assert.match(rows[key]!.note ?? '', /illustrative/);
    }
    assert.deepEqual(new Set(Object.keys(rows).map((k) => acceleratorByKey(k)!.family)), new Set(['cuda', 'cann', 'dtk', 'bang', 'xpu', 'maca']));
    assert.deepEqual(familiesOf(m), ['cuda', 'cann', 'dtk', 'bang', 'xpu', 'maca', 'cpu']);
  });
  it('reports a broken seed file by file, line and field', () => {
    const broken = { ...texts, 'poisson2d.yaml': texts['poisson2d.yaml']!.replace('default: 64', 'default: 1') };
    assert.throws(() => parseSeedCatalog(broken), /poisson2d\.yaml:\d+:\d+ app\.parameters\.properties\.n\.default: default n: 1 is below the minimum 2/);
  });
});
