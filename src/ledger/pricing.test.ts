import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Fen } from '../core/money.js';
import { SuanwangError } from '../core/errors.js';
import {
  BPS,
  HOUR_MS,
  billingUnits,
  chargeFor,
  checkPriceBook,
  maxChargeFor,
  msByFactor,
  priceBookAt,
  type PriceBookVersion,
  type TimeOfUse,
  type Usage,
} from './pricing.js';

const T = Date.UTC(2026, 0, 5, 0, 0, 0); // a Monday, 00:00 UTC = 08:00 in Beijing
const MIN = 60_000;

/** A pool's price book: rates in fen per unit-hour, flat unless a time-of-use curve is given. */
function book(accelerator: string | null, rates: { gpu?: number; core?: number; gib?: number } = {}, more: Partial<PriceBookVersion> = {}): PriceBookVersion {
  return {
    poolId: 'pool-1',
    version: 1,
    effectiveFrom: 0,
    accelerator,
    // Not through fen(): the validation cases need rates fen() would refuse.
    rates: { fenPerAcceleratorHour: (rates.gpu ?? 0) as Fen, fenPerCoreHour: (rates.core ?? 0) as Fen, fenPerGiBHour: (rates.gib ?? 0) as Fen },
    timeOfUse: null,
    billingWeights: null,
    ...more,
  };
}

/** Beijing time of use: ×0.5 from 00:00 to 08:00, ×1.5 from 09:00 to 12:00 and 18:00 to 21:00, ×1 otherwise. */
const beijingPeakValley: TimeOfUse = {
  utcOffsetHours: 8,
  factorsBps: Array.from({ length: 24 }, (_, h) => (h < 8 ? 5000 : (h >= 9 && h < 12) || (h >= 18 && h < 21) ? 15000 : BPS)),
};

/** `nodes` nodes with `gpus`/`cores`/`gib` each, running from `start` for `ms`. */
function run(start: number, ms: number, spec: { nodes?: number; gpus?: number; cores?: number; gib?: number } = {}): Usage {
  return { nodes: spec.nodes ?? 1, perNode: { accelerators: spec.gpus ?? 0, cores: spec.cores ?? 0, memoryGiB: spec.gib ?? 0 }, startedAt: start, endedAt: start + ms };
}

describe('chargeFor', () => {
  const cases: readonly [name: string, usage: Usage, b: PriceBookVersion, total: number, lines: number][] = [
    ['8 × 910B for 1.5 h at ¥10/h', run(T, 90 * MIN, { gpus: 8 }), book('ascend-910b', { gpu: 1000 }), 12_000, 1],
    ['2 nodes × (8 GPUs, 64 cores, 512 GiB) for 1 h', run(T, HOUR_MS, { nodes: 2, gpus: 8, cores: 64, gib: 512 }), book('nvidia-a100', { gpu: 1500, core: 5, gib: 1 }), 2 * (12_000 + 320 + 512), 3],
    ['half a fen rounds up', run(T, 30 * MIN, { cores: 1 }), book(null, { core: 1 }), 1, 1],
    ['just under half a fen rounds down', run(T, 30 * MIN - 1, { cores: 1 }), book(null, { core: 1 }), 0, 1],
    ['0.5 GiB is billed to the MiB', run(T, HOUR_MS, { gib: 0.5 }), book(null, { gib: 100 }), 50, 1],
    ['a run that ends before it starts costs nothing', run(T, -5 * MIN, { gpus: 1 }), book('ascend-910b', { gpu: 1000 }), 0, 0],
    ['a resource at rate 0 has no line', run(T, HOUR_MS, { gpus: 1, cores: 4 }), book('ascend-910b', { gpu: 1000 }), 1000, 1],
    // 08:30–10:30 Beijing: 30 min at ×1 (08:30–09:00), 90 min at ×1.5 (09:00–10:30).
    ['peak hours cost 1.5×', run(T + 30 * MIN, 2 * HOUR_MS, { gpus: 1 }), book('ascend-910b', { gpu: 1000 }, { timeOfUse: beijingPeakValley }), 500 + 2250, 2],
    // 23:00 Beijing to 01:00: an hour at ×1 then an hour in the night valley.
    ['a run over midnight splits at the local day', run(T - 9 * HOUR_MS, 2 * HOUR_MS, { gpus: 1 }), book('ascend-910b', { gpu: 1000 }, { timeOfUse: beijingPeakValley }), 1000 + 500, 2],
    // A whole day covers 8 valley hours, 6 peak hours and 10 plain ones, wherever it starts.
    ['a whole day', run(T + 17 * MIN, 24 * HOUR_MS, { gpus: 1 }), book('ascend-910b', { gpu: 1000 }, { timeOfUse: beijingPeakValley }), 8 * 500 + 6 * 1500 + 10 * 1000, 3],
  ];
  for (const [name, usage, b, total, lines] of cases) {
    it(name, { timeout: 5000 }, () => {
      const bill = chargeFor(usage, b);
      assert.equal(bill.total, total);
      assert.equal(bill.lines.length, lines);
      assert.equal(bill.lines.reduce((s, l) => s + l.amount, 0), bill.total);
    });
  }

  it('names each line by resource, chip and factor', { timeout: 5000 }, () => {
    const bill = chargeFor(run(T + 30 * MIN, 2 * HOUR_MS, { gpus: 1 }), book('ascend-910b', { gpu: 1000 }, { timeOfUse: beijingPeakValley }));
    assert.deepEqual(
      bill.lines.map((l) => [l.label, l.quantity, l.rate, l.factorBps, l.amount]),
      [
        ['accelerator-hours ascend-910b', 0.5, 1000, 10000, 500],
        ['accelerator-hours ascend-910b ×1.5', 1.5, 1000, 15000, 2250],
      ],
    );
  });

  it('refuses usage that is not whole units, naming the field', { timeout: 5000 }, () => {
    assert.throws(
      () => chargeFor(run(T, HOUR_MS, { gpus: 1.5 }), book('ascend-910b', { gpu: 1 })),
      (e: unknown) => e instanceof SuanwangError && e.code === 'invalid_field' && e.field === 'usage.perNode.accelerators',
    );
  });
});

