import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fen } from '../core/money.js';
import { DEFAULT_THRESHOLDS_BPS, admit, alertsToFire, periodOf, whenToStop, type Budget, type BudgetAlert } from './budgets.js';
import { BPS, HOUR_MS, chargeFor, type PriceBookVersion } from './pricing.js';

const T = Date.UTC(2026, 2, 10); // 10 March 2026

/** A monthly budget of `limit` fen for org acme (Beijing time), or for one of its projects. */
function monthly(id: string, limit: number, more: Partial<Budget> = {}): Budget {
  return { id, orgId: 'acme', projectId: null, limit: fen(limit), period: { kind: 'month', utcOffsetHours: 8 }, thresholdsBps: DEFAULT_THRESHOLDS_BPS, onExhaustion: 'finish', ...more };
}

function gpuBook(fenPerGpuHour: number, peak = false): PriceBookVersion {
  return {
    poolId: 'p',
    version: 1,
    effectiveFrom: 0,
    accelerator: 'ascend-910b',
    rates: { fenPerAcceleratorHour: fen(fenPerGpuHour), fenPerCoreHour: fen(0), fenPerGiBHour: fen(0) },
    timeOfUse: peak ? { utcOffsetHours: 8, factorsBps: Array.from({ length: 24 }, (_, h) => (h < 8 ? 5000 : h >= 18 ? 15_000 : BPS)) } : null,
    billingWeights: null,
  };
}
const oneGpu = { nodes: 1, perNode: { accelerators: 1, cores: 0, memoryGiB: 0 } };

describe('budget periods', () => {
  const cases: readonly [name: string, Budget, at: number, period: { from: number; until: number } | undefined][] = [
    ['March in Beijing', monthly('b', 1), T, { from: Date.UTC(2026, 1, 28, 16), until: Date.UTC(2026, 2, 31, 16) }],
    ['1 Feb 01:00 in Beijing is February', monthly('b', 1), Date.UTC(2026, 0, 31, 17), { from: Date.UTC(2026, 0, 31, 16), until: Date.UTC(2026, 1, 28, 16) }],
    ['December runs into the next year', monthly('b', 1, { period: { kind: 'month', utcOffsetHours: 0 } }), Date.UTC(2026, 11, 31, 23), { from: Date.UTC(2026, 11, 1), until: Date.UTC(2027, 0, 1) }],
    ['inside a custom window', monthly('b', 1, { period: { kind: 'window', from: T, until: T + 10 } }), T + 9, { from: T, until: T + 10 }],
    ['after a custom window', monthly('b', 1, { period: { kind: 'window', from: T, until: T + 10 } }), T + 10, undefined],
  ];
  for (const [name, budget, at, period] of cases) it(name, { timeout: 5000 }, () => assert.deepEqual(periodOf(budget, at), period));
});

describe('budget alerts', () => {
  const b = monthly('b', 10_000);
  const march = periodOf(b, T)!.from;
  const fired = (...bps: number[]): BudgetAlert[] => bps.map((thresholdBps) => ({ budgetId: 'b', periodFrom: march, thresholdBps }));
  const cases: readonly [name: string, spent: number, already: BudgetAlert[], at: number, fires: number[]][] = [
    ['below 80% nothing fires', 7999, [], T, []],
    ['at 80% the first alert fires', 8000, [], T, [8000]],
    ['a jump past both fires both', 12_000, [], T, [8000, 10_000]],
    ['an alert fires once per period', 12_000, fired(8000), T, [10_000]],
    ['both fired: nothing more', 12_000, fired(8000, 10_000), T, []],
    ['next month they fire again', 9000, fired(8000, 10_000), Date.UTC(2026, 3, 2), [8000]],
  ];
  for (const [name, spent, already, at, fires] of cases) {
    it(name, { timeout: 5000 }, () => assert.deepEqual(alertsToFire(b, at, fen(spent), already).map((a) => a.thresholdBps), fires));
  }
});

