import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fen, type Fen } from '../core/money.js';
import { chargeFor, type Bill, type PriceBookVersion } from './pricing.js';
import { holdFor, settlement } from './metering.js';
import { admit } from './budgets.js';
import { appCharge } from './app-fees.js';
import { applyVouchers, isDomestic, spendOrder, yearOf, type Grant, type Redemption, type VoucherContext, type VoucherProgram } from './vouchers.js';

const T = Date.UTC(2026, 5, 1); // 1 June 2026
const DAY = 86_400_000;
const YEAR = 365 * DAY;

/** A compute voucher program: `pct`% of an eligible bill, valid a year around T, no cap unless given. */
function program(id: string, pct: number, more: Partial<VoucherProgram> = {}): VoucherProgram {
  return {
    id,
    name: id,
    funding: { kind: 'pool', total: fen(10 ** 9) },
    coPayBps: pct * 100,
    coPayBpsByCategory: {},
    scope: { domesticOnly: false, categories: [], regions: [], centers: [] },
    validFrom: T - YEAR / 2,
    validUntil: T + YEAR / 2,
    orgAnnualCap: null,
    utcOffsetHours: 8,
    enrolment: 'open',
    ...more,
  };
}
const domestic30 = (id = 'ningxia-domestic-30') => program(id, 30, { scope: { domesticOnly: true, categories: [], regions: [], centers: [] } });

/** A bill of `total` fen on one line (what the line is does not matter to a program). */
function billOf(total: number): Bill {
  return { poolId: 'p', version: 1, lines: [{ what: 'accelerator', label: 'accelerator-hours', quantity: 1, rate: fen(total), factorBps: 10_000, amount: fen(total) }], total: fen(total), billingMilliUnitHours: 0 };
}

/** Job `job-1` of org `acme` on `accelerator` in Ningxia at T. */
function jobOn(accelerator: string | null, more: Partial<VoucherContext> = {}): VoucherContext {
  return {
    jobId: 'job-1',
    orgId: 'acme',
    at: T,
    accelerator,
    category: 'compute',
    region: 'ningxia',
    centerId: 'west-zhongwei',
    usage: { nodes: 1, perNode: { accelerators: 8, cores: 32, memoryGiB: 256 }, startedAt: T - 3_600_000, endedAt: T },
    alreadySubsidised: false,
    programSpentSoFar: {},
    enrolledPrograms: [],
    ...more,
  };
}
const redeemed = (programId: string, amount: number, at = T - DAY, jobId = `old-${at}-${amount}`): Redemption => ({ programId, orgId: 'acme', jobId, amount: fen(amount), at });

describe('domestic chips', () => {
  for (const [key, domestic] of [['ascend-910b', true], ['hygon-k100', true], ['cambricon-mlu590', true], ['nvidia-a100', false], ['unknown-chip', false], [null, false]] as const) {
    it(`${key} is ${domestic ? '' : 'not '}domestic`, { timeout: 5000 }, () => assert.equal(isDomestic(key), domestic));
  }
});

