import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DemandProfiler } from '../demand.js';
import { job } from '../fixtures.js';
import { capacityAtLoad, federationNetwork, hubSite, sitePrice } from './federation.js';

const SITES = ['jjj-zhangjiakou', 'cy-tianfu', 'yrd-qingpu', 'gs-qingyang', 'gba-shaoguan'].map(hubSite);

test('capacity at an operating point: offered work ÷ (arrival window × target), whole nodes, never below the largest job', () => {
  const p = new DemandProfiler();
  // c: one arrival, so the window is its span: 16 GPUs busy for 1000 s; at 50% → 32 GPUs = 4 nodes.
  p.add(job('a', { at: 0, run: 1000, gpus: 16, home: 'c' }));
  // t: 1.06 GPUs of demand, but its largest job (64 GPUs, 1 s) needs 8 nodes.
  p.add(job('b', { at: 0, run: 1000, gpus: 1, home: 't' }));
  p.add(job('c', { at: 0, run: 1, gpus: 64, home: 't' }));
  // w: a slice whose jobs arrive over 1000 s and run 4000 s each: 8 × 4 × 4000 GPU-s offered in a
  // window of 1000 s = 128 GPUs while jobs arrive (the span to the last end, 5000 s, would say 25.6).
  for (let i = 0; i < 4; i++) p.add(job(`w${i}`, { at: (1000 * i) / 3, run: 4000, gpus: 8, home: 'w' }));
  const [c, t, w] = p.finish();
  assert.equal(w!.arrivalUnits, 128);
  assert.deepEqual({ units: capacityAtLoad(w!, 0.8, 8).units, nodes: capacityAtLoad(w!, 0.8, 8).nodes }, { units: 160, nodes: 20 });
  const half = capacityAtLoad(c!, 0.5, 8);
  assert.deepEqual({ units: half.units, nodes: half.nodes }, { units: 32, nodes: 4 });
  assert.equal(capacityAtLoad(c!, 0.9, 8).nodes, 3); // 17.8 GPUs → 3 nodes
  const tiny = capacityAtLoad(t!, 0.7, 8);
  assert.equal(tiny.nodes, 8);
  assert.match(tiny.why, /raised to 8 for the largest job \(64 GPUs\)/);
  assert.throws(() => capacityAtLoad(c!, 0, 8), /utilisation must be in \(0, 1\]/);
});

test('federation: one center per cluster at its own site and region; busier load, smaller centers', () => {
  const p = new DemandProfiler();
  for (let i = 1; i <= 5; i++) p.add(job(`j${i}`, { at: 0, run: 3600, gpus: 8 * i, home: `cluster0${i}` }));
  const demands = p.finish();
  const at50 = federationNetwork(demands, { name: 'f', utilisation: 0.5, sites: SITES });
  const at90 = federationNetwork(demands, { name: 'f', utilisation: 0.9, sites: SITES });
  assert.deepEqual(at50.model.centers.map((c) => c.region), ['hebei', 'sichuan', 'shanghai', 'gansu', 'guangdong']);
  assert.deepEqual(at50.capacities.map((c) => c.units), [16, 32, 48, 64, 80]);
  assert.ok(at90.capacities.every((c, i) => c.units <= at50.capacities[i]!.units));
  assert.equal(at50.model.links.length, 10);
  assert.throws(() => federationNetwork(demands, { name: 'f', utilisation: 0.5, sites: SITES.slice(0, 2) }), /5 clusters need 5 sites/);
});

test('prices follow each site’s time of use, so the cheapest site changes by hour and is not always the greenest', () => {
  const hourly = SITES.map((s) => {
    const p = sitePrice(s);
    return p.priceFactorByHour.map((f) => p.fenPerAcceleratorHour * f);
  });
  const carbon = SITES.map((s) => {
    const e = s.energy.carbonKgPerKwh;
    return Array.from({ length: 24 }, (_, h) => (typeof e === 'number' ? e : Array.isArray(e) ? e[h]! : NaN));
  });
  const argmin = (xs: number[]) => xs.indexOf(Math.min(...xs));
  const cheapest = Array.from({ length: 24 }, (_, h) => argmin(hourly.map((x) => x[h]!)));
  const greenest = Array.from({ length: 24 }, (_, h) => argmin(carbon.map((x) => x[h]!)));
  assert.ok(new Set(cheapest).size >= 2, `the cheapest site changes during the day: ${cheapest.join(',')}`);
  const differ = cheapest.filter((c, h) => c !== greenest[h]).length;
  assert.ok(differ >= 8, `cheapest and greenest differ in ${differ} of 24 hours`);
  // Night (03:00): Hebei's valley is cheapest, Sichuan's hydro greenest.
  assert.equal(SITES[cheapest[3]!]!.region, 'hebei');
  assert.equal(SITES[greenest[3]!]!.region, 'sichuan');
});
