import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { priceOf } from '../core/money.js';
import { center, cpuPool, dataset, HOUR, HOUR_MS, hours, job, link, NOW, pool } from './fixtures.js';
import {
  boardWatts,
  carbonIntensityAt,
  chipSpeed,
  costOf,
  DataRoutes,
  DEFAULT_BOARD_WATTS,
  estimate,
  HourlyCurve,
  localHour,
  quoteOptions,
  relativeTo,
  SAME_REGION_LINK,
  scoreEstimates,
  speedRatio,
  type PendingJob,
} from './index.js';

const close = (actual: number, expected: number, eps = 1e-9) => assert.ok(Math.abs(actual - expected) < eps, `${actual} ≠ ${expected}`);
const at = { now: NOW };

// Dirtiest at every hour but 10:00 local, the fixtures' NOW in China.
const cleanAtTen = Array.from({ length: 24 }, (_, h) => (h === 10 ? 0.3 : 0.9));

describe('estimate', () => {
  it('prices accelerator-hours and core-hours, and counts board, core and cooling power', () => {
    const east = center('east', { pue: 1.25, carbonKgPerKwh: 0.3, pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000, fenPerCoreHour: 10 })] });
    const e = estimate(job({ gpus: 2, cores: 16, hours: 1.5 }), east, east.pools[0]!, at);
    assert.equal(e.start, 'now');
    assert.equal(e.startAt, NOW);
    assert.equal(e.stageInSeconds, 0);
    assert.equal(e.runSeconds, 1.5 * HOUR, 'no run time estimate: the walltime');
    assert.equal(e.completionAt, NOW + 1.5 * HOUR_MS);
    assert.equal(e.efficiency, 1);
    assert.equal(e.computeFen, 1.5 * (2 * 1000 + 16 * 10));
    assert.equal(e.egressFen, 0);
    assert.equal(e.costFen, e.computeFen);
    close(e.energyKwh, ((2 * 400 + 16 * 10) * 1.5 * 1.25) / 1000); // A100 boards draw 400 W
    close(e.carbonKg, e.energyKwh * 0.3);
  });

  it('adds up the carbon of every hour the run spans, not just the start hour', () => {
    const east = center('east', { pue: 1, carbonKgPerKwh: cleanAtTen, pools: [pool('nvidia-a100')] });
    const e = estimate(job({ gpus: 1, cores: 0, hours: 1.5 }), east, east.pools[0]!, at);
    // 400 W: 0.4 kWh in the clean hour (10:00–11:00), 0.2 kWh in the dirty half hour after.
    close(e.carbonKg, 0.4 * 0.3 + 0.2 * 0.9);
  });

  it('charges the gang for every node', () => {
    const east = center('east', { pools: [pool('ascend-910b', { fenPerAcceleratorHour: 800, fenPerCoreHour: 0 })] });
    assert.equal(estimate(job({ gpus: 8, nodes: 4 }), east, east.pools[0]!, at).costFen, 4 * 8 * 800);
  });

  it('charges a CPU job on an accelerator pool for its cores only', () => {
    const east = center('east', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000, fenPerCoreHour: 20 })] });
    const e = estimate(job({ cores: 4 }), east, east.pools[0]!, at);
    assert.equal(e.costFen, 80);
    assert.equal(e.efficiency, null);
    close(e.energyKwh, (4 * 10 * 1.25) / 1000);
  });

  it('rounds half a fen up, exactly', () => {
    assert.equal(costOf(45, 520), 7); // 45 fen/h for 520 s is 6.5 fen
    assert.equal(priceOf(45, 520 / 3600), 6, 'the hours-first product lands under the half');
    assert.equal(costOf(1, 1799), 0);
    assert.equal(costOf(1, 1800), 1);
    const cpu = center('c', { pools: [cpuPool({ fenPerCoreHour: 3 })] });
    assert.equal(estimate(job({ cores: 1, walltimeSeconds: 600 }), cpu, cpu.pools[0]!, at).costFen, 1);
  });

  it('assumes 300 W for a board the table has no figure for', () => {
    assert.equal(boardWatts('nvidia-a100'), 400);
    assert.equal(boardWatts('ascend-910c'), DEFAULT_BOARD_WATTS); // listed, power not published
    assert.equal(boardWatts('acme-x1'), DEFAULT_BOARD_WATTS); // not listed
    assert.equal(boardWatts(null), 0);
  });

  it('prices each hour of the run at its time-of-use factor', () => {
    // Half price from 11:00: a 2-hour run from 10:00 pays one full hour and one half hour.
    const factors = hours(1, 0.5, 11, 24);
    const east = center('east', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000, fenPerCoreHour: 0, priceFactorByHour: factors })] });
    const e = estimate(job({ gpus: 1, hours: 2 }), east, east.pools[0]!, at);
    assert.equal(e.computeFen, 1000 + 500);
    const later = estimate(job({ gpus: 1, hours: 2 }), east, east.pools[0]!, at, NOW + HOUR_MS, 'deferred');
    assert.equal(later.computeFen, 1000, 'from 11:00 every hour is at half price');
    assert.equal(later.start, 'deferred');
  });
});