describe('price book versions', () => {
  const v = (version: number, effectiveFrom: number) => book('ascend-910b', { gpu: version * 100 }, { version, effectiveFrom });
  const versions = [v(1, T), v(2, T + HOUR_MS), v(3, T + 2 * HOUR_MS), v(4, T + 2 * HOUR_MS)];
  const cases: readonly [placedAt: number, version: number | undefined][] = [
    [T - 1, undefined],
    [T, 1],
    [T + HOUR_MS - 1, 1],
    [T + HOUR_MS, 2],
    [T + 2 * HOUR_MS, 4], // two versions from the same instant: the later one wins
    [T + 100 * HOUR_MS, 4],
  ];
  for (const [placedAt, version] of cases) {
    it(`a job placed at T${placedAt >= T ? '+' : ''}${(placedAt - T) / MIN} min is charged at version ${version}`, { timeout: 5000 }, () => {
      assert.equal(priceBookAt([...versions].reverse(), placedAt)?.version, version);
    });
  }

  it('checkPriceBook names the bad field', { timeout: 5000 }, () => {
    const bad: readonly [PriceBookVersion, string][] = [
      [book('x', { gpu: -1 }), 'rates.fenPerAcceleratorHour'],
      [book('x', { core: 1.5 }), 'rates.fenPerCoreHour'],
      [book('x', {}, { timeOfUse: { utcOffsetHours: 8, factorsBps: [1] } }), 'timeOfUse.factorsBps'],
      [book('x', {}, { timeOfUse: { utcOffsetHours: 8, factorsBps: Array(24).fill(1.5) } }), 'timeOfUse.factorsBps[0]'],
      [book('x', {}, { timeOfUse: { utcOffsetHours: 8.1, factorsBps: Array(24).fill(BPS) } }), 'timeOfUse.utcOffsetHours'],
    ];
    for (const [b, field] of bad) assert.throws(() => checkPriceBook(b), (e: unknown) => e instanceof SuanwangError && e.field === field, field);
    assert.doesNotThrow(() => checkPriceBook(book('ascend-910b', { gpu: 1000 }, { timeOfUse: beijingPeakValley })));
  });
});

describe('billing weights', () => {
  const weights = { milliPerAccelerator: { 'nvidia-a100': 1000, 'ascend-910b': 800 }, milliPerCore: 10, milliPerGiB: 2, mode: 'sum' as const };
  const cases: readonly [name: string, accelerator: string | null, spec: Parameters<typeof run>[2], mode: 'sum' | 'max', units: number][] = [
    ['an A100 is 1 unit', 'nvidia-a100', { gpus: 1 }, 'sum', 1000],
    ['a 910B is 0.8 units', 'ascend-910b', { gpus: 1 }, 'sum', 800],
    ['sum adds cores and memory', 'ascend-910b', { nodes: 2, gpus: 8, cores: 64, gib: 500 }, 'sum', 2 * (6400 + 640 + 1000)],
    ['max takes the largest per node', 'ascend-910b', { nodes: 2, gpus: 8, cores: 64, gib: 500 }, 'max', 2 * 6400],
    ['a chip without a weight counts nothing', 'hygon-k100', { gpus: 8 }, 'sum', 0],
  ];
  for (const [name, accelerator, spec, mode, units] of cases) {
    it(name, { timeout: 5000 }, () => assert.equal(billingUnits(run(T, HOUR_MS, spec), accelerator, { ...weights, mode }), units));
  }

  it('a bill carries the normalised unit-hours', { timeout: 5000 }, () => {
    const bill = chargeFor(run(T, 90 * MIN, { gpus: 8 }), book('ascend-910b', { gpu: 1000 }, { billingWeights: weights }));
    assert.equal(bill.billingMilliUnitHours, 8 * 800 * 1.5);
  });
});

// ---- properties ----

