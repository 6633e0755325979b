import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkModelError, linkBetween, parseNetwork, parseNetworkText, transferSeconds, egressFen, centerCapacity, type NetworkFile } from './network-model.js';

/** A small valid network: two centers in two regions and a link. */
const file = (): NetworkFile => ({
  name: 'two',
  centers: [
    {
      id: 'east-a',
      region: 'shanghai',
      energy: { priceFenPerKwh: { base: 40, periods: [{ from: 22, to: 6, factor: 0.5 }, { from: 8, to: 11, factor: 1.5 }] }, pue: 1.25, carbonKgPerKwh: 0.58 },
      pools: [{ name: 'a100', accelerator: 'nvidia-a100', nodes: 2, perNode: { accelerators: 8, cores: 64, memoryGiB: 512 }, fenPerAcceleratorHour: 1200, fenPerCoreHour: 10 }],
    },
    {
      id: 'west-b',
      region: 'ningxia',
      energy: { priceFenPerKwh: 26, pue: 1.2, carbonKgPerKwh: Array.from({ length: 24 }, (_, h) => (h >= 9 && h < 17 ? 0.1 : 0.4)), utcOffsetHours: 8 },
      pools: [
        { name: '910b', accelerator: 'ascend-910b', nodes: 4, perNode: { accelerators: 8, cores: 192, memoryGiB: 1024 }, fenPerAcceleratorHour: 600, fenPerCoreHour: 12 },
        { name: 'cpu', nodes: 8, perNode: { accelerators: 0, cores: 128, memoryGiB: 512 }, fenPerAcceleratorHour: 0, fenPerCoreHour: 8 },
      ],
    },
  ],
  links: [{ between: ['shanghai', 'ningxia'], bandwidthMbps: 10_000, latencyMs: 12.5, egressFenPerGB: 50 }],
});

/** The issues `parseNetwork` reports for `input`, as `field: message` lines. */
function issuesOf(input: unknown): string[] {
  try {
    parseNetwork(input, 'test');
  } catch (e) {
    assert.ok(e instanceof NetworkModelError, String(e));
    return e.issues.map((i) => `${i.field}: ${i.message}`);
  }
  assert.fail('expected the network to be rejected');
}

test('a valid network resolves: 24 hourly values, time-of-use periods (wrapping midnight), memory in MiB, defaults', () => {
  const { model, warnings } = parseNetwork(file());
  assert.deepEqual(warnings, []);
  const [a, b] = model.centers as [typeof model.centers[0], typeof model.centers[0]];
  assert.equal(a.name, 'east-a', 'name defaults to the id');
  assert.equal(a.energy.utcOffsetHours, 8);
  assert.deepEqual(a.energy.priceFenPerKwh, [20, 20, 20, 20, 20, 20, 40, 40, 60, 60, 60, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 20, 20]);
  assert.deepEqual(a.energy.carbonKgPerKwh, Array(24).fill(0.58));
  assert.equal(b.energy.carbonKgPerKwh[12], 0.1);
  assert.deepEqual(a.pools[0]!.perNode, { accelerators: 8, cores: 64, memoryMiB: 512 * 1024 });
  assert.equal(a.pools[0]!.priceFactorByHour, null);
  assert.equal(b.pools[1]!.accelerator, null);
  assert.deepEqual(centerCapacity(b), { accelerators: 32, cores: 4 * 192 + 8 * 128 });
  assert.equal(model.defaultLink, null);
});

test('links: either direction, the same region, none', () => {
  const { model } = parseNetwork(file());
  assert.equal(linkBetween(model, 'ningxia', 'shanghai')?.latencyMs, 12.5);
  assert.equal(linkBetween(model, 'shanghai', 'shanghai')?.egressFenPerGB, 0);
  const lonely = parseNetwork({ ...file(), links: [] });
  assert.equal(linkBetween(lonely.model, 'ningxia', 'shanghai'), null);
  assert.deepEqual(lonely.warnings.map((w) => w.field), ['links']);
  const link = linkBetween(model, 'ningxia', 'shanghai')!;
  // 1 GB at 10 Gbit/s = 0.8 s, plus 12.5 ms; 50 fen per GB.
  assert.equal(transferSeconds(link, 1e9), 0.8125);
  assert.equal(egressFen(link, 2e9), 100);
  assert.equal(transferSeconds(link, 0), 0);
});