describe('run time on a chip', () => {
  // Reference A100 (312 FP16 TFLOPS); H100 989, Ascend 910B 320, MLU370-X8 96; Hygon Z100: unknown.
  const app = { 'nvidia-a100': 1, 'nvidia-h100': 0.8, 'ascend-910b': 0.9, 'cambricon-mlu370-x8': 0.5, 'hygon-z100': 0.7 };
  const cases: readonly [name: string, spec: Parameters<typeof job>[0], chip: string, seconds: number][] = [
    ['on the reference chip itself', { adaptation: app }, 'nvidia-a100', 10 * HOUR],
    ['on a faster chip, less well tuned', { adaptation: app }, 'nvidia-h100', (10 * HOUR * 312) / (989 * 0.8)],
    ['on a domestic chip of about the same speed', { adaptation: app }, 'ascend-910b', (10 * HOUR * 312) / (320 * 0.9)],
    ['on a slow chip at half efficiency', { adaptation: app }, 'cambricon-mlu370-x8', (10 * HOUR * 312) / (96 * 0.5)],
    ['on a chip whose speed is not published: as fast as the reference', { adaptation: app }, 'hygon-z100', (10 * HOUR) / 0.7],
    ['against another reference chip', { adaptation: app, reference: 'ascend-910b' }, 'nvidia-a100', (10 * HOUR * 320) / 312],
    ['by FP32 when the app says so', { adaptation: app, speedMetric: 'fp32' }, 'nvidia-h100', (10 * HOUR * 19.5) / (67 * 0.8)],
    ['a raw command at efficiency 1', {}, 'nvidia-h100', (10 * HOUR * 312) / 989],
  ];
  for (const [name, spec, chip, seconds] of cases) {
    it(`${name} (${chip})`, () => {
      const j = job({ gpus: 8, runtimeHours: 10, hours: 100, ...spec });
      const c = center('c', { pools: [pool(chip)] });
      close(estimate(j, c, c.pools[0]!, at).runSeconds, seconds, 1e-6);
    });
  }

  it('leaves CPU jobs at their estimate on any pool, and unknown estimates at the walltime', () => {
    const c = center('c', { pools: [pool('nvidia-h100'), cpuPool()] });
    for (const p of c.pools) {
      assert.equal(estimate(job({ cores: 8, runtimeHours: 3, hours: 5 }), c, p, at).runSeconds, 3 * HOUR);
      assert.equal(estimate(job({ gpus: 1, hours: 5 }), c, c.pools[0]!, at).runSeconds, 5 * HOUR);
    }
  });

  it('reads speeds from the accelerator table', () => {
    assert.equal(chipSpeed('nvidia-a100', 'fp16'), 312);
    assert.equal(chipSpeed('ascend-910b', 'fp32'), null);
    assert.equal(chipSpeed('acme-x1', 'fp16'), null);
    assert.equal(speedRatio('nvidia-a100', 'nvidia-a100', 'fp16'), 1);
    assert.equal(speedRatio('hygon-z100', 'nvidia-h100', 'fp16'), 1, 'an unknown reference compares as equal');
  });
});

