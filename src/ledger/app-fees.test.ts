import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fen } from '../core/money.js';
import { SuanwangError } from '../core/errors.js';
import { appCharge, appFee, checkShares, splitFee, type AppPrice, type FeeShares } from './app-fees.js';
import { HOUR_MS } from './pricing.js';

/** Shares in percent: provider, center, operator. */
const shares = (provider: number, center: number, operator: number): FeeShares => ({ providerBps: provider * 100, centerBps: center * 100, operatorBps: operator * 100 });
const perRun = (f: number): AppPrice => ({ kind: 'per-run', fen: f });
const perHour = (f: number): AppPrice => ({ kind: 'per-hour', fenPerHour: f });

describe('app fees', () => {
  const fees: readonly [AppPrice, runMs: number, fee: number][] = [
    [{ kind: 'free' }, HOUR_MS, 0],
    [perRun(500), 0, 500],
    [perRun(500), 10 * HOUR_MS, 500],
    [perHour(300), 90 * 60_000, 450],
    [perHour(1), HOUR_MS / 2, 1], // half a fen rounds up
    [perHour(1), HOUR_MS / 2 - 1, 0],
  ];
  for (const [price, runMs, fee] of fees) {
    it(`${price.kind} for ${runMs / 60_000} min costs ${fee}`, { timeout: 5000 }, () => assert.equal(appFee(price, runMs), fee));
  }

  const splits: readonly [amount: number, FeeShares, provider: number, center: number, operator: number][] = [
    [1000, shares(70, 20, 10), 700, 200, 100],
    [1, shares(70, 20, 10), 0, 0, 1], // the remainder goes to the operator
    [999, shares(33, 33, 34), 329, 329, 341],
    [0, shares(70, 20, 10), 0, 0, 0],
  ];
  for (const [amount, s, provider, center, operator] of splits) {
    it(`${amount} fen at ${s.providerBps}/${s.centerBps}/${s.operatorBps} bps splits ${provider}/${center}/${operator}`, { timeout: 5000 }, () => {
      assert.deepEqual(splitFee(fen(amount), s), { provider, center, operator });
    });
  }

  it('refuses shares that do not add up to 100%, naming them', { timeout: 5000 }, () => {
    assert.throws(() => checkShares(shares(70, 20, 5)), (e: unknown) => e instanceof SuanwangError && e.field === 'shares');
    assert.throws(() => checkShares({ providerBps: 10_000.5, centerBps: 0, operatorBps: -0.5 }), (e: unknown) => e instanceof SuanwangError && e.field === 'shares.providerBps');
  });

  it('appCharge gives the fee and its split', { timeout: 5000 }, () => {
    assert.deepEqual(appCharge(perHour(300), 2 * HOUR_MS, shares(70, 20, 10)), { amount: 600, split: { provider: 420, center: 120, operator: 60 } });
  });
});

describe('app fee properties', () => {
  const sharesArb = fc
    .tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }))
    .map(([a, b]) => ({ providerBps: Math.min(a, b), centerBps: Math.max(a, b) - Math.min(a, b), operatorBps: 10_000 - Math.max(a, b) }));
  it('the split adds up to the fee exactly, and provider and center never get more than their share', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), sharesArb, (amount, s) => {
        const split = splitFee(fen(amount), s);
        assert.equal(split.provider + split.center + split.operator, amount);
        assert.ok(split.provider * 10_000 <= amount * s.providerBps && split.center * 10_000 <= amount * s.centerBps);
        assert.ok(split.operator >= 0 && split.operator - (amount * s.operatorBps) / 10_000 < 2, 'the operator gets at most 2 fen over its share');
      }),
      { numRuns: 1000 },
    );
  });
});