test('schema errors name the field, the value and what is expected', () => {
  const bad = file() as unknown as { centers: Record<string, unknown>[] } & Record<string, unknown>;
  const c0 = bad.centers[0] as { pools: Record<string, unknown>[]; energy: Record<string, unknown> };
  c0.pools[0]!['nodes'] = -1;
  c0.pools[0]!['fenPerAcceleratorHour'] = 12.5;
  delete c0.energy['pue'];
  c0.energy['carbonKgPerKwh'] = [0.5, 0.5];
  (bad.centers[1] as Record<string, unknown>)['colour'] = 'red';
  const issues = issuesOf(bad);
  assert.deepEqual(issues, [
    'centers[0].energy.pue: missing (expected number)',
    'centers[0].energy.carbonKgPerKwh: give 24 values, one per local hour 0–23 (got [0.5,0.5])',
    'centers[0].pools[0].nodes: a pool has at least one node (got -1)',
    'centers[0].pools[0].fenPerAcceleratorHour: whole fen only (money is never fractional) (got 12.5)',
    'centers[1]: Unrecognized key: "colour"',
  ]);
});

test('a figure of the wrong kind says which kinds are accepted', () => {
  const bad = file();
  (bad.centers[0]!.energy as Record<string, unknown>)['priceFenPerKwh'] = 'cheap';
  assert.deepEqual(issuesOf(bad), [
    'centers[0].energy.priceFenPerKwh: expected a number, a list of 24 numbers (one per local hour), or {base, periods: [{from, to, factor}]} (got "cheap")',
  ]);
});

test('rules beyond the schema: unique ids, known regions, pool kinds, empty periods', () => {
  const bad = file();
  bad.centers[1]!.id = 'east-a';
  bad.centers[1]!.pools[1]!.name = '910b';
  bad.centers[1]!.pools[1]!.perNode.accelerators = 2; // a CPU pool with accelerators
  bad.centers[0]!.pools[0]!.perNode.accelerators = 0; // an accelerator pool without
  bad.links!.push({ between: ['shanghai', 'mars'], bandwidthMbps: 1, latencyMs: 1, egressFenPerGB: 1 });
  bad.links!.push({ between: ['ningxia', 'shanghai'], bandwidthMbps: 1, latencyMs: 1, egressFenPerGB: 1 });
  (bad.centers[0]!.energy.priceFenPerKwh as { periods: { from: number; to: number; factor: number }[] }).periods.push({ from: 5, to: 5, factor: 2 });
  assert.deepEqual(issuesOf(bad), [
    'centers[0].energy.priceFenPerKwh.periods[2]: from 5 to 5 is empty; a period runs from its first hour up to (not including) `to`',
    'centers[0].pools[0].perNode.accelerators: a pool of "nvidia-a100" needs at least 1 accelerator per node (or set accelerator: null)',
    'centers[1].id: "east-a" is used by an earlier center; center ids must be unique',
    'centers[1].pools[1].name: "910b" is used by an earlier pool of center "east-a"; pool names must be unique within a center',
    'centers[1].pools[1].perNode.accelerators: 2 accelerators on a CPU pool (accelerator: null); name the accelerator or set 0',
    'links[1].between[1]: no center is in region "mars" (regions: ningxia, shanghai)',
    'links[2].between: ningxia–shanghai is linked twice; a link serves both directions, give it once',
  ]);
});

test('an accelerator the table does not know is a warning, not an error', () => {
  const f = file();
  f.centers[1]!.pools[0]!.accelerator = 'alibaba-g2';
  const { warnings } = parseNetwork(f);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.field, 'centers[1].pools[0].accelerator');
  assert.match(warnings[0]!.message, /"alibaba-g2" is not in the accelerator table/);
});

test('YAML (and JSON, which is YAML) text; a syntax error is one issue naming the file', () => {
  const yaml = `
name: tiny
centers:
  - id: solo
    region: gansu
    energy: { priceFenPerKwh: 30, pue: 1.2, carbonKgPerKwh: 0.3 }
    pools:
      - name: cpu
        nodes: 1
        perNode: { accelerators: 0, cores: 8, memoryGiB: 16 }
        fenPerAcceleratorHour: 0
        fenPerCoreHour: 8
        priceFactorByHour: { base: 1, periods: [{ from: 0, to: 24, factor: 0.5 }] }
`;
  const { model } = parseNetworkText(yaml, 'tiny.yaml');
  assert.deepEqual(model.centers[0]!.pools[0]!.priceFactorByHour, Array(24).fill(0.5));
  assert.equal(parseNetworkText(JSON.stringify(file())).model.centers.length, 2);
  assert.throws(() => parseNetworkText('name: [unclosed', 'broken.yaml'), (e: unknown) => {
    assert.ok(e instanceof NetworkModelError);
    assert.equal(e.issues[0]!.field, '(file)');
    assert.match(e.message, /^broken\.yaml: invalid network model/);
    return true;
  });
});