describe('applyVouchers', () => {
  const cases: readonly [name: string, bill: number, ctx: VoucherContext, programs: VoucherProgram[], so: Redemption[], pays: Record<string, number>, userPays: number, why?: Record<string, string>][] = [
    ['30% of a 910B bill', 10_000, jobOn('ascend-910b'), [domestic30()], [], { 'ningxia-domestic-30': 3000 }, 7000],
    ['nothing on an A100', 10_000, jobOn('nvidia-a100'), [domestic30()], [], { 'ningxia-domestic-30': 0 }, 10_000, { 'ningxia-domestic-30': 'not-domestic' }],
    ['a share rounds down to the fen', 9_999, jobOn('ascend-910b'), [domestic30()], [], { 'ningxia-domestic-30': 2999 }, 7000],
    ['50% for models', 10_000, jobOn('ascend-910b', { category: 'model' }), [program('p', 30, { coPayBpsByCategory: { model: 5000 } })], [], { p: 5000 }, 5000],
    ['a by-code program pays an org that redeemed a code', 10_000, jobOn('ascend-910b', { enrolledPrograms: ['p'] }), [program('p', 30, { enrolment: 'by-code' })], [], { p: 3000 }, 7000],
    ['a by-code program pays nothing to an org that did not', 10_000, jobOn('ascend-910b', { enrolledPrograms: ['q'] }), [program('p', 30, { enrolment: 'by-code' })], [], { p: 0 }, 10_000, { p: 'not-enrolled' }],
    ['not yet valid', 10_000, jobOn('ascend-910b'), [program('p', 30, { validFrom: T + 1 })], [], { p: 0 }, 10_000, { p: 'outside-validity' }],
    ['expired at validUntil', 10_000, jobOn('ascend-910b'), [program('p', 30, { validUntil: T })], [], { p: 0 }, 10_000, { p: 'outside-validity' }],
    ['other region', 10_000, jobOn('ascend-910b'), [program('p', 30, { scope: { domesticOnly: false, categories: [], regions: ['guizhou'], centers: [] } })], [], { p: 0 }, 10_000, { p: 'region-out-of-scope' }],
    ['other center', 10_000, jobOn('ascend-910b'), [program('p', 30, { scope: { domesticOnly: false, categories: [], regions: [], centers: ['east'] } })], [], { p: 0 }, 10_000, { p: 'center-out-of-scope' }],
    ['other category', 10_000, jobOn('ascend-910b'), [program('p', 30, { scope: { domesticOnly: false, categories: ['model'], regions: [], centers: [] } })], [], { p: 0 }, 10_000, { p: 'category-out-of-scope' }],
    ['the rest of a face value', 10_000, jobOn('ascend-910b'), [program('p', 30, { funding: { kind: 'per-voucher', faceValue: fen(5000) } })], [redeemed('p', 4000)], { p: 1000 }, 9000],
    ['a used-up face value', 10_000, jobOn('ascend-910b'), [program('p', 30, { funding: { kind: 'per-voucher', faceValue: fen(5000) } })], [redeemed('p', 5000)], { p: 0 }, 10_000, { p: 'funding-exhausted' }],
    ['the rest of a pool', 10_000, jobOn('ascend-910b', { programSpentSoFar: { p: fen(99_500) } }), [program('p', 30, { funding: { kind: 'pool', total: fen(100_000) } })], [], { p: 500 }, 9500],
    ['the rest of an annual cap', 10_000, jobOn('ascend-910b'), [program('p', 30, { orgAnnualCap: fen(10_000) })], [redeemed('p', 9500)], { p: 500 }, 9500],
    // 31 Dec 2025 17:00 UTC is 1 Jan 2026 01:00 in Beijing: counted in 2026.
    ['a cap counts the program’s local year', 10_000, jobOn('ascend-910b'), [program('p', 30, { orgAnnualCap: fen(10_000), validFrom: 0 })], [redeemed('p', 9000, Date.UTC(2025, 11, 31, 17)), redeemed('p', 9000, Date.UTC(2025, 11, 31, 15))], { p: 1000 }, 9000],
    ['a job already subsidised gets nothing more', 10_000, jobOn('ascend-910b', { alreadySubsidised: true }), [domestic30()], [], { 'ningxia-domestic-30': 0 }, 10_000, { 'ningxia-domestic-30': 'already-subsidised' }],
    ['a job with a redemption of another program gets nothing more', 10_000, jobOn('ascend-910b'), [domestic30()], [redeemed('other', 100, T - 1, 'job-1')], { 'ningxia-domestic-30': 0 }, 10_000],
    ['of two programs the one paying most', 10_000, jobOn('ascend-910b'), [domestic30('a'), program('b', 50)], [], { a: 0, b: 5000 }, 5000, { a: 'another-program-pays-more' }],
    ['of two paying the same, the smaller id', 10_000, jobOn('ascend-910b'), [program('z', 30), program('y', 30)], [], { y: 3000, z: 0 }, 7000],
  ];
  for (const [name, total, ctx, programs, so, pays, userPays, why] of cases) {
    it(name, { timeout: 5000 }, () => {
      const out = applyVouchers(billOf(total), ctx, programs, so);
      assert.deepEqual(out.voucherShares, pays);
      assert.equal(out.userPays, userPays);
      for (const [id, reason] of Object.entries(why ?? {})) assert.equal(out.reasons[id], reason);
    });
  }

  it('a redemption records the evidence: job, usage, bill lines and the co-pay share', { timeout: 5000 }, () => {
    const ctx = jobOn('ascend-910b');
    const bill = billOf(10_000);
    const [r, ...more] = applyVouchers(bill, ctx, [domestic30()], []).redemptions;
    assert.equal(more.length, 0);
    assert.deepEqual(r, { programId: 'ningxia-domestic-30', orgId: 'acme', jobId: 'job-1', amount: 3000, at: T, evidence: { usage: ctx.usage, lines: bill.lines, billTotal: 10_000, coPayBps: 3000 } });
  });

  it('yearOf gives the local calendar year', { timeout: 5000 }, () => {
    assert.deepEqual(yearOf(Date.UTC(2025, 11, 31, 17), 8), { from: Date.UTC(2025, 11, 31, 16), until: Date.UTC(2026, 11, 31, 16) });
  });
});

