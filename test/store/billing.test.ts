// The billing tables (0009) on both databases: each case on a fresh database, times from T0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fen } from '../../src/core/money.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { insertOrg } from '../../src/store/accounts.js';
import { insertCenter, listPools, syncPools } from '../../src/store/centers.js';
import { insertProduct } from '../../src/store/products.js';
import {
  getAppPrice,
  insertBudget,
  insertGrant,
  insertPriceBookVersion,
  insertRedemption,
  insertVoucherProgram,
  listBudgetAlerts,
  listBudgets,
  listGrants,
  listPriceBookVersions,
  listRedemptions,
  listUsageEvents,
  listVoucherPrograms,
  programSpent,
  recordBudgetAlert,
  recordUsageEvent,
  setAppPrice,
  type StoredPriceBookVersion,
  type StoredVoucherProgram,
} from '../../src/store/billing.js';
import { testDatabases, type TestDatabase } from '../support/databases.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const t = (ms: number) => T0.getTime() + ms;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ENERGY = { priceFenPerKwh: Array(24).fill(50), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 };

/** A network with one org (acme), one operator, a center in Ningxia with a 910B pool, and a model in the store. */
async function network(store: Store): Promise<{ orgId: string; poolId: string; productId: string }> {
  const db = store.db;
  await insertOrg(db, { id: 'org_acme', name: 'acme', at: T0 });
  await insertOrg(db, { id: 'org_op', name: 'operator', at: T0 });
  await insertCenter(db, { id: 'ctr_nx', name: 'ningxia', displayName: 'Ningxia', region: 'ningxia', operatorOrgId: 'org_op', energy: ENERGY, at: T0 });
  await syncPools(db, 'ctr_nx', [{ name: 'ascend', accelerator: 'ascend-910b', acceleratorsPerNode: 8, coresPerNode: 192, memoryMiBPerNode: 1 << 20, nodes: 4 }], () => 'pool_910b', T0);
  assert.equal((await listPools(db, 'ctr_nx'))[0]?.id, 'pool_910b');
  await insertProduct(db, {
    id: 'prd_qwen',
    providerOrgId: 'org_op',
    name: 'qwen-infer',
    at: T0,
    title: 'Qwen inference',
    summary: 's',
    description: 'd',
    category: 'model',
    tags: [],
    licence: 'Apache-2.0',
    visibility: 'public',
    families: ['cann'],
    searchText: 'qwen',
    searchTokens: 'qwen',
  });
  return { orgId: 'org_acme', poolId: 'pool_910b', productId: 'prd_qwen' };
}

function priceBook(poolId: string, version: number, effectiveFrom: number, fenPerGpuHour: number): Omit<StoredPriceBookVersion, 'accelerator'> {
  return {
    poolId,
    version,
    effectiveFrom,
    rates: { fenPerAcceleratorHour: fen(fenPerGpuHour), fenPerCoreHour: fen(2), fenPerGiBHour: fen(0) },
    timeOfUse: version === 2 ? { factorsBps: Array.from({ length: 24 }, (_, h) => (h < 8 ? 5000 : 10_000)), utcOffsetHours: 8 } : null,
    billingWeights: version === 2 ? { milliPerAccelerator: { 'ascend-910b': 800 }, milliPerCore: 0, milliPerGiB: 0, mode: 'sum' } : null,
  };
}

/** Ningxia's 30% voucher for domestic chips, valid in 2026, capped at ¥1,000 per org a year. */
const ningxia30: StoredVoucherProgram = {
  id: 'vp_nx30',
  name: 'Ningxia compute voucher 2026',
  funding: { kind: 'pool', total: fen(100_000_000_00) },
  coPayBps: 3000,
  coPayBpsByCategory: { model: 5000 },
  scope: { domesticOnly: true, categories: [], regions: ['ningxia'], centers: [] },
  validFrom: t(0),
  validUntil: t(365 * DAY),
  orgAnnualCap: fen(100_000),
  utcOffsetHours: 8,
      enrolment: 'open',
};
const trainingVoucher: StoredVoucherProgram = { ...ningxia30, id: 'vp_train', name: 'training voucher', funding: { kind: 'per-voucher', faceValue: fen(50_000) }, orgAnnualCap: null, validFrom: t(30 * DAY) };