const timeOfUseArb: fc.Arbitrary<TimeOfUse | null> = fc.option(
  fc.record({
    utcOffsetHours: fc.integer({ min: -48, max: 56 }).map((q) => q / 4),
    factorsBps: fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 24, maxLength: 24 }),
  }),
  { nil: null },
);
const bookArb: fc.Arbitrary<PriceBookVersion> = fc
  .record({ gpu: fc.integer({ min: 0, max: 100_000 }), core: fc.integer({ min: 0, max: 1000 }), gib: fc.integer({ min: 0, max: 1000 }), timeOfUse: timeOfUseArb })
  .map(({ timeOfUse, ...rates }) => book('ascend-910b', rates, { timeOfUse }));
const requestArb = fc.record({
  nodes: fc.integer({ min: 0, max: 64 }),
  perNode: fc.record({ accelerators: fc.integer({ min: 0, max: 16 }), cores: fc.integer({ min: 0, max: 256 }), memoryGiB: fc.integer({ min: 0, max: 2048 * 1024 }).map((m) => m / 1024) }),
});
const startArb = fc.integer({ min: T - 400 * 24 * HOUR_MS, max: T + 400 * 24 * HOUR_MS });

/** Milliseconds per factor the slow way: one local hour at a time, the hour read from a Date. */
function referenceMsByFactor(tou: TimeOfUse, from: number, to: number): Map<number, number> {
  const out = new Map<number, number>();
  const offset = tou.utcOffsetHours * HOUR_MS;
  for (let t = from; t < to; ) {
    const local = new Date(t + offset);
    const hourStart = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), local.getUTCHours()) - offset;
    const next = Math.min(to, hourStart + HOUR_MS);
    const f = tou.factorsBps[local.getUTCHours()]!;
    out.set(f, (out.get(f) ?? 0) + next - t);
    t = next;
  }
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}

describe('pricing properties', () => {
  it('the lines of a bill add up to its total, each line within half a fen of its exact amount', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(bookArb, requestArb, startArb, fc.integer({ min: 0, max: 30 * 24 * HOUR_MS }), (b, req, start, ms) => {
        const bill = chargeFor({ ...req, startedAt: start, endedAt: start + ms }, b);
        let sum = 0;
        for (const l of bill.lines) {
          assert.ok(l.amount >= 0);
          // exact = rate × quantity × factor; |amount − exact| <= 1/2 (compared ×2 to stay in integers where possible)
          const exact = (l.rate * l.quantity * l.factorBps) / BPS;
          assert.ok(Math.abs(l.amount - exact) <= 0.5 + 1e-6 * Math.max(1, exact), `${l.label}: ${l.amount} vs ${exact}`);
          sum += l.amount;
        }
        assert.equal(bill.total, sum);
      }),
      { numRuns: 300 },
    );
  });

  it('time-of-use hours are split exactly: every millisecond counted once, at its local hour’s factor', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(timeOfUseArb.filter((t): t is TimeOfUse => t !== null), startArb, fc.integer({ min: 0, max: 5 * 24 * HOUR_MS }), (tou, start, ms) => {
        const got = msByFactor(tou, start, start + ms);
        assert.deepEqual(new Map([...got].sort((a, b) => a[0] - b[0])), new Map([...referenceMsByFactor(tou, start, start + ms)].sort((a, b) => a[0] - b[0])));
      }),
      { numRuns: 300 },
    );
  });

  it('no run within its walltime is billed more than maxChargeFor (the hold)', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(bookArb, requestArb, startArb, fc.integer({ min: 0, max: 3 * 24 * HOUR_MS }), fc.integer({ min: 0, max: 1000 }), (b, req, start, walltime, permille) => {
        const ms = Math.floor((walltime * permille) / 1000);
        const bill = chargeFor({ ...req, startedAt: start, endedAt: start + ms }, b);
        assert.ok(bill.total <= maxChargeFor(req, walltime, b), `${bill.total} > ${maxChargeFor(req, walltime, b)}`);
      }),
      { numRuns: 500 },
    );
  });

  it('the hold also covers the worst rounding: several lines each rounded up by almost half a fen', { timeout: 60_000 }, () => {
    // Nearly equal factors and small amounts make each line land near x.5, where rounding up adds
    // the most; a hold without half a fen per line falls short here.
    const nearFactors = fc.array(fc.constantFrom(BPS, BPS - 1, BPS - 7, BPS - 100), { minLength: 24, maxLength: 24 });
    fc.assert(
      fc.property(nearFactors, fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 1, max: 240 }), (factorsBps, rate, cores, startHour, minutes) => {
        const b = book(null, { core: rate }, { timeOfUse: { utcOffsetHours: 0, factorsBps } });
        const req = { nodes: 1, perNode: { accelerators: 0, cores, memoryGiB: 0 } };
        const start = T + startHour * HOUR_MS + 17 * MIN;
        const bill = chargeFor({ ...req, startedAt: start, endedAt: start + minutes * MIN }, b);
        assert.ok(bill.total <= maxChargeFor(req, minutes * MIN, b), `${bill.total} > ${maxChargeFor(req, minutes * MIN, b)}`);
      }),
      { numRuns: 2000 },
    );
  });
});
