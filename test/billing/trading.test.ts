// Acceptance of issue #12's trading flow, engine-level (the HTTP app without a port, agents driven
// through the engine) on BOTH databases: an org with ¥100 and a 30% voucher for domestic chips runs a
// job on a 910B pool and one on an A100 pool and launches a priced app; the statement shows each
// bill, the voucher share only on the 910B, the provider's share and the center's earnings; a job
// that would overdraw is refused (402) before it is queued. Then the ledger's invariants.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import { createApp } from '../../src/api/app.js';
import { ManualClock } from '../../src/core/clock.js';
import { createUser } from '../../src/engine/accounts.js';
import { registerAgent, reportState } from '../../src/engine/agents.js';
import { createCenter } from '../../src/engine/centers.js';
import { createContext, type EngineContext } from '../../src/engine/context.js';
import { tick } from '../../src/engine/control-loop.js';
import { balancesFromTransfers } from '../../src/store/ledger.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';

const T0 = Date.parse('2026-06-01T08:00:00Z');
const MIN = 60_000;
const energy = { priceFenPerKwh: Array(24).fill(30), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 };
const NPU = [{ name: 'npu', accelerator: 'ascend-910b', acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 }];
const GPU = [{ name: 'gpu', accelerator: 'nvidia-a100', acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 }];
const COMMANDS = ['sh', 'echo', 'sleep', 'python3'];

const APP = `name: poem
title: Poem writer
summary: Writes a poem on a domestic accelerator, for the billing acceptance test.
category: software
licence: Apache-2.0
version: 1.0.0
tags: [test]
app:
  command:
    cann: [echo, poem]
  resources:
    defaults: { acceleratorsPerNode: 1, walltimeSeconds: 3600 }
  adaptation:
    ascend-910b: { efficiency: 1, level: verified }
`;

interface Net {
  store: Store;
  ctx: EngineContext;
  clock: ManualClock;
  app: Hono;
  tokens: { alice: string; admin: string; pat: string };
  nx: { id: string; session: string };
  sh: { id: string; session: string };
  drop(): Promise<void>;
}

async function network(fresh: { databaseUrl: string | undefined; drop(): Promise<void> }): Promise<Net> {
  const store = await openStore({ databaseUrl: fresh.databaseUrl });
  const clock = new ManualClock(T0);
  const ctx = createContext(store, { billing: 'on', operatorFeeBps: 1000, agentDeadlineMs: 30 * 24 * 3_600_000 }, clock);
  const app = createApp(ctx);
  const alice = (await createUser(ctx, { orgName: 'acme', name: 'alice', role: 'user' })).token;
  const admin = (await createUser(ctx, { orgName: 'platform', name: 'root', role: 'admin' })).token;
  const pat = (await createUser(ctx, { orgName: 'poets', name: 'pat', role: 'provider' })).token;
  // 910B at ¥6.00 per accelerator-hour in Ningxia; A100 at ¥5.00 in Shanghai; cores free.
  const nx = await createCenter(ctx, { name: 'nx', displayName: 'Ningxia', region: 'ningxia', operatorOrg: 'nxops', energy, prices: { npu: { fenPerAcceleratorHour: 600, fenPerCoreHour: 0 } } });
  const nxReg = await registerAgent(ctx, nx.centerId, { connector: 'local', agentVersion: 'test', pools: NPU, commands: COMMANDS, runs: [] });
  const sh = await createCenter(ctx, { name: 'sh', displayName: 'Shanghai', region: 'shanghai', operatorOrg: 'shops', energy, prices: { gpu: { fenPerAcceleratorHour: 500, fenPerCoreHour: 0 } } });
  const shReg = await registerAgent(ctx, sh.centerId, { connector: 'local', agentVersion: 'test', pools: GPU, commands: COMMANDS, runs: [] });
  return {
    store,
    ctx,
    clock,
    app,
    tokens: { alice, admin, pat },
    nx: { id: nx.centerId, session: nxReg.sessionId },
    sh: { id: sh.centerId, session: shReg.sessionId },
    async drop() {
      await store.close();
      await fresh.drop();
    },
  };
}

async function call(net: Net, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await net.app.request(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, json: (text.startsWith('{') ? JSON.parse(text) : { text }) as Record<string, unknown> };
}

