import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainServing, rankServingOptions, regionLatencyMs } from './serving.js';
import type { Link, PlacementOption } from './types.js';

function option(center: string, costFen: number, carbonKg: number): PlacementOption {
  return {
    centerId: center,
    centerName: center,
    poolId: `${center}-pool`,
    poolName: 'pool',
    accelerator: null,
    start: 'now',
    startAt: 0,
    stageInSeconds: 0,
    runSeconds: 60,
    completionAt: 60_000,
    efficiency: 1,
    computeFen: costFen,
    egressFen: 0,
    costFen,
    energyKwh: 1,
    carbonKg,
    score: 0,
  };
}

const links: Link[] = [
  { fromRegion: 'shanghai', toRegion: 'ningxia', bandwidthMbps: 10_000, latencyMs: 12.5, egressFenPerGB: 50 },
  { fromRegion: 'shanghai', toRegion: 'guizhou', bandwidthMbps: 10_000, latencyMs: 11.5, egressFenPerGB: 50 },
];
const regions: Record<string, string> = { east: 'shanghai', west: 'ningxia', south: 'guizhou', east2: 'shanghai' };
const regionOf = (c: string) => regions[c]!;

describe('serving placement', () => {
  it('latency: 0 within a region, a link either way, Infinity without one', () => {
    assert.equal(regionLatencyMs(links, 'shanghai', 'shanghai'), 0);
    assert.equal(regionLatencyMs(links, 'ningxia', 'shanghai'), 12.5);
    assert.equal(regionLatencyMs(links, 'ningxia', 'guizhou'), Infinity);
  });

  const cases: [string, PlacementOption[], string, string[]][] = [
    ['nearest first even when dearer and dirtier', [option('west', 100, 0.1), option('east', 1000, 0.6)], 'shanghai', ['east', 'west']],
    ['then the next nearest', [option('west', 100, 0.1), option('south', 500, 0.5)], 'shanghai', ['south', 'west']],
    ['at equal latency: cheaper and greener', [option('east', 1000, 0.6), option('east2', 500, 0.3)], 'shanghai', ['east2', 'east']],
    ['callers in the west get the west', [option('east', 1000, 0.6), option('west', 100, 0.1)], 'ningxia', ['west', 'east']],
    ['ties keep the given order', [option('east2', 500, 0.3), option('east', 500, 0.3)], 'shanghai', ['east2', 'east']],
  ];
  for (const [name, options, caller, expected] of cases) {
    it(name, () => {
      assert.deepEqual(rankServingOptions(options, regionOf, caller, links).map((o) => o.option.centerId), expected);
    });
  }

  it('explains the choice against the others, and says when nothing can serve', () => {
    const e = explainServing([option('west', 100, 0.1), option('east', 1000, 0.6)], [], regionOf, 'shanghai', links);
    assert.equal(e.chosen!.option.centerId, 'east');
    assert.match(e.summary, /^nearest to callers in shanghai: east\/pool \(shanghai, 0 ms, ¥10\.00, 0\.60 kg CO2e\); vs west\/pool \(ningxia, 12\.5 ms/);
    const none = explainServing([], [{ centerId: 'x', centerName: 'x', poolId: null, poolName: null, reason: 'no-accelerator', detail: '' }], regionOf, 'shanghai', links);
    assert.equal(none.chosen, null);
    assert.match(none.summary, /no-accelerator/);
  });
});