describe('stage-in and egress', () => {
  const datasets = [
    dataset('weights', { gb: 100, regions: ['east'] }),
    dataset('corpus', { gb: 1000, regions: ['east', 'north'] }),
    dataset('nowhere', { gb: 1, regions: [] }),
    dataset('logs', { gb: 10, regions: ['west'] }),
  ];
  const links = [
    link('east', 'west', { mbps: 10_000, latencyMs: 30, fenPerGB: 20 }),
    link('north', 'west', { mbps: 40_000, latencyMs: 20, fenPerGB: 50 }),
  ];
  const routes = new DataRoutes(links, datasets);
  const cases: readonly [name: string, inputs: string[], region: string, seconds: number, fen: number, unreachable: string | null][] = [
    ['nothing to move', [], 'west', 0, 0, null],
    ['within the region: free and fast', ['weights'], 'east', (100e9 * 8) / (SAME_REGION_LINK.bandwidthMbps * 1e6), 0, null],
    ['over a link: latency, bytes at its bandwidth, egress by GB', ['weights'], 'west', 0.03 + (100e9 * 8) / 10e9, 100 * 20, null],
    ['from the nearest replica (the fastest transfer), even when dearer', ['corpus'], 'west', 0.02 + (1000e9 * 8) / 40e9, 1000 * 50, null],
    ['a link serves both directions', ['logs'], 'east', 0.03 + 8, 200, null],
    ['one input after another, each once', ['weights', 'corpus', 'weights'], 'west', 0.03 + 80 + 0.02 + 200, 2000 + 50_000, null],
    ['no link from any replica', ['weights'], 'south', Infinity, 0, 'weights'],
    ['no replica anywhere', ['nowhere'], 'east', Infinity, 0, 'nowhere'],
    ['an unknown dataset', ['ghost'], 'east', Infinity, 0, 'ghost'],
  ];
  for (const [name, inputs, region, seconds, fen, unreachable] of cases) {
    it(name, () => {
      const s = routes.stageIn(
        inputs.map((datasetId) => ({ datasetId })),
        region,
      );
      if (Number.isFinite(seconds)) close(s.seconds, seconds, 1e-9);
      else assert.equal(s.seconds, Infinity);
      assert.equal(s.egressFen, fen);
      assert.equal(s.unreachable, unreachable);
    });
  }

  it('puts stage-in before the run and egress into the cost', () => {
    const west = center('west', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000, fenPerCoreHour: 0 })] });
    const e = estimate(job({ gpus: 1, inputs: ['weights'] }), west, west.pools[0]!, { now: NOW, routes });
    close(e.stageInSeconds, 80.03);
    assert.equal(e.completionAt, NOW + 80.03 * 1000 + HOUR_MS);
    assert.deepEqual([e.computeFen, e.egressFen, e.costFen], [1000, 2000, 3000]);
    // A reservation two hours out hides the transfer.
    const later = estimate(job({ gpus: 1, inputs: ['weights'] }), west, west.pools[0]!, { now: NOW, routes }, NOW + 2 * HOUR_MS, 'reservation');
    assert.equal(later.completionAt, NOW + 3 * HOUR_MS);
  });

  it('sums per-region tables to exactly the one-by-one answer', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('weights', 'corpus', 'nowhere', 'ghost', 'logs'), { maxLength: 4 }), (ids) => {
        const regions = ['east', 'west', 'north', 'south'];
        const r = new DataRoutes(links, datasets, regions);
        const tables: { seconds: Float64Array; fen: Float64Array }[] = [];
        const inputs = ids.map((datasetId) => ({ datasetId }));
        r.tablesOf(inputs, tables);
        regions.forEach((region, i) => {
          const one = r.stageIn(inputs, region);
          const seconds = tables.reduce((s, t) => s + t.seconds[i]!, 0);
          const fen = Math.round(tables.reduce((s, t) => s + t.fen[i]!, 0));
          assert.equal(seconds, one.seconds);
          if (one.unreachable === null) assert.equal(fen, one.egressFen);
        });
      }),
    );
  });
});

describe('hourly curves', () => {
  it('integrates over any span, across midnight and whole days', () => {
    const curve = new HourlyCurve(hours(1, 0.5, 23, 7), 8, 1); // half price 23:00–07:00
    const at = (h: number) => Date.UTC(2025, 0, 15, h - 8, 0, 0); // local hour h on Jan 15
    close(curve.integral(at(22), at(24)), 1 + 0.5);
    close(curve.integral(at(6), at(8)), 0.5 + 1);
    close(curve.integral(at(10), at(10) + 24 * HOUR_MS), 16 + 8 * 0.5);
    close(curve.integral(at(10), at(10) + 3 * 24 * HOUR_MS + 30 * 60_000), 3 * 20 + 0.5);
    assert.equal(curve.integral(at(10), at(10)), 0);
    close(curve.mean(at(22), at(24)), 0.75);
    assert.equal(curve.at(at(23)), 0.5);
    assert.equal(curve.min, 0.5);
    assert.equal(curve.flat, false);
    assert.equal(new HourlyCurve([], 8, 1).flat, true, 'missing hours take the fallback');
  });

  it('finds the next local hour boundary, also at half-hour offsets', () => {
    const c8 = new HourlyCurve([], 8, 0);
    assert.equal(c8.nextHourAfter(NOW), NOW + HOUR_MS);
    assert.equal(c8.nextHourAfter(NOW + 1), NOW + HOUR_MS);
    const c55 = new HourlyCurve([], 5.5, 0);
    assert.equal(c55.nextHourAfter(NOW), NOW + HOUR_MS / 2);
  });

  it('agrees with summing the hours one by one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: 24, maxLength: 24 }),
        fc.integer({ min: 0, max: 48 * 60 }),
        fc.integer({ min: 0, max: 72 * 60 }),
        (values, startMin, lengthMin) => {
          const curve = new HourlyCurve(values, 8, 0);
          const from = NOW + startMin * 60_000;
          let sum = 0;
          for (let m = 0; m < lengthMin; m++) sum += curve.at(from + m * 60_000) / 60; // minutes never straddle an hour
          close(curve.integral(from, from + lengthMin * 60_000), sum, 1e-6);
        },
      ),
    );
  });
});