describe('spendOrder', () => {
  const grant = (id: string, remaining: number, priority: number, expiresAt: number | null): Grant => ({ id, remaining: fen(remaining), priority, expiresAt });
  const cases: readonly [name: string, amount: number, grants: Grant[], paid: number, fromGrants: [string, number][], fromPaid: number, shortfall: number][] = [
    ['grants before paid credit', 500, [grant('g', 300, 1, null)], 1000, [['g', 300]], 200, 0],
    ['by priority first', 500, [grant('late', 1000, 2, T + DAY), grant('first', 300, 1, null)], 0, [['first', 300], ['late', 200]], 0, 0],
    ['then the earliest expiry, a grant that never expires last', 500, [grant('never', 1000, 1, null), grant('soon', 100, 1, T + DAY), grant('later', 100, 1, T + 2 * DAY)], 0, [['soon', 100], ['later', 100], ['never', 300]], 0, 0],
    ['an expired grant is skipped (expiry at now counts as expired)', 500, [grant('old', 1000, 1, T), grant('ok', 100, 2, T + 1)], 1000, [['ok', 100]], 400, 0],
    ['what nothing covers is the shortfall', 500, [grant('g', 100, 1, null)], 150, [['g', 100]], 150, 250],
    ['nothing to pay spends nothing', 0, [grant('g', 100, 1, null)], 150, [], 0, 0],
  ];
  for (const [name, amount, grants, paid, fromGrants, fromPaid, shortfall] of cases) {
    it(name, { timeout: 5000 }, () => {
      const plan = spendOrder(fen(amount), grants, fen(paid), T);
      assert.deepEqual(plan.fromGrants.map((g) => [g.grantId, g.amount]), fromGrants);
      assert.equal(plan.fromPaid, fromPaid);
      assert.equal(plan.shortfall, shortfall);
    });
  }
});

