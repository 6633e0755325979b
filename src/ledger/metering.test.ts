import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fen, type Fen } from '../core/money.js';
import { SuanwangError } from '../core/errors.js';
import { EMPTY_METER, OUTCOMES, applyUsageEvent, holdFor, runOf, settlement, type Outcome, type UsageEvent } from './metering.js';
import { BPS, HOUR_MS, chargeFor, type PriceBookVersion, type Usage } from './pricing.js';

const T = Date.UTC(2026, 0, 5);
const MIN = 60_000;

/** A 910B pool at `fenPerGpuHour`, ×1.5 from 09:00 to 12:00 Beijing time when `peak`. */
function ascendBook(fenPerGpuHour: number, peak = false): PriceBookVersion {
  return {
    poolId: 'pool-910b',
    version: 1,
    effectiveFrom: 0,
    accelerator: 'ascend-910b',
    rates: { fenPerAcceleratorHour: fen(fenPerGpuHour), fenPerCoreHour: fen(2), fenPerGiBHour: fen(0) },
    timeOfUse: peak ? { utcOffsetHours: 8, factorsBps: Array.from({ length: 24 }, (_, h) => (h >= 9 && h < 12 ? 15000 : BPS)) } : null,
    billingWeights: null,
  };
}
const eightGpus = { nodes: 1, perNode: { accelerators: 8, cores: 32, memoryGiB: 256 } };
const ranFor = (ms: number, start = T): Usage => ({ ...eightGpus, startedAt: start, endedAt: start + ms });
const event = (eventId: string, kind: 'started' | 'ended', at: number, attempt = 1): UsageEvent => ({ eventId, jobId: 'job-1', attempt, kind, at, nodes: 1 });

describe('usage events', () => {
  it('a retried report changes nothing; the same id with other content is refused', { timeout: 5000 }, () => {
    let { state } = applyUsageEvent(EMPTY_METER, event('e1', 'started', T));
    const again = applyUsageEvent(state, event('e1', 'started', T));
    assert.equal(again.duplicate, true);
    assert.equal(again.state, state);
    assert.throws(() => applyUsageEvent(state, event('e1', 'started', T + 1)), (e: unknown) => e instanceof SuanwangError && e.code === 'idempotency_key_reused' && e.field === 'eventId');
    ({ state } = applyUsageEvent(state, event('e2', 'ended', T + HOUR_MS)));
    assert.deepEqual(runOf(state, 'job-1', 1), { startedAt: T, endedAt: T + HOUR_MS });
    assert.equal(runOf(state, 'job-1', 2), undefined, 'another attempt has its own run');
  });
});

describe('hold and settlement', () => {
  const book = ascendBook(1000);
  const hold = holdFor(eightGpus, 2 * HOUR_MS, book); // 2 h × (8 × 1000 + 32 × 2)
  it('the hold is the walltime at the rates', { timeout: 5000 }, () => assert.equal(hold, 2 * (8000 + 64)));
  // With two factors a resource's use may be split into two lines, each rounded up by up to half a
  // fen: the hold adds that fen per resource (accelerators and cores here).
  it('the hold uses the highest time-of-use factor, plus a fen of rounding per resource', { timeout: 5000 }, () =>
    assert.equal(holdFor(eightGpus, 2 * HOUR_MS, ascendBook(1000, true)), 3 * (8000 + 64) + 2));

  const cases: readonly [Outcome, Usage | null, post: number, reason: string][] = [
    ['succeeded', ranFor(30 * MIN), 4032, 'charged-actual-use'],
    ['failed-by-program', ranFor(30 * MIN), 4032, 'charged-actual-use'],
    ['cancelled-while-running', ranFor(15 * MIN), 2016, 'charged-actual-use'],
    ['timed-out', ranFor(2 * HOUR_MS), 16_128, 'charged-actual-use'],
    ['timed-out', ranFor(2 * HOUR_MS + 5 * MIN), 16_128, 'capped-at-hold'], // the agent reported the kill late
    ['requeued', ranFor(30 * MIN), 0, 'not-charged-requeue'],
    ['infrastructure-failure', ranFor(30 * MIN), 0, 'not-charged-platform-failure'],
    ['agent-lost', ranFor(30 * MIN), 0, 'not-charged-platform-failure'],
    ['cancelled-before-start', null, 0, 'not-charged-before-start'],
    ['succeeded', null, 0, 'no-usage-reported'],
  ];
  for (const [outcome, usage, post, reason] of cases) {
    it(`${outcome}${usage ? ` after ${(usage.endedAt - usage.startedAt) / MIN} min` : ''}: posts ${post} (${reason})`, { timeout: 5000 }, () => {
      const s = settlement(outcome, hold, usage, book);
      assert.equal(s.post, post);
      assert.equal(s.void, hold - post);
      assert.equal(s.reason, reason);
    });
  }
});

