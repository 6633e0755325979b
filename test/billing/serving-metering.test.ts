// Metering of inference endpoints into the ledger (issue 15) on BOTH databases: calls are charged
// per request and per 1,000 tokens from the endpoint's counters, in one transaction per pass, as
// balanced linked transfers (granted credit first, the operator's fee out of the provider's share);
// a repeated or concurrent pass charges nothing twice; usage the wallet cannot cover waits unbilled
// and the gateway answers 402 with the stable error shape until the org has credit again. The
// statement shows the charges. No replica runs: the counters are written as a pass would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/api/app.js';
import { listen } from '../../src/api/server.js';
import { ManualClock } from '../../src/core/clock.js';
import { createUser } from '../../src/engine/accounts.js';
import { OPERATOR_FEES, providerEarnings } from '../../src/engine/billing/accounts.js';
import { statementOf } from '../../src/engine/billing/reports.js';
import { grantCredit, topUp, walletOf } from '../../src/engine/billing/wallet.js';
import { createContext, type EngineContext } from '../../src/engine/context.js';
import { ServingController } from '../../src/engine/serving/controller.js';
import { chargeEndpoints } from '../../src/engine/serving/metering.js';
import { addEndpointUsage, findEndpoint, insertEndpoint } from '../../src/store/endpoints.js';
import { balancesFromTransfers, lookupAccounts } from '../../src/store/ledger.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';

const T0 = Date.parse('2026-06-10T08:00:00Z');

