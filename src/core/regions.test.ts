import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REGION_PLACES, regionPlace } from './regions.js';

describe('regionPlace', () => {
  it('places the eight national hubs, four east and four west, inside China', () => {
    const hubs = Object.entries(REGION_PLACES).filter(([, p]) => p.hub !== null);
    assert.equal(hubs.length, 8);
    assert.equal(hubs.filter(([, p]) => p.hub === 'west').length, 4);
    for (const [name, p] of Object.entries(REGION_PLACES)) {
      assert.ok(p.lon > 73 && p.lon < 135 && p.lat > 18 && p.lat < 54, `${name} at ${p.lon}, ${p.lat}`);
    }
  });
  it('reads names loosely and knows when it does not know', () => {
    assert.deepEqual(regionPlace('Inner Mongolia'), REGION_PLACES['inner-mongolia']);
    assert.deepEqual(regionPlace(' NINGXIA '), REGION_PLACES.ningxia);
    assert.equal(regionPlace('atlantis'), null);
    assert.equal(regionPlace('constructor'), null);
  });
});
