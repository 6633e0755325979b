// Scaling sees the traffic of every control-plane process (issue 15), on BOTH databases: two serving
// controllers on one database, as two processes of the control plane would be. Requests held by the
// follower's gateway (it has no replica to route to) are written with its pass; the leader's next
// pass adds them to its own (none) and decides from the sum. The endpoint's app is not in the
// catalog, so the replica the leader then tries to start fails to launch: the decision is what is checked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUser } from '../../src/engine/accounts.js';
import { createContext } from '../../src/engine/context.js';
import { ServingController } from '../../src/engine/serving/controller.js';
import { insertEndpoint } from '../../src/store/endpoints.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';

for (const database of await testDatabases()) {
  describe(`the leader scales on every process's traffic (${database.name})`, { skip: database.skip, timeout: 120_000 }, () => {
    const stores: Store[] = [];
    let drop: () => Promise<void>;
    let leader: ServingController;
    let follower: ServingController;
    let orgId: string;

    before(async () => {
      const fresh = await database.fresh();
      const first = await openStore({ databaseUrl: fresh.databaseUrl });
      // PostgreSQL: a second pool, as another process has; in-memory PGlite has one database per store, so share it.
      const second = fresh.databaseUrl ? await openStore({ databaseUrl: fresh.databaseUrl }) : first;
      stores.push(first, ...(second === first ? [] : [second]));
      drop = async () => {
        for (const s of stores) await s.close();
        await fresh.drop();
      };
      const config = { passMs: 200, scaleUpDelayMs: 3_600_000, scaleDownDelayMs: 3_600_000 };
      const leaderCtx = createContext(first);
      leader = new ServingController(leaderCtx, { config, isLeader: () => true });
      follower = new ServingController(createContext(second), { config, isLeader: () => false });
      await createUser(leaderCtx, { orgName: 'acme', name: 'alice', role: 'user' });
      const alice = await first.db.selectFrom('users').select(['id', 'org_id']).where('name', '=', 'alice').executeTakeFirstOrThrow();
      orgId = alice.org_id;
      const at = leaderCtx.now();
      await insertEndpoint(first.db, {
        id: leaderCtx.newId('endpoint'), org_id: orgId, user_id: alice.id, name: 'poem', app: 'not-in-the-catalog', version: '1.0.0', params: {}, accelerators_per_node: 1,
        region: 'shanghai', min_replicas: 0, max_replicas: 4, target_concurrency: 4, idle_to_zero_ms: null, created_at: at, updated_at: at,
      });
    });
    after(async () => {
      await follower?.stop();
      await leader?.stop();
      await drop?.();
    });

    it("requests held by the follower's gateway make the leader start replicas", async () => {
      await leader.pass();
      assert.match(leader.endpoint(orgId, 'poem')!.lastDecision, /^0 replicas: min 0/, 'no traffic yet');
      await follower.pass();
      const e = follower.endpoint(orgId, 'poem')!;
      // Twelve callers of the follower wait for a replica (none is ready).
      const held = Array.from({ length: 12 }, () => follower.acquire(e, 'shanghai', new Set(), 60_000));
      assert.equal(e.held, 12);
      await follower.pass();
      await leader.pass().catch(() => undefined); // the launch of the app fails: it is not in the catalog
      assert.match(leader.endpoint(orgId, 'poem')!.lastDecision, /^3 replicas: 12 in flight over 4 per replica \(cold start\)/);
      await follower.stop();
      assert.deepEqual(await Promise.all(held), Array(12).fill(null), 'held requests are released when the follower stops');
    });
  });
}
