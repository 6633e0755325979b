import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../core/clock.js';
import { SimClock } from './sim-clock.js';

test('the simulated clock starts at the trace epoch and converts trace seconds', () => {
  const epochMs = Date.UTC(2021, 2, 4);
  const clock: Clock = new SimClock(epochMs);
  assert.equal(clock.now(), epochMs);
  const sim = clock as SimClock;
  assert.equal(sim.atTraceSeconds(90), epochMs + 90_000);
  sim.advanceTo(sim.atTraceSeconds(90));
  assert.equal(sim.traceSeconds(), 90);
});

test('it moves only forward; staying put is fine', () => {
  const c = new SimClock(0);
  c.advanceTo(1000);
  c.advanceTo(1000);
  assert.throws(() => c.advanceTo(999), /cannot go back from 1000 to 999/);
  assert.throws(() => c.advanceTo(NaN), /cannot go back/);
  assert.equal(c.now(), 1000);
});
