import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceleratorByKey } from '../../core/accelerators.js';
import { centerCapacity, parseNetwork } from '../network-model.js';
import { chinaHubs, chinaHubsFile, greatCircleKm, routeLatencyMs } from './china-hubs.js';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('china-hubs validates with no warnings: eight hubs, three east and five west, every pair linked', () => {
  const { model, warnings } = parseNetwork(chinaHubsFile(), 'china-hubs');
  assert.deepEqual(warnings, []);
  assert.equal(model.centers.length, 8);
  assert.equal(model.centers.filter((c) => c.tags.includes('east')).length, 3);
  assert.equal(model.centers.filter((c) => c.tags.includes('west')).length, 5);
  assert.equal(model.links.length, 28);
  for (const c of model.centers) for (const p of c.pools) if (p.accelerator) assert.ok(acceleratorByKey(p.accelerator), p.accelerator);
});

test('the west is cheaper and greener: every western center beats every eastern one on mean carbon and on chip price', () => {
  const model = chinaHubs();
  const east = model.centers.filter((c) => c.tags.includes('east'));
  const west = model.centers.filter((c) => c.tags.includes('west'));
  const maxWestCarbon = Math.max(...west.map((c) => mean(c.energy.carbonKgPerKwh)));
  const minEastCarbon = Math.min(...east.map((c) => mean(c.energy.carbonKgPerKwh)));
  assert.ok(maxWestCarbon < minEastCarbon, `${maxWestCarbon} < ${minEastCarbon}`);
  const price910b = (c: (typeof model.centers)[number]) => c.pools.find((p) => p.accelerator === 'ascend-910b')!.fenPerAcceleratorHour;
  assert.ok(Math.max(...west.map(price910b)) < Math.min(...east.map(price910b)));
  for (const c of west) assert.ok(c.energy.pue <= 1.2);
  for (const c of east) assert.ok(c.energy.pue <= 1.25);
  // Ningxia: benchmark 0.2595 CNY/kWh, valley 09–17 at 0.4, peaks 07–09 and 17–23 at 1.6.
  const nx = model.centers.find((c) => c.id === 'nx-zhongwei')!;
  assert.equal(nx.energy.priceFenPerKwh[12], 25.95 * 0.4);
  assert.equal(nx.energy.priceFenPerKwh[8], 25.95 * 1.6);
  assert.equal(nx.energy.priceFenPerKwh[3], 25.95);
  assert.equal(nx.energy.carbonKgPerKwh[12], 0.1285);
});

test('about 95% of accelerators are domestic (the national network figure)', () => {
  let all = 0;
  let nvidia = 0;
  for (const c of chinaHubs().centers) {
    all += centerCapacity(c).accelerators;
    for (const p of c.pools) if (p.accelerator?.startsWith('nvidia-')) nvidia += p.nodes * p.perNode.accelerators;
  }
  assert.ok(nvidia / all <= 0.05, `${nvidia} of ${all}`);
});

test('latency from distance: Beijing–Shanghai (1,067 km) gives the data sheet floor 10.7 ms round trip, 16 ms on real routes', () => {
  const km = greatCircleKm([39.9, 116.4], [31.23, 121.47]);
  assert.ok(Math.abs(km - 1067) < 2, String(km));
  assert.equal(routeLatencyMs(km) * 2, 16);
});