describe('local time', () => {
  const cases: readonly [utc: string, offset: number, hour: number][] = [
    ['2025-01-15T02:00:00Z', 8, 10],
    ['2025-01-15T17:30:00Z', 8, 1],
    ['2025-01-15T00:30:00Z', -5, 19],
    ['2025-01-15T23:59:59Z', 0, 23],
    ['2025-01-15T20:00:00Z', 5.5, 1],
    ['1969-12-31T23:00:00Z', 0, 23],
  ];
  for (const [utc, offset, hour] of cases) {
    it(`${utc} at UTC${offset >= 0 ? '+' : ''}${offset} is hour ${hour}`, () => {
      assert.equal(localHour(Date.parse(utc), offset), hour);
      assert.equal(new HourlyCurve(Array.from({ length: 24 }, (_, h) => h), offset, 0).at(Date.parse(utc)), hour);
    });
  }

  it('reads the carbon intensity of the local hour', () => {
    const east = center('east', { carbonKgPerKwh: cleanAtTen, utcOffsetHours: 8 });
    assert.equal(carbonIntensityAt(east, NOW), 0.3);
    assert.equal(carbonIntensityAt(east, NOW + HOUR * 1000), 0.9);
    const london = center('london', { carbonKgPerKwh: cleanAtTen, utcOffsetHours: 0 });
    assert.equal(carbonIntensityAt(london, NOW), 0.9);
  });
});

describe('scores', () => {
  const e = (costFen: number, seconds: number, carbonKg: number) => ({ costFen, completionAt: NOW + seconds * 1000, carbonKg });

  it('scores each objective by its own figure', () => {
    const options = [e(100, 3600, 2), e(200, 1800, 1)];
    assert.deepEqual(scoreEstimates('cheapest', options, NOW), [100, 200]);
    assert.deepEqual(scoreEstimates('fastest', options, NOW), [3600, 1800]);
    assert.deepEqual(scoreEstimates('greenest', options, NOW), [2, 1]);
    assert.deepEqual(scoreEstimates('balanced', options, NOW), [1 + 2 + 2, 2 + 1 + 1]);
    assert.deepEqual(scoreEstimates('balanced', [], NOW), []);
  });

  it('weighs the figures as told, a zero weight ignoring its figure', () => {
    const options = [e(100, 3600, 2), e(200, 1800, 1)];
    assert.deepEqual(scoreEstimates({ weights: { cost: 3, time: 1, carbon: 0 } }, options, NOW), [3 + 2, 6 + 1]);
    assert.deepEqual(scoreEstimates({ weights: { cost: 0, time: 0, carbon: 0 } }, options, NOW), [5, 4], 'all zero: balanced');
  });

  it('measures a figure whose best is zero against its worst', () => {
    assert.equal(relativeTo(0, 0, 10), 1);
    assert.equal(relativeTo(10, 0, 10), 2);
    assert.equal(relativeTo(5, 0, 10), 1.5);
    assert.equal(relativeTo(0, 0, 0), 1);
    assert.deepEqual(scoreEstimates('balanced', [e(0, 3600, 0), e(100, 3600, 0)], NOW), [3, 4]);
  });
});

describe('quoteOptions', () => {
  it('lists every pool that could run the job, best first, ignoring load, with the rest explained', () => {
    const centers = [
      center('east', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 3000, busyNodes: 4 })] }),
      center('west', { pools: [pool('ascend-910b', { fenPerAcceleratorHour: 1200 }), cpuPool()] }),
      center('north', { state: 'offline', pools: [pool('nvidia-h100')] }),
      center('south', { region: 'abroad', pools: [pool('nvidia-h100')] }),
    ];
    const j: PendingJob = job({ gpus: 1, cores: 0, regions: ['east', 'west', 'north'] });
    const quote = quoteOptions(j, { now: NOW, centers, links: [], datasets: [] });
    assert.deepEqual(
      quote.options.map((o) => [o.centerName, o.poolName, o.costFen, o.score]),
      [
        ['west', 'ascend-910b', 1200, 1200],
        ['east', 'nvidia-a100', 3000, 3000],
      ],
    );
    assert.deepEqual(
      quote.infeasible.map((i) => [i.centerName, i.poolName, i.reason]),
      [
        ['north', 'nvidia-h100', 'center-offline'],
        ['south', 'nvidia-h100', 'residency-forbids'],
        ['west', 'cpu', 'no-accelerator'],
      ],
    );
  });
});