function billingSuite(target: TestDatabase): void {
  /** A case on a fresh, migrated database with the network above. */
  const onFreshStore = (body: (store: Store, n: Awaited<ReturnType<typeof network>>) => Promise<void>) => async () => {
    const { databaseUrl, drop } = await target.fresh();
    try {
      const store = await openStore({ databaseUrl });
      try {
        await body(store, await network(store));
      } finally {
        await store.close();
      }
    } finally {
      await drop();
    }
  };

  it('price book versions are added, never rewritten, and listed oldest first with the pool’s chip', { timeout: 60_000 }, onFreshStore(async ({ db }, n) => {
    await insertPriceBookVersion(db, priceBook(n.poolId, 2, t(DAY), 1200), T0);
    await insertPriceBookVersion(db, priceBook(n.poolId, 1, t(0), 1000), T0);
    const versions = await listPriceBookVersions(db, n.poolId);
    assert.deepEqual(versions, [
      { ...priceBook(n.poolId, 1, t(0), 1000), accelerator: 'ascend-910b' },
      { ...priceBook(n.poolId, 2, t(DAY), 1200), accelerator: 'ascend-910b' },
    ]);
    await assert.rejects(insertPriceBookVersion(db, priceBook(n.poolId, 2, t(2 * DAY), 1300), T0), 'the same version number again');
    await assert.rejects(insertPriceBookVersion(db, priceBook(n.poolId, 3, t(DAY), 1300), T0), 'two versions from the same instant');
    await assert.rejects(insertPriceBookVersion(db, priceBook('pool_missing', 1, t(0), 1), T0), 'a pool that does not exist');
  }));

  it('voucher programs round-trip and list by validity; grants list in spend order', { timeout: 60_000 }, onFreshStore(async ({ db }, n) => {
    await insertVoucherProgram(db, trainingVoucher, T0);
    await insertVoucherProgram(db, ningxia30, T0);
    assert.deepEqual(await listVoucherPrograms(db), [ningxia30, trainingVoucher]);
    assert.deepEqual((await listVoucherPrograms(db, new Date(t(DAY)))).map((p) => p.id), ['vp_nx30']);
    await assert.rejects(insertVoucherProgram(db, { ...ningxia30, id: 'vp_bad', name: 'bad', coPayBps: 10_001 }, T0), 'a co-pay over 100%');

    const grant = (id: string, priority: number, expiresAt: number | null) => ({ id, orgId: n.orgId, programId: null, amount: fen(1000), priority, expiresAt, grantedAt: t(0) });
    await insertGrant(db, grant('g_never', 1, null));
    await insertGrant(db, grant('g_later', 1, t(2 * DAY)));
    await insertGrant(db, grant('g_soon', 1, t(DAY)));
    await insertGrant(db, grant('g_first', 0, null));
    await insertGrant(db, { ...grant('g_voucher', 2, t(DAY)), programId: 'vp_nx30' });
    assert.deepEqual((await listGrants(db, n.orgId)).map((g) => g.id), ['g_first', 'g_soon', 'g_later', 'g_never', 'g_voucher']);
    assert.deepEqual((await listGrants(db, n.orgId))[4], { ...grant('g_voucher', 2, t(DAY)), programId: 'vp_nx30' });
  }));

  it('a job is subsidised once: a second redemption by any program finds it subsidised', { timeout: 60_000 }, onFreshStore(async ({ db }, n) => {
    await insertVoucherProgram(db, ningxia30, T0);
    await insertVoucherProgram(db, trainingVoucher, T0);
    const redemption = (id: string, programId: string, jobId: string, amount: number, at: number) => ({
      id, programId, orgId: n.orgId, jobId, amount: fen(amount), at, evidence: { usage: { nodes: 1 }, lines: [{ label: 'accelerator-hours ascend-910b', amount: amount * 3 }], billTotal: amount * 3 },
    });
    assert.equal(await insertRedemption(db, redemption('r1', 'vp_nx30', 'job_1', 3000, t(HOUR))), 'inserted');
    assert.equal(await insertRedemption(db, redemption('r2', 'vp_nx30', 'job_1', 3000, t(HOUR))), 'already-subsidised', 'the same program again');
    assert.equal(await insertRedemption(db, redemption('r3', 'vp_train', 'job_1', 3000, t(HOUR))), 'already-subsidised', 'another program');
    assert.equal(await insertRedemption(db, redemption('r4', 'vp_train', 'job_2', 500, t(2 * HOUR))), 'inserted');
    assert.deepEqual(await listRedemptions(db, n.orgId), [redemption('r1', 'vp_nx30', 'job_1', 3000, t(HOUR)), redemption('r4', 'vp_train', 'job_2', 500, t(2 * HOUR))]);
    assert.deepEqual((await listRedemptions(db, n.orgId, { programId: 'vp_train' })).map((r) => r.id), ['r4']);
    assert.deepEqual((await listRedemptions(db, n.orgId, { since: new Date(t(HOUR + 1)) })).map((r) => r.id), ['r4']);
    assert.deepEqual(await programSpent(db, ['vp_nx30', 'vp_train', 'vp_none']), { vp_nx30: 3000, vp_train: 500, vp_none: 0 });
  }));

  it('budgets round-trip; an alert is recorded once per budget, period and threshold', { timeout: 60_000 }, onFreshStore(async ({ db }, n) => {
    const monthly = { id: 'b_org', orgId: n.orgId, projectId: null, limit: fen(100_000), period: { kind: 'month' as const, utcOffsetHours: 8 }, thresholdsBps: [8000, 10_000], onExhaustion: 'finish' as const };
    const project = { ...monthly, id: 'b_proj', projectId: 'proj_llm', period: { kind: 'window' as const, from: t(0), until: t(7 * DAY) }, onExhaustion: 'stop-at-limit' as const };
    const other = { ...monthly, id: 'b_other', projectId: 'proj_other' };
    for (const b of [monthly, project, other]) await insertBudget(db, b, T0);
    assert.deepEqual(await listBudgets(db, n.orgId, 'proj_llm'), [monthly, project]);
    assert.deepEqual((await listBudgets(db, n.orgId, null)).map((b) => b.id), ['b_org']);
    assert.deepEqual((await listBudgets(db, n.orgId)).map((b) => b.id), ['b_org', 'b_other', 'b_proj']);

    const march = Date.UTC(2026, 1, 28, 16);
    assert.equal(await recordBudgetAlert(db, { budgetId: 'b_org', periodFrom: march, thresholdBps: 8000, spent: fen(80_000) }, T0), true);
    assert.equal(await recordBudgetAlert(db, { budgetId: 'b_org', periodFrom: march, thresholdBps: 8000, spent: fen(85_000) }, T0), false, 'once per period');
    assert.equal(await recordBudgetAlert(db, { budgetId: 'b_org', periodFrom: march, thresholdBps: 10_000, spent: fen(100_000) }, T0), true);
    assert.equal(await recordBudgetAlert(db, { budgetId: 'b_org', periodFrom: march + 31 * DAY, thresholdBps: 8000, spent: fen(80_000) }, T0), true, 'again next period');
    assert.deepEqual(await listBudgetAlerts(db, 'b_org', march), [
      { budgetId: 'b_org', periodFrom: march, thresholdBps: 8000 },
      { budgetId: 'b_org', periodFrom: march, thresholdBps: 10_000 },
    ]);
  }));

  it('app prices are set, replaced and checked; usage events are recorded once', { timeout: 60_000 }, onFreshStore(async ({ db }, n) => {
    assert.equal(await getAppPrice(db, n.productId), undefined);
    const shares = { providerBps: 7000, centerBps: 2000, operatorBps: 1000 };
    await setAppPrice(db, { productId: n.productId, price: { kind: 'per-run', fen: 500 }, shares }, T0);
    await setAppPrice(db, { productId: n.productId, price: { kind: 'per-hour', fenPerHour: 300 }, shares }, T0);
    assert.deepEqual(await getAppPrice(db, n.productId), { productId: n.productId, price: { kind: 'per-hour', fenPerHour: 300 }, shares });
    await assert.rejects(setAppPrice(db, { productId: n.productId, price: { kind: 'free' }, shares: { ...shares, operatorBps: 999 } }, T0), 'shares that do not add up to 100%');

    const started = { eventId: 'ev_1', jobId: 'job_1', attempt: 1, kind: 'started' as const, at: t(HOUR), nodes: 2 };
    assert.equal(await recordUsageEvent(db, started, T0), 'inserted');
    assert.equal(await recordUsageEvent(db, started, T0), 'duplicate');
    assert.equal(await recordUsageEvent(db, { ...started, at: t(HOUR + 1) }, T0), 'conflict');
    assert.equal(await recordUsageEvent(db, { ...started, eventId: 'ev_2', kind: 'ended', at: t(3 * HOUR) }, T0), 'inserted');
    assert.deepEqual(await listUsageEvents(db, 'job_1'), [started, { ...started, eventId: 'ev_2', kind: 'ended', at: t(3 * HOUR) }]);
  }));
}

for (const db of await testDatabases()) {
  describe(`billing tables on ${db.name}`, { skip: db.skip }, () => billingSuite(db));
}
