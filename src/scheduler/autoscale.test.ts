import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../core/clock.js';
import { combineTraffic, decideReplicas, FRESH_MEMORY, type AutoscaleMemory, type AutoscaleObservation, type AutoscaleSettings } from './autoscale.js';

const settings: AutoscaleSettings = { min: 1, max: 4, targetConcurrency: 4, targetRps: null, scaleUpDelayMs: 2_000, scaleDownDelayMs: 10_000, idleToZeroMs: 30_000 };
const T0 = 1_000_000;

function seen(o: Partial<AutoscaleObservation>): AutoscaleObservation {
  return { replicas: 1, concurrency: 0, rps: 0, held: 0, lastActivityAt: T0, ...o };
}

describe('autoscale policy', () => {
  it('keeps min while there are callers', () => {
    const d = decideReplicas(settings, seen({ concurrency: 2 }), FRESH_MEMORY, new ManualClock(T0 + 1000));
    assert.deepEqual([d.replicas, d.reason], [1, 'min 1']);
  });

  it('scales up only once the need has lasted the up delay', () => {
    const clock = new ManualClock(T0);
    let d = decideReplicas(settings, seen({ concurrency: 9 }), FRESH_MEMORY, clock);
    assert.deepEqual([d.replicas, d.wanted], [1, 3]);
    clock.advance(1_999);
    d = decideReplicas(settings, seen({ concurrency: 9, lastActivityAt: clock.now() }), d.memory, clock);
    assert.equal(d.replicas, 1);
    clock.advance(1);
    d = decideReplicas(settings, seen({ concurrency: 9, lastActivityAt: clock.now() }), d.memory, clock);
    assert.deepEqual([d.replicas, d.reason], [3, '9 in flight over 4 per replica']);
  });

  it('a dip in the middle restarts the up delay (no flapping on a blip)', () => {
    const clock = new ManualClock(T0);
    let d = decideReplicas(settings, seen({ concurrency: 9 }), FRESH_MEMORY, clock);
    clock.advance(1_500);
    d = decideReplicas(settings, seen({ concurrency: 1, lastActivityAt: clock.now() }), d.memory, clock);
    clock.advance(1_500);
    d = decideReplicas(settings, seen({ concurrency: 9, lastActivityAt: clock.now() }), d.memory, clock);
    assert.equal(d.replicas, 1);
  });

  it('caps at max and scales down after the down delay', () => {
    const clock = new ManualClock(T0);
    const up = decideReplicas(settings, seen({ replicas: 4, concurrency: 100 }), FRESH_MEMORY, clock);
    assert.match(up.reason, /capped at max 4/);
    let d = decideReplicas(settings, seen({ replicas: 4, concurrency: 1 }), FRESH_MEMORY, clock);
    assert.equal(d.replicas, 4);
    clock.advance(10_000);
    d = decideReplicas(settings, seen({ replicas: 4, concurrency: 1, lastActivityAt: clock.now() }), d.memory, clock);
    assert.equal(d.replicas, 1);
  });

  it('scales on request rate when asked to', () => {
    const d = decideReplicas({ ...settings, targetRps: 10 }, seen({ replicas: 0, rps: 35, held: 1 }), FRESH_MEMORY, new ManualClock(T0));
    assert.deepEqual([d.replicas, d.reason], [4, '35.0 req/s over 10 per replica (cold start)']);
  });

  it('goes to zero after idle, and from zero a held request brings one back at once', () => {
    const clock = new ManualClock(T0 + 30_000);
    let d = decideReplicas({ ...settings, scaleDownDelayMs: 0 }, seen({}), FRESH_MEMORY, clock);
    assert.deepEqual([d.replicas, d.reason], [0, 'idle for 30 s: to zero']);
    d = decideReplicas(settings, seen({ replicas: 0, held: 1, lastActivityAt: clock.now() }), d.memory, clock);
    assert.deepEqual([d.replicas, d.reason], [1, 'min 1 (cold start)']);
  });

  it('property: always within [0, max], at least 1 while a request is held, never below min before idle', () => {
    fc.assert(
      fc.property(
        fc.record({ replicas: fc.integer({ min: 0, max: 6 }), concurrency: fc.integer({ min: 0, max: 50 }), rps: fc.double({ min: 0, max: 100, noNaN: true }), held: fc.integer({ min: 0, max: 5 }), idle: fc.integer({ min: 0, max: 60_000 }) }),
        fc.record({ upSince: fc.option(fc.integer({ min: T0 - 60_000, max: T0 })), downSince: fc.option(fc.integer({ min: T0 - 60_000, max: T0 })) }),
        (o, memory: AutoscaleMemory) => {
          const d = decideReplicas({ ...settings, targetRps: 5 }, { ...o, lastActivityAt: T0 - o.idle }, memory, new ManualClock(T0));
          assert.ok(d.replicas >= 0 && d.replicas <= settings.max);
          if (o.held > 0) assert.ok(d.replicas >= 1, `held ${o.held} but ${d.replicas} replicas`);
          if (o.idle < 30_000 && o.replicas >= settings.min) assert.ok(d.replicas >= settings.min);
        },
      ),
    );
  });
});

describe('traffic of every control-plane process', () => {
  const own = { processId: 'a', at: T0, peak: 3, arrivals: 10, held: 0, elapsedMs: 500, lastActivityAt: T0 - 100 };
  it("adds up every process's peak, rate and held requests; the latest activity counts", () => {
    const others = [
      { processId: 'b', at: T0 - 200, peak: 5, arrivals: 20, held: 1, elapsedMs: 1000, lastActivityAt: T0 - 50 },
      { processId: 'a', at: T0 - 400, peak: 99, arrivals: 99, held: 9, elapsedMs: 500, lastActivityAt: T0 }, // this process's own last report: replaced by `own`
    ];
    assert.deepEqual(combineTraffic(own, others, T0, 1500), { concurrency: 8, rps: 20 + 20, held: 1, lastActivityAt: T0 - 50 });
  });
  it("leaves out a stopped process's old report", () => {
    const stale = [{ processId: 'c', at: T0 - 2000, peak: 50, arrivals: 500, held: 3, elapsedMs: 500, lastActivityAt: T0 - 1900 }];
    assert.deepEqual(combineTraffic(own, stale, T0, 1500), { concurrency: 3, rps: 20, held: 0, lastActivityAt: T0 - 100 });
  });
  it('a follower alone sees the load: the leader scales up on it', () => {
    const follower = [{ processId: 'b', at: T0, peak: 12, arrivals: 40, held: 0, elapsedMs: 500, lastActivityAt: T0 }];
    const idle = { ...own, peak: 0, arrivals: 0 };
    const traffic = combineTraffic(idle, follower, T0, 1500);
    const d = decideReplicas(settings, seen({ replicas: 1, ...traffic }), { upSince: T0 - 3000, downSince: null }, new ManualClock(T0));
    assert.equal(d.replicas, 3);
  });
});