describe('voucher properties', () => {
  const programArb = (id: string): fc.Arbitrary<VoucherProgram> =>
    fc.record({
      pct: fc.integer({ min: 0, max: 100 }),
      modelPct: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      domesticOnly: fc.boolean(),
      perVoucher: fc.boolean(),
      funding: fc.integer({ min: 0, max: 20_000 }),
      cap: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: null }),
    }).map(({ pct, modelPct, domesticOnly, perVoucher, funding, cap }) =>
      program(id, pct, {
        coPayBpsByCategory: modelPct === undefined ? {} : { model: modelPct * 100 },
        scope: { domesticOnly, categories: [], regions: [], centers: [] },
        funding: perVoucher ? { kind: 'per-voucher', faceValue: fen(funding) } : { kind: 'pool', total: fen(funding) },
        orgAnnualCap: cap === null ? null : fen(cap),
      }),
    );
  const programsArb = fc.tuple(programArb('a'), programArb('b'), programArb('c'));
  const pastArb = fc.array(
    fc.record({ programId: fc.constantFrom('a', 'b', 'c'), amount: fc.integer({ min: 0, max: 5000 }), ago: fc.integer({ min: 0, max: 2 * YEAR }) }),
    { maxLength: 6 },
  ).map((rs) => rs.map((r, i) => redeemed(r.programId, r.amount, T - r.ago, `old-${i}`)));

  it('a voucher never pays more than its co-pay share, its remaining funding or the org’s remaining cap; shares and user add up to the bill', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), programsArb, pastArb, fc.constantFrom('ascend-910b', 'nvidia-a100'), fc.constantFrom('compute', 'model'), fc.integer({ min: 0, max: 30_000 }), (total, programs, past, chip, category, poolSpent) => {
        const ctx = jobOn(chip, { category, programSpentSoFar: { a: fen(poolSpent), b: fen(0), c: fen(poolSpent) } });
        const out = applyVouchers(billOf(total), ctx, programs, past);
        let paid = 0;
        for (const p of programs) {
          const share: Fen = out.voucherShares[p.id] ?? fen(0);
          assert.ok(share >= 0);
          const bps = p.coPayBpsByCategory[category] ?? p.coPayBps;
          assert.ok(share * 10_000 <= total * bps, `${p.id} pays ${share} > ${bps} bps of ${total}`);
          const mine = past.filter((r) => r.programId === p.id);
          const fundingLeft = p.funding.kind === 'per-voucher' ? p.funding.faceValue - mine.reduce((s, r) => s + r.amount, 0) : p.funding.total - (ctx.programSpentSoFar[p.id] ?? 0);
          assert.ok(share === 0 || share <= fundingLeft, `${p.id} pays ${share} > funding left ${fundingLeft}`);
          const thisYear = mine.filter((r) => new Date(r.at + 8 * 3_600_000).getUTCFullYear() === new Date(T + 8 * 3_600_000).getUTCFullYear());
          if (p.orgAnnualCap !== null) assert.ok(share === 0 || share <= p.orgAnnualCap - thisYear.reduce((s, r) => s + r.amount, 0), `${p.id} over its annual cap`);
          if (p.scope.domesticOnly && chip === 'nvidia-a100') assert.equal(share, 0);
          paid += share;
        }
        assert.ok(Object.values(out.voucherShares).filter((s) => s > 0).length <= 1, 'one program per job');
        assert.equal(out.userPays + paid, total);
        assert.equal(out.redemptions.reduce((s, r) => s + r.amount, 0), paid);
      }),
      { numRuns: 1000 },
    );
  });

  it('spendOrder never spends an expired grant or more than a grant holds, and spends exactly the bill (or says what is short)', { timeout: 60_000 }, () => {
    const grantsArb = fc.array(
      fc.record({ remaining: fc.integer({ min: 0, max: 1000 }), priority: fc.integer({ min: 0, max: 3 }), expiresAt: fc.option(fc.integer({ min: T - 5, max: T + 5 }), { nil: null }) }),
      { maxLength: 8 },
    ).map((gs) => gs.map((g, i): Grant => ({ id: `g${i}`, remaining: fen(g.remaining), priority: g.priority, expiresAt: g.expiresAt })));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), grantsArb, fc.integer({ min: 0, max: 3000 }), (amount, grants, paid) => {
        const plan = spendOrder(fen(amount), grants, fen(paid), T);
        const byId = new Map(grants.map((g) => [g.id, g]));
        let fromGrants = 0;
        for (const { grantId, amount: a } of plan.fromGrants) {
          const g = byId.get(grantId)!;
          assert.ok(g.expiresAt === null || g.expiresAt > T, `spent expired grant ${grantId}`);
          assert.ok(a > 0 && a <= g.remaining);
          fromGrants += a;
        }
        assert.equal(new Set(plan.fromGrants.map((g) => g.grantId)).size, plan.fromGrants.length, 'each grant once');
        assert.ok(plan.fromPaid >= 0 && plan.fromPaid <= paid && plan.shortfall >= 0);
        assert.equal(fromGrants + plan.fromPaid + plan.shortfall, amount);
        const liveTotal = grants.filter((g) => g.expiresAt === null || g.expiresAt > T).reduce((s, g) => s + g.remaining, 0);
        if (plan.fromPaid > 0) assert.equal(fromGrants, liveTotal, 'paid credit only after every live grant');
        if (plan.shortfall > 0) assert.equal(plan.fromPaid, paid, 'short only when paid credit is used up');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the issue’s scenario, rules only', () => {
  // An org with ¥100 and a 30% voucher for domestic chips runs one hour on 8 × 910B and one on
  // 8 × A100, then launches a ¥5 app; a job that would overdraw is refused before it is queued.
  const pool = (poolId: string, accelerator: string, fenPerGpuHour: number): PriceBookVersion => ({
    poolId, version: 1, effectiveFrom: 0, accelerator, timeOfUse: null, billingWeights: null,
    rates: { fenPerAcceleratorHour: fen(fenPerGpuHour), fenPerCoreHour: fen(0), fenPerGiBHour: fen(0) },
  });
  const ascend = pool('nx-910b', 'ascend-910b', 100); // ¥1 per chip-hour
  const a100 = pool('bj-a100', 'nvidia-a100', 150);
  const eight = { nodes: 1, perNode: { accelerators: 8, cores: 0, memoryGiB: 0 } };
  const hourAt = (start: number) => ({ ...eight, startedAt: start, endedAt: start + 3_600_000 });

  it('bills each job, subsidises only the 910B, splits the app fee, and refuses the overdraft', { timeout: 5000 }, () => {
    let balance = 10_000;
    const statement: string[] = [];
    const runJob = (jobId: string, book: PriceBookVersion, start: number) => {
      const hold = holdFor(eight, 2 * 3_600_000, book);
      assert.deepEqual(admit(hold, fen(balance), [], {}), { ok: true }, `${jobId} admitted`);
      const s = settlement('succeeded', hold, hourAt(start), book);
      const v = applyVouchers(s.bill!, jobOn(book.accelerator, { jobId, at: start + 3_600_000 }), [domestic30()], []);
      balance -= v.userPays;
      statement.push(`${jobId} bill ${s.post} voucher ${s.post - v.userPays} user ${v.userPays}`);
    };
    runJob('job-910b', ascend, T);
    runJob('job-a100', a100, T + 3_600_000);
    const app = appCharge({ kind: 'per-run', fen: 500 }, 3_600_000, { providerBps: 7000, centerBps: 2000, operatorBps: 1000 });
    balance -= app.amount;
    statement.push(`app ${app.amount} provider ${app.split.provider} center ${app.split.center} operator ${app.split.operator}`);
    assert.deepEqual(statement, ['job-910b bill 800 voucher 240 user 560', 'job-a100 bill 1200 voucher 0 user 1200', 'app 500 provider 350 center 100 operator 50']);
    assert.equal(balance, 10_000 - 560 - 1200 - 500);
    // 10 hours on 8 A100s may cost ¥120, more than the ¥77.40 left.
    const refusal = admit(holdFor(eight, 10 * 3_600_000, a100), fen(balance), [], {});
    assert.ok(!refusal.ok && refusal.code === 'insufficient_funds' && refusal.status === 402 && refusal.estimatedMax === 12_000 && refusal.remainingBalance === 7740);
    assert.equal(chargeFor(hourAt(T), ascend).total, 800);
  });
});