async function ok(net: Net, method: string, path: string, token: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await call(net, method, path, token, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** Runs a placed job at its center for `minutes` and reports how it ended. */
async function run(net: Net, jobId: string, minutes: number, end: 'succeeded' | 'failed' = 'succeeded', reason: string | null = null): Promise<void> {
  const job = await net.store.db.selectFrom('jobs').select(['center_id', 'attempt', 'state']).where('id', '=', jobId).executeTakeFirstOrThrow();
  assert.equal(job.state, 'placed', `job ${jobId} is placed`);
  const center = job.center_id === net.nx.id ? net.nx : net.sh;
  await reportState(net.ctx, center.id, center.session, jobId, { attempt: job.attempt, state: 'running', exitCode: null, reason: null, at: net.clock.now() });
  net.clock.advance(minutes * MIN);
  await reportState(net.ctx, center.id, center.session, jobId, { attempt: job.attempt, state: end, exitCode: end === 'succeeded' ? 0 : 1, reason, at: net.clock.now() });
}

/** Submits through the same store with billing off, as a job queued before billing was turned on: no maximum bill is recorded. */
async function submitWithBillingOff(net: Net, token: string, spec: unknown): Promise<string> {
  const billingOff = createApp({ ...net.ctx, config: { ...net.ctx.config, billing: 'off' } });
  const res = await billingOff.request('/v1/jobs', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(spec) });
  assert.equal(res.status, 201);
  return ((await res.json()) as { id: string }).id;
}

async function wallet(net: Net): Promise<{ paidFen: number; grantedFen: number; heldFen: number; availableFen: number }> {
  return (await ok(net, 'GET', '/v1/wallet', net.tokens.alice)) as never;
}

async function assertLedgerInvariants(net: Net): Promise<void> {
  const derived = await balancesFromTransfers(net.store.db);
  const stored = await net.store.db.selectFrom('ledger_accounts').selectAll().execute();
  let debits = 0;
  let credits = 0;
  for (const a of stored) {
    const d = derived.get(a.id)!;
    assert.deepEqual(d, { debitsPending: Number(a.debits_pending), debitsPosted: Number(a.debits_posted), creditsPending: Number(a.credits_pending), creditsPosted: Number(a.credits_posted) }, `account ${a.id}: stored balances = the sum of its transfers`);
    debits += Number(a.debits_posted) + Number(a.debits_pending);
    credits += Number(a.credits_posted) + Number(a.credits_pending);
    if (a.flag === 'debits_must_not_exceed_credits') assert.ok(Number(a.debits_posted) + Number(a.debits_pending) <= Number(a.credits_posted), `${a.id} above its floor`);
  }
  assert.equal(debits, credits, 'debits = credits');
  const charges = await net.store.db.selectFrom('job_charges' as never).select(['job_id' as never]).execute();
  const perJob = await net.store.db.selectFrom('ledger_transfers').select(['user_data', 'id']).where('phase', '=', 'post_pending').execute();
  const posts = new Map<string, number>();
  for (const p of perJob) posts.set(p.id.split(':').slice(0, 4).join(':'), (posts.get(p.id.split(':').slice(0, 4).join(':')) ?? 0) + 1);
  for (const [k, n] of posts) assert.ok(n <= 2, `${k} posted at most once per hold part`);
  assert.ok(charges.length > 0);
}

for (const database of await testDatabases()) {
  describe(`trading acceptance on ${database.name}`, { skip: database.skip, timeout: 120_000 }, () => {
    let net: Net;
    before(async () => {
      net = await network(await database.fresh());
    });
    after(async () => net?.drop());

    it('an org with ¥100 and a 30% domestic voucher: 910B and A100 jobs, an app launch, a 402, the statement', { timeout: 90_000 }, async () => {
      const { alice, admin, pat } = net.tokens;
      // Without credit, billing refuses a job before it is queued.
      const broke = await call(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'hi'], acceleratorsPerNode: 1, walltimeSeconds: 3600 });
      assert.equal(broke.status, 402, JSON.stringify(broke.json));
      assert.equal((broke.json.error as { code: string }).code, 'insufficient_funds');

      await ok(net, 'POST', '/v1/top-ups', admin, { org: 'acme', amountFen: 10_000, reference: 'bank-0001' });
      await ok(net, 'POST', '/v1/top-ups', admin, { org: 'acme', amountFen: 10_000, reference: 'bank-0001' }); // a retry: no second ¥100
      assert.deepEqual(await wallet(net), { ...(await wallet(net)), paidFen: 10_000, grantedFen: 0, heldFen: 0, availableFen: 10_000 });
      await ok(net, 'POST', '/v1/voucher-programs', admin, {
        name: 'Domestic compute voucher 2026',
        funding: { kind: 'pool', total: 100_000_000 },
        coPayBps: 3000,
        scope: { domesticOnly: true },
        validFrom: '2026-01-01T00:00:00+08:00',
        validUntil: '2027-01-01T00:00:00+08:00',
      });

      // 1. a 910B job: held ¥6.00 (1 h walltime), runs 30 min: bill ¥3.00, voucher ¥0.90, pays ¥2.10.
      const npuJob = (await ok(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'npu'], acceleratorsPerNode: 1, accelerators: ['ascend-910b'], walltimeSeconds: 3600 })).id as string;
      await tick(net.ctx);
      assert.equal((await wallet(net)).heldFen, 600, 'the placement holds the maximum bill');
      await run(net, npuJob, 30);
      assert.deepEqual(await wallet(net), { ...(await wallet(net)), paidFen: 10_000 - 210, heldFen: 0, availableFen: 10_000 - 210 });

      // 2. an A100 job: 30 min at ¥5.00/h: bill ¥2.50, no voucher (not a domestic chip).
      const gpuJob = (await ok(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'gpu'], acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], walltimeSeconds: 3600 })).id as string;
      await tick(net.ctx);
      await run(net, gpuJob, 30);
      assert.equal((await wallet(net)).paidFen, 10_000 - 210 - 250);

      // 3. an app priced ¥1.00 per run, split provider 70% / center 20% / operator 10%, run for 10 min on the 910B.
      await ok(net, 'POST', '/v1/products', pat, { manifest: APP });
      await ok(net, 'POST', '/v1/products/poem/versions/1.0.0/review', admin, { action: 'approve' });
      await ok(net, 'POST', '/v1/products/poem/price', pat, { price: { kind: 'per-run', fen: 100 }, shares: { providerBps: 7000, centerBps: 2000, operatorBps: 1000 } });
      const appJob = ((await ok(net, 'POST', '/v1/apps/poem/launch', alice, {})).id ?? ((await ok(net, 'GET', '/v1/jobs', alice)).items as { id: string; name: string }[]).find((j) => j.name === 'poem')!.id) as string;
      await tick(net.ctx);
      await run(net, appJob, 10);
      // 10 min of 910B = ¥1.00, voucher ¥0.30, user ¥0.70 + app ¥1.00.
      assert.equal((await wallet(net)).paidFen, 10_000 - 210 - 250 - 170);

      // 4. a job that would overdraw: refused with the figures, nothing written.
      const before = await net.store.db.selectFrom('jobs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const over = await call(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'big'], nodes: 2, acceleratorsPerNode: 8, accelerators: ['ascend-910b'], walltimeSeconds: 100 * 3600 });
      assert.equal(over.status, 402);
      const err = over.json.error as { code: string; message: string; hint: string };
      assert.equal(err.code, 'insufficient_funds');
      assert.match(err.message, /¥9,600\.00/, 'names what the job may cost');
      assert.match(err.message, /¥93\.70 available/, 'names what is available');
      assert.match(err.hint, /suanwang wallet/);
      const afterCount = await net.store.db.selectFrom('jobs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(afterCount.n), Number(before.n), 'no job row for a refused job');
      const batch = await call(net, 'POST', '/v1/jobs/batch', alice, { jobs: [{ command: ['echo', 'a'], acceleratorsPerNode: 1, walltimeSeconds: 3600, array: '1-20' }] });
      assert.equal(batch.status, 402, 'a batch is admitted on its total');

      // 5. the statement.
      const st = (await ok(net, 'GET', '/v1/statements/acme/2026-06', alice)) as {
        jobs: { jobId: string; accelerator: string; bill: number; voucher: number; appFee: number; providerShare: number; centerEarnings: number; operatorFee: number; userPaid: number; product: string | null }[];
        totals: { bills: number; vouchers: number; appFees: number; userPaid: number; credited: number; endpointCalls: number };
      };
      const line = (id: string) => st.jobs.find((j) => j.jobId === id)!;
      assert.deepEqual(
        [npuJob, gpuJob, appJob].map((id) => { const j = line(id); return [j.accelerator, j.bill, j.voucher, j.appFee, j.providerShare, j.centerEarnings, j.operatorFee, j.userPaid]; }),
        [
          ['ascend-910b', 300, 90, 0, 0, 270, 30, 210],
          ['nvidia-a100', 250, 0, 0, 0, 225, 25, 250],
          ['ascend-910b', 100, 30, 100, 70, 90 + 20, 10 + 10, 170],
        ],
      );
      assert.equal(line(appJob).product, 'poem');
      assert.deepEqual(st.totals, { bills: 650, vouchers: 120, appFees: 100, userPaid: 630, credited: 10_000, endpointCalls: 0 });
      // The provider and the operator of nx see their earnings on their own statements.
      const prov = (await ok(net, 'GET', '/v1/statements/poets/2026-06', admin)) as { earnings: { provider: number } };
      assert.equal(prov.earnings.provider, 70);
      const ops = (await ok(net, 'GET', '/v1/statements/nxops/2026-06', admin)) as { earnings: { centers: number } };
      assert.equal(ops.earnings.centers, 270 + 110);
      const forbidden = await call(net, 'GET', '/v1/statements/poets/2026-06', alice);
      assert.equal(forbidden.status, 403);

      // Usage like sreport, by chip, as CSV.
      const csv = await net.app.request('/v1/usage?by=chip&format=csv', { headers: { authorization: `Bearer ${alice}` } });
      assert.equal(csv.status, 200);
      assert.equal(await csv.text(), 'chip,jobs,accelerator_hours,billing_unit_hours,bill_fen,voucher_fen,app_fee_fen,user_paid_fen\nascend-910b,2,0.667,0,400,120,100,380\nnvidia-a100,1,0.5,0,250,0,0,250\n');
      const vouchers = (await ok(net, 'GET', '/v1/vouchers', alice)) as { items: { redeemed: number }[] };
      assert.equal(vouchers.items[0]!.redeemed, 120);

      await assertLedgerInvariants(net);
    });

    it('a requeue and a cancel release the hold; grants are spent before paid credit; retries never double-charge', { timeout: 60_000 }, async () => {
      const { alice, admin } = net.tokens;
      const start = await wallet(net);
      await ok(net, 'POST', '/v1/grants', admin, { org: 'acme', amountFen: 200, priority: 1 });
      const job = (await ok(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'again'], acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], walltimeSeconds: 3600, maxAttempts: 3 })).id as string;
      await tick(net.ctx);
      assert.equal((await wallet(net)).heldFen, 500);
      // The center loses the run: requeued, the hold released, nothing charged.
      const a1 = await net.store.db.selectFrom('jobs').select(['attempt']).where('id', '=', job).executeTakeFirstOrThrow();
      await reportState(net.ctx, net.sh.id, net.sh.session, job, { attempt: a1.attempt, state: 'running', exitCode: null, reason: null, at: net.clock.now() });
      net.clock.advance(5 * MIN);
      await reportState(net.ctx, net.sh.id, net.sh.session, job, { attempt: a1.attempt, state: 'failed', exitCode: null, reason: 'node-failure', at: net.clock.now() });
      let w = await wallet(net);
      assert.equal(w.heldFen, 0, 'the requeue voided the hold');
      assert.equal(w.paidFen, start.paidFen, 'an infrastructure failure is not charged');
      assert.equal(w.grantedFen, 200);
      // Placed again (attempt 2, a new hold), runs 12 min: ¥1.00, all of it from the grant.
      await tick(net.ctx);
      await run(net, job, 12);
      // A retried final report changes nothing.
      const a2 = await net.store.db.selectFrom('jobs').select(['attempt']).where('id', '=', job).executeTakeFirstOrThrow();
      await reportState(net.ctx, net.sh.id, net.sh.session, job, { attempt: a2.attempt, state: 'succeeded', exitCode: 0, reason: null, at: net.clock.now() });
      w = await wallet(net);
      assert.equal(w.grantedFen, 100, 'granted credit pays first');
      assert.equal(w.paidFen, start.paidFen);
      assert.equal(w.heldFen, 0);
      // A queued-then-placed job cancelled before it starts: its hold is released.
      const c = (await ok(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'never'], acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], walltimeSeconds: 3600 })).id as string;
      await tick(net.ctx);
      assert.ok((await wallet(net)).heldFen > 0);
      await ok(net, 'POST', `/v1/jobs/${c}/cancel`, alice);
      w = await wallet(net);
      assert.equal(w.heldFen, 0);
      assert.equal(w.paidFen, start.paidFen);
      assert.equal(w.grantedFen, 100);
      // A failure by the program is charged for the time used.
      const f = (await ok(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'fails'], acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], walltimeSeconds: 3600 })).id as string;
      await tick(net.ctx);
      await run(net, f, 24, 'failed');
      w = await wallet(net);
      assert.equal(w.grantedFen + w.paidFen, 100 + start.paidFen - 200);
      const charges = (await ok(net, 'GET', `/v1/jobs/${job}/charges`, alice)).items as { attempt: number; outcome: string; bill: number }[];
      assert.deepEqual(charges.map((x) => [x.attempt, x.outcome, x.bill]), [[1, 'infrastructure-failure', 0], [2, 'succeeded', 100]]);
      await assertLedgerInvariants(net);
    });
    it('a job is refused at submission when the org\'s queued jobs already speak for the credit, with the figures; nothing is written', { timeout: 60_000 }, async () => {
      const { alice } = net.tokens;
      const start = await wallet(net);
      const minutes = Math.floor((0.4 * start.availableFen * 60) / 500);
      const spec = { command: ['echo', 'part'], acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], walltimeSeconds: minutes * 60 };
      const first = (await ok(net, 'POST', '/v1/jobs', alice, spec)).id as string;
      const second = (await ok(net, 'POST', '/v1/jobs', alice, spec)).id as string;
      const before = await net.store.db.selectFrom('jobs').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      // Neither is placed yet (no pass ran): both hold nothing, but both are spoken for.
      const third = await call(net, 'POST', '/v1/jobs', alice, spec);
      assert.equal(third.status, 402, JSON.stringify(third.json));
      const err = third.json.error as { code: string; message: string; field: string };
      assert.equal(err.code, 'insufficient_funds');
      assert.match(err.message, /and 2 jobs of your org not yet placed may cost up to ¥[\d,.]+, but the wallet has ¥[\d,.]+ available/);
      const after = await net.store.db.selectFrom('jobs').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n), 'the refused job was not written');
      // Once both are placed their holds take the place of their queued bills: still refused.
      await tick(net.ctx);
      assert.equal((await call(net, 'POST', '/v1/jobs', alice, spec)).status, 402);
      for (const id of [first, second]) await ok(net, 'POST', `/v1/jobs/${id}/cancel`, alice);
      assert.deepEqual(await wallet(net), start, 'two cancels before start cost nothing');
      await assertLedgerInvariants(net);
    });

    it('two jobs queued while billing was off, not both coverable once it is on: the second waits for credit, with the figures, and runs once the first lets go', { timeout: 60_000 }, async () => {
      const { alice } = net.tokens;
      const start = await wallet(net);
      const minutes = Math.ceil((0.6 * start.availableFen * 60) / 500);
      const spec = { command: ['echo', 'half'], acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], walltimeSeconds: minutes * 60 };
      // Submitted through a control plane with billing off (no maximum bill recorded), placed with it on.
      const first = await submitWithBillingOff(net, alice, spec);
      const second = await submitWithBillingOff(net, alice, spec);
      await tick(net.ctx);
      const state = async (id: string) => (await net.store.db.selectFrom('jobs').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state;
      // Either may be placed first (the scheduler's order); the other waits.
      const [a, b] = (await state(first)) === 'placed' ? [first, second] : [second, first];
      assert.deepEqual([await state(a), await state(b)], ['placed', 'queued']);
      await tick(net.ctx); // a second pass says it no more than once
      const said = await net.store.db.selectFrom('job_events').select('message').where('job_id', '=', b).where('message', 'like', 'waiting for credit%').execute();
      assert.equal(said.length, 1, JSON.stringify(said));
      assert.match(said[0]!.message, /holds ¥[\d,.]+, but the wallet has ¥[\d,.]+ available/);
      await ok(net, 'POST', `/v1/jobs/${a}/cancel`, alice);
      await tick(net.ctx);
      assert.equal(await state(b), 'placed');
      await ok(net, 'POST', `/v1/jobs/${b}/cancel`, alice);
      assert.deepEqual(await wallet(net), start, 'two cancels before start cost nothing');
      await assertLedgerInvariants(net);
    });

    it('quote prices each pool with the voucher share; an org budget refuses with 422 and the figures', { timeout: 60_000 }, async () => {
      const { alice } = net.tokens;
      const q = (await ok(net, 'POST', '/v1/price-quote', alice, { command: ['echo'], acceleratorsPerNode: 1, walltimeSeconds: 3600 })) as { billing: string; pools: { center: string; maxBill: number; voucherShare: number; youPayAtMost: number }[] };
      assert.equal(q.billing, 'on');
      assert.deepEqual(q.pools.map((p) => [p.center, p.maxBill, p.voucherShare, p.youPayAtMost]), [['nx', 600, 180, 420], ['sh', 500, 0, 500]]);
      // The same job launching the priced app: its ¥1 per-run fee is added (the voucher pays no part of it).
      const withApp = (await ok(net, 'POST', '/v1/price-quote?app=poem', alice, { command: ['echo'], acceleratorsPerNode: 1, walltimeSeconds: 3600 })) as { pools: { center: string; appFeeAtMost: number; youPayAtMost: number }[] };
      assert.deepEqual(withApp.pools.map((p) => [p.center, p.appFeeAtMost, p.youPayAtMost]), [['nx', 100, 520], ['sh', 100, 600]]);
      assert.equal((await call(net, 'POST', '/v1/price-quote?app=nope', alice, { command: ['echo'], acceleratorsPerNode: 1, walltimeSeconds: 3600 })).status, 404);
      // ¥9.30 spent so far this month; a ¥11 budget: the next charge crosses 80% and fires that alert once.
      const { admin } = net.tokens;
      const big = (await ok(net, 'POST', '/v1/budgets', admin, { org: 'acme', limitFen: 1_100 })) as { id: string };
      const small = (await ok(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'small'], acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], walltimeSeconds: 60 })).id as string;
      await tick(net.ctx);
      await run(net, small, 1);
      const alerts = await net.store.db.selectFrom('budget_alerts' as never).select(['budget_id' as never, 'threshold_bps' as never]).execute();
      assert.deepEqual(alerts, [{ budget_id: big.id, threshold_bps: 8000 }]);
      const events = await net.store.db.selectFrom('job_events').select('message').where('job_id', '=', small).execute();
      assert.ok(events.some((e) => /reached 80% of ¥11\.00/.test(e.message)), JSON.stringify(events));
      await ok(net, 'POST', '/v1/budgets', admin, { org: 'acme', limitFen: 1_000 });
      const before = await net.store.db.selectFrom('jobs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const r = await call(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'over'], acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], walltimeSeconds: 3600 });
      assert.equal(r.status, 422, JSON.stringify(r.json));
      const err = r.json.error as { code: string; message: string; hint: string };
      assert.equal(err.code, 'over_budget');
      assert.match(err.message, /budget budget_[\w-]+ has ¥[\d.]+ left of ¥1[01]\.00/);
      assert.match(err.hint, /lower the walltime/);
      const afterCount = await net.store.db.selectFrom('jobs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(afterCount.n), Number(before.n));
    });
    it('two jobs each within a budget but not both: the second waits for the budget at placement, with the figures', { timeout: 60_000 }, async () => {
      const { admin } = net.tokens;
      const tess = (await createUser(net.ctx, { orgName: 'thrift', name: 'tess', role: 'user' })).token;
      await ok(net, 'POST', '/v1/top-ups', admin, { org: 'thrift', amountFen: 10_000 });
      await ok(net, 'POST', '/v1/budgets', admin, { org: 'thrift', limitFen: 1_000 });
      // 72 minutes of one A100 at ¥5/h: ¥6 each; together they would pass the ¥10 budget. With billing on
      // the second is refused at submission (the first is spoken for); the first was submitted while
      // billing was off (no maximum bill recorded), so both are queued and the second one's hold must wait.
      const spec = { command: ['echo', 'thrifty'], acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], walltimeSeconds: 72 * 60 };
      const first = await submitWithBillingOff(net, tess, spec);
      const second = (await ok(net, 'POST', '/v1/jobs', tess, spec)).id as string;
      const refused = await call(net, 'POST', '/v1/jobs', tess, spec);
      assert.equal(refused.status, 422, 'a third would pass the budget counting the second, queued');
      assert.match((refused.json.error as { message: string }).message, /1 job of your org not yet placed may cost up to ¥6\.\d\d, but budget/);
      await tick(net.ctx);
      const state = async (id: string) => (await net.store.db.selectFrom('jobs').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state;
      const [a, b] = (await state(first)) === 'placed' ? [first, second] : [second, first];
      assert.deepEqual([await state(a), await state(b)], ['placed', 'queued']);
      await tick(net.ctx);
      const said = await net.store.db.selectFrom('job_events').select('message').where('job_id', '=', b).where('message', 'like', 'waiting for budget%').execute();
      assert.equal(said.length, 1, JSON.stringify(said));
      assert.match(said[0]!.message, /holds ¥6\.\d\d, but budget budget_[\w-]+ has ¥4\.\d\d left of ¥10\.00 this period/);
      await ok(net, 'POST', `/v1/jobs/${a}/cancel`, tess);
      await tick(net.ctx);
      assert.equal(await state(b), 'placed', 'the released hold frees the budget');
      await ok(net, 'POST', `/v1/jobs/${b}/cancel`, tess);
      await assertLedgerInvariants(net);
    });

    it('a by-code voucher program pays only orgs that redeemed a code; a code works once; bad codes are refused', { timeout: 60_000 }, async () => {
      const { alice, admin } = net.tokens;
      const tess = (await createUser(net.ctx, { orgName: 'labs', name: 'lee', role: 'user' })).token;
      await ok(net, 'POST', '/v1/top-ups', admin, { org: 'acme', amountFen: 1_000 });
      const created = await ok(net, 'POST', '/v1/voucher-programs', admin, {
        name: 'lab-50',
        funding: { kind: 'pool', total: 100_000 },
        coPayBps: 5000,
        scope: { domesticOnly: true },
        validUntil: new Date(T0 + 365 * 24 * 3_600_000).toISOString(),
        enrolment: 'by-code',
      });
      const names = async (token: string) => ((await ok(net, 'GET', '/v1/vouchers', token)).items as { name: string }[]).map((v) => v.name);
      assert.ok(!(await names(alice)).includes('lab-50'), 'not listed for an org without a code');
      const { codes } = (await ok(net, 'POST', '/v1/voucher-programs/lab-50/codes', admin, { count: 2 })) as { codes: string[] };
      assert.equal(codes.length, 2);
      assert.match(codes[0]!, /^SWV(-[0-9A-HJKMNP-TV-Z]{4}){5}$/);
      assert.equal((await call(net, 'POST', '/v1/voucher-programs/lab-50/codes', alice, { count: 1 })).status, 403, 'admins only');
      for (const bad of ['SWV-0000-0000-0000-0000-0000', 'hello']) {
        const r = await call(net, 'POST', '/v1/vouchers/redeem', alice, { code: bad });
        assert.equal(r.status, 404, JSON.stringify(r.json));
        assert.equal((r.json.error as { field: string }).field, 'code');
      }
      // Typed loosely (lower case, spaces): the same code.
      const redeemed = await ok(net, 'POST', '/v1/vouchers/redeem', alice, { code: codes[0]!.toLowerCase().replace(/-/g, ' ') });
      assert.equal(redeemed.program, 'lab-50');
      assert.ok((await names(alice)).includes('lab-50'));
      const again = await call(net, 'POST', '/v1/vouchers/redeem', alice, { code: codes[1]! });
      assert.equal(again.status, 409, 'one voucher of a program per org: the second code stays unused');
      assert.equal((await call(net, 'POST', '/v1/vouchers/redeem', tess, { code: codes[0]! })).status, 409, 'a code works once');
      await ok(net, 'POST', '/v1/vouchers/redeem', tess, { code: codes[1]! });
      // Five 910B minutes (acme's budget has little left): the open 30% program and lab-50's 50% both
      // apply; the one paying most pays.
      const id = (await ok(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'lab'], acceleratorsPerNode: 1, accelerators: ['ascend-910b'], walltimeSeconds: 300 })).id as string;
      await tick(net.ctx);
      await run(net, id, 5);
      const [charge] = (await ok(net, 'GET', `/v1/jobs/${id}/charges`, alice)).items as { bill: number; voucher: number; voucherProgramId: string }[];
      assert.equal(charge!.bill, 50);
      assert.equal(charge!.voucher, 25);
      assert.equal(charge!.voucherProgramId, created.id);
      await assertLedgerInvariants(net);
    });

    it('payouts and refunds: never more than earned or paid and not held, with the figures; a repeated reference changes nothing', { timeout: 60_000 }, async () => {
      const { admin } = net.tokens;
      const earnings = async () => {
        const [a] = await net.store.db.selectFrom('ledger_accounts').selectAll().where('id', '=', `center-earnings:${net.nx.id}`).execute();
        return Number(a!.credits_posted) - Number(a!.debits_posted) - Number(a!.debits_pending);
      };
      const earned = await earnings();
      assert.ok(earned > 0, 'nx earned from the 910B jobs');
      const tooMuch = await call(net, 'POST', '/v1/payouts', admin, { payee: { kind: 'center', name: 'nx' }, amountFen: earned + 1 });
      assert.equal(tooMuch.status, 402, JSON.stringify(tooMuch.json));
      assert.match((tooMuch.json.error as { message: string }).message, /more than center nx has earned and not yet been paid/);
      assert.equal(await earnings(), earned, 'a refused payout moves nothing');
      const paid = await ok(net, 'POST', '/v1/payouts', admin, { payee: { kind: 'center', name: 'nx' }, amountFen: earned - 1, reference: 'june' });
      assert.equal(paid.balance, 1);
      await ok(net, 'POST', '/v1/payouts', admin, { payee: { kind: 'center', name: 'nx' }, amountFen: earned - 1, reference: 'june' });
      assert.equal(await earnings(), 1, 'the retry paid nothing more');
      const start = await wallet(net);
      const refused = await call(net, 'POST', '/v1/refunds', admin, { org: 'acme', amountFen: start.paidFen + 1 });
      assert.equal(refused.status, 402);
      const back = await ok(net, 'POST', '/v1/refunds', admin, { org: 'acme', amountFen: 1 });
      assert.equal(back.amount, 1);
      assert.equal((await wallet(net)).paidFen, start.paidFen - 1);
      assert.equal((await call(net, 'POST', '/v1/payouts', admin, { payee: { kind: 'center', name: 'nowhere' }, amountFen: 1 })).status, 404);
      await assertLedgerInvariants(net);
    });

    it('a stop-at-limit budget set below what running jobs hold stops them once their accrued bill reaches it; they are charged what they used', { timeout: 60_000 }, async () => {
      const { admin } = net.tokens;
      const sam = (await createUser(net.ctx, { orgName: 'stopper', name: 'sam', role: 'user' })).token;
      await ok(net, 'POST', '/v1/top-ups', admin, { org: 'stopper', amountFen: 10_000 });
      // One 910B (¥6/h) for up to an hour, placed and started before any budget exists.
      const id = (await ok(net, 'POST', '/v1/jobs', sam, { command: ['echo', 'long'], acceleratorsPerNode: 1, accelerators: ['ascend-910b'], walltimeSeconds: 3600 })).id as string;
      await tick(net.ctx);
      const job = await net.store.db.selectFrom('jobs').select(['attempt', 'state']).where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(job.state, 'placed');
      await reportState(net.ctx, net.nx.id, net.nx.session, id, { attempt: job.attempt, state: 'running', exitCode: null, reason: null, at: net.clock.now() });
      await ok(net, 'POST', '/v1/budgets', admin, { org: 'stopper', limitFen: 100, onExhaustion: 'stop-at-limit' });
      const asked = async () => (await net.store.db.selectFrom('jobs').select('cancel_requested_at').where('id', '=', id).executeTakeFirstOrThrow()).cancel_requested_at;
      net.clock.advance(5 * MIN); // ¥0.50 accrued: under the ¥1 limit
      await tick(net.ctx);
      assert.equal(await asked(), null, 'still under the limit: it runs on');
      net.clock.advance(6 * MIN); // ¥1.10 accrued: past it
      await tick(net.ctx);
      assert.ok(await asked(), 'past the limit: its stop is asked for');
      const said = await net.store.db.selectFrom('job_events').select('message').where('job_id', '=', id).where('message', 'like', 'stopping: budget%').execute();
      assert.equal(said.length, 1);
      assert.match(said[0]!.message, /reached its limit of ¥1\.00 \(stop-at-limit\): ¥0\.00 spent this period and ¥1\.10 accrued/);
      await tick(net.ctx);
      assert.equal((await net.store.db.selectFrom('job_events').select('message').where('job_id', '=', id).where('message', 'like', 'stopping: budget%').execute()).length, 1, 'asked once');
      await reportState(net.ctx, net.nx.id, net.nx.session, id, { attempt: job.attempt, state: 'cancelled', exitCode: null, reason: 'cancelled', at: net.clock.now() });
      const [charge] = (await ok(net, 'GET', `/v1/jobs/${id}/charges`, sam)).items as { bill: number; state: string }[];
      assert.equal(charge!.state, 'settled');
      assert.equal(charge!.bill, 110, 'charged the 11 minutes it ran');
      await assertLedgerInvariants(net);
    });

    it("a project's budget counts only that project's jobs; usage groups by project", { timeout: 60_000 }, async () => {
      const { admin } = net.tokens;
      const pia = (await createUser(net.ctx, { orgName: 'projects', name: 'pia', role: 'user' })).token;
      await ok(net, 'POST', '/v1/top-ups', admin, { org: 'projects', amountFen: 10_000 });
      await ok(net, 'POST', '/v1/budgets', admin, { org: 'projects', limitFen: 100, project: 'alpha' });
      // One 910B hour: ¥6 at most, past alpha's ¥1 budget, within the wallet.
      const spec = (project?: string) => ({ command: ['echo', 'p'], acceleratorsPerNode: 1, accelerators: ['ascend-910b'], walltimeSeconds: 3600, ...(project ? { project } : {}) });
      const refused = await call(net, 'POST', '/v1/jobs', pia, spec('alpha'));
      assert.equal(refused.status, 422, JSON.stringify(refused.json));
      assert.equal((refused.json.error as { code: string }).code, 'over_budget');
      const beta = (await ok(net, 'POST', '/v1/jobs', pia, spec('beta'))).id as string;
      const none = (await ok(net, 'POST', '/v1/jobs', pia, spec())).id as string;
      const bad = await call(net, 'POST', '/v1/jobs', pia, spec('no spaces'));
      assert.equal(bad.status, 400);
      assert.equal((bad.json.error as { field: string }).field, 'project');
      await tick(net.ctx);
      await run(net, beta, 10);
      await run(net, none, 10);
      const usage = (await ok(net, 'GET', '/v1/usage?by=project', pia)) as { rows: { key: string; bill: number }[] };
      assert.deepEqual(usage.rows.map((r) => [r.key, r.bill]), [['(none)', 100], ['beta', 100]]);
      // alpha's budget saw none of beta's spending: a 10-minute alpha job (¥1) fits it exactly.
      await ok(net, 'POST', '/v1/jobs', pia, { ...spec('alpha'), walltimeSeconds: 600 });
      await assertLedgerInvariants(net);
    });

    it('a lost agent releases the hold of its running job (a platform failure is not charged)', { timeout: 60_000 }, async () => {
      const { alice } = net.tokens;
      const start = await wallet(net);
      const id = (await ok(net, 'POST', '/v1/jobs', alice, { command: ['echo', 'lost'], acceleratorsPerNode: 1, accelerators: ['nvidia-a100'], walltimeSeconds: 60, maxAttempts: 1 })).id as string;
      await tick(net.ctx);
      const j = await net.store.db.selectFrom('jobs').select(['attempt']).where('id', '=', id).executeTakeFirstOrThrow();
      await reportState(net.ctx, net.sh.id, net.sh.session, id, { attempt: j.attempt, state: 'running', exitCode: null, reason: null, at: net.clock.now() });
      assert.equal((await wallet(net)).heldFen, 8);
      // No heartbeat past the agent deadline (30 days here): the center is lost, the job fails, the hold is voided.
      net.clock.advance(31 * 24 * 3_600_000);
      await tick(net.ctx);
      const after = await net.store.db.selectFrom('jobs').select(['state']).where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(after.state, 'failed');
      const w = await wallet(net);
      assert.equal(w.heldFen, 0);
      assert.equal(w.paidFen + w.grantedFen, start.paidFen + start.grantedFen);
      const charges = (await ok(net, 'GET', `/v1/jobs/${id}/charges`, alice)).items as { outcome: string; bill: number }[];
      assert.deepEqual(charges.map((c) => [c.outcome, c.bill]), [['infrastructure-failure', 0]]);
      await assertLedgerInvariants(net);
    });
  });
}