for (const database of await testDatabases()) {
  describe(`endpoint calls metered into the ledger (${database.name})`, { skip: database.skip, timeout: 120_000 }, () => {
    let store: Store;
    let ctx: EngineContext;
    let drop: () => Promise<void>;
    let endpointId: string;
    let acme: string;
    let poets: string;
    let token: string;

    before(async () => {
      const fresh = await database.fresh();
      store = await openStore({ databaseUrl: fresh.databaseUrl });
      drop = async () => {
        await store.close();
        await fresh.drop();
      };
      ctx = createContext(store, { billing: 'on', operatorFeeBps: 1000 }, new ManualClock(T0));
      token = (await createUser(ctx, { orgName: 'acme', name: 'alice', role: 'user' })).token;
      await createUser(ctx, { orgName: 'poets', name: 'pat', role: 'provider' });
      const ids = await store.db.selectFrom('users').select(['name', 'id', 'org_id']).execute();
      const alice = ids.find((u) => u.name === 'alice')!;
      acme = alice.org_id;
      poets = ids.find((u) => u.name === 'pat')!.org_id;
      endpointId = ctx.newId('endpoint');
      const at = ctx.now();
      // 2 fen a request, 5 fen per 1,000 tokens, paid to poets; min 0: the controller starts no replica.
      await insertEndpoint(store.db, {
        id: endpointId, org_id: acme, user_id: alice.id, name: 'poem', app: 'poem', version: '1.0.0', params: {}, accelerators_per_node: 1,
        region: 'shanghai', min_replicas: 0, max_replicas: 2, target_concurrency: 4, idle_to_zero_ms: null, fen_per_request: 2, fen_per_1k_tokens: 5,
        provider_org_id: poets, created_at: at, updated_at: at,
      });
    });
    after(async () => drop?.());

    const balance = async (id: string) => {
      const [a] = await lookupAccounts(store.db, [id]);
      return a ? a.creditsPosted - a.debitsPosted : 0;
    };

    it('charges answered requests and tokens per pass, granted credit first, the operator fee out of the provider share', async () => {
      await topUp(ctx, 'acme', 100, 'r1');
      await grantCredit(ctx, { org: 'acme', amountFen: 10 });
      // 10 requests, 1 failed (free), 900 tokens: 9 × 2 + floor(900 × 5 / 1000) = 18 + 4 = 22 fen.
      await addEndpointUsage(store.db, endpointId, { requests: 10, failed: 1, tokens: 900, coldStarts: 0 });
      const [charge, ...more] = await chargeEndpoints(ctx);
      assert.deepEqual(more, []);
      assert.equal(charge!.amount, 22);
      assert.equal(charge!.from_granted, 10);
      assert.equal(charge!.from_paid, 12);
      assert.equal(charge!.operator_fee, 2);
      assert.equal((await walletOf(store.db, acme, ctx.clock.now())).available, 110 - 22);
      assert.equal(await balance(providerEarnings(poets)), 20);
      assert.equal(await balance(OPERATOR_FEES), 2);
    });

    it('a repeated or concurrent pass charges nothing twice; token rounding never drifts', async () => {
      assert.deepEqual(await chargeEndpoints(ctx), [], 'nothing new: nothing charged');
      // 100 more tokens: 1,000 in all are 5 fen, 4 were charged: 1 fen now (not floor(100 × 5 / 1000) = 0).
      await addEndpointUsage(store.db, endpointId, { requests: 0, failed: 0, tokens: 100, coldStarts: 0 });
      const both = await Promise.all([chargeEndpoints(ctx), chargeEndpoints(ctx)]);
      assert.deepEqual(both.flat().map((c) => c.amount), [1]);
      const row = (await findEndpoint(store.db, acme, 'poem'))!;
      assert.deepEqual([row.billed_requests, row.billed_tokens], [9, 1000]);
      assert.equal((await walletOf(store.db, acme, ctx.clock.now())).available, 110 - 23);
    });

    it('usage the wallet cannot cover waits unbilled; the gateway answers 402 until credit comes', async () => {
      // 100 requests: 200 fen, with 87 available.
      await addEndpointUsage(store.db, endpointId, { requests: 100, failed: 0, tokens: 0, coldStarts: 0 });
      assert.deepEqual(await chargeEndpoints(ctx), []);
      assert.equal((await walletOf(store.db, acme, ctx.clock.now())).available, 87, 'nothing charged');
      const serving = new ServingController(ctx, { config: { passMs: 100 } });
      const server = await listen(createApp(ctx, { serving }), '127.0.0.1', 0);
      try {
        const call = () => fetch(`http://127.0.0.1:${server.port}/e/poem/generate`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
        await serving.pass();
        const refused = await call();
        assert.equal(refused.status, 402);
        const body = (await refused.json()) as { error: { code: string; message: string; field: string; hint: string } };
        assert.equal(body.error.code, 'insufficient_funds');
        assert.equal(body.error.field, 'wallet');
        assert.match(body.error.message, /¥0\.87 available .* ¥2\.00 of calls are not charged yet/);
        assert.match(body.error.hint, /top up/);
        await topUp(ctx, 'acme', 1000, 'r2');
        await serving.pass(); // the leader's pass charges the 200 fen and clears the refusal
        const row = (await findEndpoint(store.db, acme, 'poem'))!;
        assert.equal(row.billed_requests, 109);
        const after = await call();
        assert.notEqual(after.status, 402, 'admitted again (no replica: held, then 503)');
        await after.arrayBuffer();
      } finally {
        await serving.stop();
        await server.close();
      }
      assert.equal((await walletOf(store.db, acme, ctx.clock.now())).available, 1087 - 200);
    });

    it('the statement shows the calls; the ledger balances', async () => {
      const s = await statementOf(store.db, acme, 'acme', '2026-06', ctx.clock.now());
      assert.deepEqual(
        s.endpoints.map((e) => [e.endpoint, e.requests, e.tokens, e.charged, e.charges]),
        [['poem', 109, 1000, 223, 3]],
      );
      assert.equal(s.totals.endpointCalls, 223);
      const poetsStatement = await statementOf(store.db, poets, 'poets', '2026-06', ctx.clock.now());
      assert.equal(poetsStatement.earnings.provider, 223 - (2 + 0 + 20), 'the provider earned the calls less the operator fees (10% of each charge, rounded down)');
      const balances = await balancesFromTransfers(store.db);
      let debits = 0;
      let credits = 0;
      for (const b of balances.values()) {
        debits += b.debitsPosted + b.debitsPending;
        credits += b.creditsPosted + b.creditsPending;
      }
      assert.equal(debits, credits);
    });
  });
}
