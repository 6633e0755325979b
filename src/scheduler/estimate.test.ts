import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { priceOf } from '../core/money.js';
import { center, cpuPool, HOUR, job, NOW, pool } from './fixtures.js';
import {
  boardWatts,
  carbonIntensityAt,
  costOf,
  DEFAULT_BOARD_WATTS,
  estimate,
  localHour,
  quoteOptions,
  relativeTo,
  scoreEstimates,
  type Estimate,
} from './index.js';

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected}`);

// Dirtiest at every hour but 10:00 local, the fixtures' NOW in China.
const cleanAtTen = Array.from({ length: 24 }, (_, h) => (h === 10 ? 0.3 : 0.9));

describe('estimate', () => {
  it('prices accelerator-hours and core-hours, and counts board, core and cooling power', () => {
    const east = center('east', { pue: 1.25, carbonKgPerKwh: cleanAtTen, pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000, fenPerCoreHour: 10 })] });
    const e = estimate(job({ gpus: 2, cores: 16, hours: 1.5 }), east, east.pools[0]!, NOW);
    assert.equal(e.startAt, NOW);
    assert.equal(e.runSeconds, 1.5 * HOUR);
    assert.equal(e.costFen, 1.5 * (2 * 1000 + 16 * 10));
    close(e.energyKwh, ((2 * 400 + 16 * 10) * 1.5 * 1.25) / 1000); // A100 boards draw 400 W
    close(e.carbonKg, e.energyKwh * 0.3);
  });

  it('charges the gang for every node', () => {
    const east = center('east', { pools: [pool('ascend-910b', { fenPerAcceleratorHour: 800, fenPerCoreHour: 0 })] });
    assert.equal(estimate(job({ gpus: 8, nodes: 4 }), east, east.pools[0]!, NOW).costFen, 4 * 8 * 800);
  });

  it('charges a CPU job on an accelerator pool for its cores only', () => {
    const east = center('east', { pools: [pool('nvidia-a100', { fenPerAcceleratorHour: 1000, fenPerCoreHour: 20 })] });
    const e = estimate(job({ cores: 4 }), east, east.pools[0]!, NOW);
    assert.equal(e.costFen, 80);
    close(e.energyKwh, (4 * 10 * 1.25) / 1000);
  });

  it('rounds half a fen up, exactly', () => {
    assert.equal(costOf(45, 520), 7); // 45 fen/h for 520 s is 6.5 fen
    assert.equal(priceOf(45, 520 / 3600), 6, 'the hours-first product lands under the half');
    assert.equal(costOf(1, 1799), 0);
    assert.equal(costOf(1, 1800), 1);
    const cpu = center('c', { pools: [cpuPool({ fenPerCoreHour: 3 })] });
    assert.equal(estimate(job({ cores: 1, walltimeSeconds: 600 }), cpu, cpu.pools[0]!, NOW).costFen, 1);
  });

  it('assumes 300 W for a board the table has no figure for', () => {
    assert.equal(boardWatts('nvidia-a100'), 400);
    assert.equal(boardWatts('ascend-910c'), DEFAULT_BOARD_WATTS); // listed, power not published
    assert.equal(boardWatts('acme-x1'), DEFAULT_BOARD_WATTS); // not listed
    assert.equal(boardWatts(null), 0);
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
  const e = (costFen: number, runSeconds: number, carbonKg: number): Estimate =>
    ({ startAt: NOW, runSeconds, costFen, energyKwh: 1, carbonKg }) as Estimate;

  it('scores each objective by its own figure', () => {
    const options = [e(100, 3600, 2), e(200, 1800, 1)];
    assert.deepEqual(scoreEstimates('cheapest', options, NOW), [100, 200]);
    assert.deepEqual(scoreEstimates('fastest', options, NOW), [3600, 1800]);
    assert.deepEqual(scoreEstimates('greenest', options, NOW), [2, 1]);
    assert.deepEqual(scoreEstimates('balanced', options, NOW), [1 + 2 + 2, 2 + 1 + 1]);
    assert.deepEqual(scoreEstimates('balanced', [], NOW), []);
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
    ];
    const quote = quoteOptions(job({ gpus: 1, cores: 0 }), centers, NOW);
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
        ['west', 'cpu', 'no-accelerator'],
      ],
    );
  });
});