describe('settlement properties', () => {
  const outcomeArb = fc.constantFrom(...(Object.keys(OUTCOMES) as Outcome[]));
  // Written out here, not read from OUTCOMES: the property must catch a wrong entry there.
  const notTheUsersFault: readonly Outcome[] = ['requeued', 'infrastructure-failure', 'agent-lost', 'cancelled-before-start'];
  it('post + void = hold, post <= hold, and a user never pays for a platform failure', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(outcomeArb, fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: 0, max: 4 * HOUR_MS }), fc.integer({ min: 0, max: 2 * HOUR_MS }), fc.boolean(), (outcome, rate, walltime, ran, peak) => {
        const book = ascendBook(rate, peak);
        const hold: Fen = holdFor(eightGpus, walltime, book);
        const s = settlement(outcome, hold, ranFor(ran), book);
        assert.ok(s.post >= 0 && s.void >= 0);
        assert.equal(s.post + s.void, hold);
        if (notTheUsersFault.includes(outcome)) assert.equal(s.post, 0);
        else assert.equal(s.post, Math.min(hold, chargeFor(ranFor(ran), book).total));
      }),
      { numRuns: 500 },
    );
  });
});

describe('usage event properties', () => {
  it('retried and reordered reports give the same run as the reports once each, and every retry is flagged', { timeout: 60_000 }, () => {
    const reportsArb = fc.uniqueArray(fc.record({ kind: fc.constantFrom('started' as const, 'ended' as const), at: fc.integer({ min: 0, max: 10 * HOUR_MS }) }), { minLength: 1, maxLength: 6, selector: (r) => `${r.kind}${r.at}` });
    fc.assert(
      fc.property(reportsArb, fc.array(fc.nat(), { maxLength: 10 }), fc.nat(), (reports, retryPicks, seed) => {
        const events = reports.map((r, i) => event(`e${i}`, r.kind, T + r.at));
        const retries = retryPicks.map((k) => events[k % events.length]!);
        // a deterministic shuffle of the reports and their retries
        const sent = [...events, ...retries].map((e, i) => ({ e, key: (i * 7919 + seed) % 104_729 })).sort((a, b) => a.key - b.key).map((x) => x.e);
        let state = EMPTY_METER;
        let duplicates = 0;
        for (const e of sent) {
          const r = applyUsageEvent(state, e);
          state = r.state;
          if (r.duplicate) duplicates++;
        }
        assert.equal(duplicates, retries.length);
        assert.equal(state.events.size, events.length);
        const starts = events.filter((e) => e.kind === 'started').map((e) => e.at);
        const ends = events.filter((e) => e.kind === 'ended').map((e) => e.at);
        const expected = starts.length && ends.length ? { startedAt: Math.min(...starts), endedAt: Math.max(Math.min(...starts), ...ends) } : undefined;
        assert.deepEqual(runOf(state, 'job-1', 1), expected);
      }),
      { numRuns: 500 },
    );
  });
});