describe('admit', () => {
  const org = monthly('org', 100_000);
  const project = monthly('proj', 20_000, { projectId: 'p1' });
  it('admits a job the balance and budgets cover', { timeout: 5000 }, () => assert.deepEqual(admit(fen(5000), fen(10_000), [org, project], { org: fen(50_000), proj: fen(15_000) }), { ok: true }));
  it('refuses with 402 and the figures when the balance is short', { timeout: 5000 }, () => {
    const r = admit(fen(10_001), fen(10_000), [org], {});
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.code === 'insufficient_funds' && r.status === 402 && r.estimatedMax === 10_001 && r.remainingBalance === 10_000);
  });
  it('refuses with 422 naming the budget that would be overdrawn', { timeout: 5000 }, () => {
    const r = admit(fen(5001), fen(1_000_000), [org, project], { org: fen(0), proj: fen(15_000) });
    assert.ok(!r.ok && r.code === 'over_budget' && r.status === 422 && r.budgetId === 'proj' && r.limit === 20_000 && r.spent === 15_000, JSON.stringify(r));
    assert.match(r.message, /5000 fen left of 20000/);
  });
  it('a job that exactly uses up the budget is admitted', { timeout: 5000 }, () => assert.equal(admit(fen(5000), fen(5000), [project], { proj: fen(15_000) }).ok, true));
});

describe('whenToStop', () => {
  it('under finish a job is never stopped early', { timeout: 5000 }, () => assert.equal(whenToStop('finish', oneGpu, gpuBook(1000), T, T + HOUR_MS, fen(0)), null));
  it('under stop-at-limit it stops at the last millisecond still within the limit', { timeout: 5000 }, () => {
    // 1000 fen an hour: the bill rounds to 500 fen until 0.5005 h.
    assert.equal(whenToStop('stop-at-limit', oneGpu, gpuBook(1000), T, T + HOUR_MS, fen(500)), T + 1_801_799);
  });
  it('a job that cannot reach the limit runs to its end', { timeout: 5000 }, () => assert.equal(whenToStop('stop-at-limit', oneGpu, gpuBook(1000), T, T + HOUR_MS, fen(1000)), T + HOUR_MS));

  it('property: the stop time is the last one whose bill fits the remaining money', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.boolean(), fc.integer({ min: 0, max: 48 * HOUR_MS }), fc.integer({ min: 1, max: 72 * HOUR_MS }), fc.integer({ min: 0, max: 1_000_000 }), (rate, peak, offset, length, remaining) => {
        const book = gpuBook(rate, peak);
        const start = T + offset;
        const stop = whenToStop('stop-at-limit', oneGpu, book, start, start + length, fen(remaining))!;
        const cost = (t: number) => chargeFor({ ...oneGpu, startedAt: start, endedAt: t }, book).total;
        assert.ok(stop >= start && stop <= start + length);
        assert.ok(cost(stop) <= remaining, `bill at stop ${cost(stop)} > ${remaining}`);
        if (stop < start + length) assert.ok(cost(stop + 1) > remaining, 'stopped earlier than needed');
      }),
      { numRuns: 300 },
    );
  });
});

describe('alert property', () => {
  it('over rising spending in one period, each threshold fires exactly once, as soon as it is reached', { timeout: 60_000 }, () => {
    // Limits in whole yuan and thresholds in whole percent make spending land exactly on a threshold often.
    const limitArb = fc.oneof(fc.integer({ min: 1, max: 20 }).map((k) => k * 100), fc.integer({ min: 1, max: 100_000 }));
    const thresholdsArb = fc.uniqueArray(fc.oneof(fc.constantFrom(2500, 5000, 8000, 10_000, 12_000), fc.integer({ min: 1, max: 15_000 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(limitArb, fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 30 }), thresholdsArb, (limit, steps, thresholds) => {
        const b = monthly('b', limit, { thresholdsBps: thresholds });
        const fired: BudgetAlert[] = [];
        let spent = 0;
        for (const step of steps) {
          spent += step;
          fired.push(...alertsToFire(b, T, fen(spent), fired));
          for (const t of thresholds) {
            const reached = spent * BPS >= limit * t;
            assert.equal(fired.filter((a) => a.thresholdBps === t).length, reached ? 1 : 0, `threshold ${t} at ${spent}/${limit}`);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
