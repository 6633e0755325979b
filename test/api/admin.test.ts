import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/api/app.js';
import { createUser } from '../../src/engine/accounts.js';
import { createContext, type EngineContext } from '../../src/engine/context.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';

/**
 * Administration through the HTTP app (no port), on both databases: admin-only routes, enrollment
 * tokens that work once and expire, API tokens that expire and are revoked, last use recorded.
 */
for (const database of await testDatabases()) {
  describe(`administration: orgs, users, tokens, enrollment (${database.name})`, { skip: database.skip, timeout: 120_000 }, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let ctx: EngineContext;
    let app: ReturnType<typeof createApp>;
    let admin: string;
    let alice: string;
    // The engine's clock, moved by the tests (expiry).
    let now = Date.parse('2026-06-01T08:00:00Z');

    before(async () => {
      const fresh = await database.fresh();
      drop = fresh.drop;
      store = await openStore({ databaseUrl: fresh.databaseUrl });
      ctx = createContext(store, {}, { now: () => now });
      app = createApp(ctx);
      admin = (await createUser(ctx, { orgName: 'platform', name: 'root', role: 'admin' })).token;
      alice = (await createUser(ctx, { orgName: 'lab-a', name: 'alice', role: 'user' })).token;
    });
    after(async () => {
      await store.close();
      await drop();
    });

    function call(method: string, path: string, token?: string, body?: unknown) {
      return app.request(path, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    }
    async function json<T>(res: Response, status: number): Promise<T> {
      const body = (await res.json()) as T;
      assert.equal(res.status, status, JSON.stringify(body));
      return body;
    }

    it('refuses every admin route to a plain user with 403 and writes nothing', async () => {
      const before = await store.db.selectFrom('orgs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      for (const [method, path, body] of [
        ['GET', '/v1/orgs'],
        ['POST', '/v1/orgs', { name: 'evil' }],
        ['GET', '/v1/users'],
        ['POST', '/v1/users/alice/role', { role: 'admin' }],
        ['GET', '/v1/tokens'],
        ['POST', '/v1/tokens', { user: 'alice' }],
        ['DELETE', '/v1/tokens/tok_x'],
        ['POST', '/v1/centers', { name: 'evil-dc', region: 'x' }],
        ['POST', '/v1/centers/evil-dc/enrollment-tokens', {}],
      ] as const) {
        const res = await call(method, path, alice, body);
        const error = await json<{ error: { code: string } }>(res, 403);
        assert.equal(error.error.code, 'forbidden', `${method} ${path}`);
      }
      const afterCount = await store.db.selectFrom('orgs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(afterCount.n), Number(before.n));
    });

    it('creates and lists orgs and users, changes roles, and never demotes the last admin', async () => {
      await json(await call('POST', '/v1/orgs', admin, { name: 'lab-c' }), 201);
      assert.equal((await json<{ error: { code: string } }>(await call('POST', '/v1/orgs', admin, { name: 'lab-c' }), 409)).error.code, 'conflict');
      const orgs = await json<{ items: { name: string; users: number }[] }>(await call('GET', '/v1/orgs', admin), 200);
      assert.deepEqual(orgs.items.find((o) => o.name === 'lab-a'), { ...orgs.items.find((o) => o.name === 'lab-a'), users: 1 });
      assert.ok(orgs.items.some((o) => o.name === 'lab-c'));
      await json(await call('POST', '/v1/users', admin, { org: 'lab-c', name: 'carol', role: 'provider' }), 201);
      const changed = await json<{ name: string; role: string }>(await call('POST', '/v1/users/carol/role', admin, { role: 'operator' }), 200);
      assert.equal(changed.role, 'operator');
      const users = await json<{ items: { name: string; org: string; role: string }[] }>(await call('GET', '/v1/users?org=lab-c', admin), 200);
      assert.deepEqual(users.items.map((u) => [u.name, u.org, u.role]), [['carol', 'lab-c', 'operator']]);
      assert.equal((await json<{ error: { code: string } }>(await call('POST', '/v1/users/nobody/role', admin, { role: 'user' }), 404)).error.code, 'user_not_found');
      const last = await json<{ error: { code: string; field: string } }>(await call('POST', '/v1/users/root/role', admin, { role: 'user' }), 409);
      assert.equal(last.error.field, 'role');
      assert.equal((await json<{ error: { field: string } }>(await call('POST', '/v1/users/carol/role', admin, { role: 'king' }), 400)).error.field, 'role');
    });

    it('issues tokens that expire, records their last use, and revokes them at once', async () => {
      const created = await json<{ id: string; token: string; expiresAt: string }>(await call('POST', '/v1/tokens', admin, { user: 'alice', label: 'ci', expiresInSeconds: 3600 }), 201);
      assert.equal(created.expiresAt, new Date(now + 3600_000).toISOString());
      await json(await call('GET', '/v1/whoami', created.token), 200);
      const listed = await json<{ items: { id: string; lastUsedAt: string | null; label: string; user: string }[] }>(await call('GET', '/v1/tokens?user=alice', admin), 200);
      const mine = listed.items.find((t) => t.id === created.id)!;
      assert.equal(mine.lastUsedAt, new Date(now).toISOString(), 'last use recorded');
      assert.ok(!JSON.stringify(listed).includes(created.token), 'secrets are never listed');

      now += 3600_000;
      const expired = await json<{ error: { code: string; message: string } }>(await call('GET', '/v1/whoami', created.token), 401);
      assert.match(expired.error.message, /expired/);

      const other = await json<{ id: string; token: string }>(await call('POST', '/v1/tokens', admin, { user: 'alice' }), 201);
      await json(await call('GET', '/v1/whoami', other.token), 200);
      await json(await call('DELETE', `/v1/tokens/${other.id}`, admin), 200);
      assert.equal((await json<{ error: { code: string } }>(await call('GET', '/v1/whoami', other.token), 401)).error.code, 'unauthenticated');
      assert.equal((await json<{ error: { code: string } }>(await call('DELETE', `/v1/tokens/${other.id}`, admin), 404)).error.code, 'token_not_found');
      const withRevoked = await json<{ items: { id: string; revokedAt: string | null }[] }>(await call('GET', '/v1/tokens?revoked=true', admin), 200);
      assert.ok(withRevoked.items.find((t) => t.id === other.id)?.revokedAt);
      assert.equal((await json<{ error: { field: string } }>(await call('POST', '/v1/tokens', admin, { user: 'alice', expiresInSeconds: 5 }), 400)).error.field, 'expiresInSeconds');
      assert.equal((await json<{ error: { code: string } }>(await call('POST', '/v1/tokens', admin, { user: 'ghost' }), 404)).error.code, 'user_not_found');
    });

    it('exchanges an enrollment token once, before it expires, for a working agent token', async () => {
      const center = await json<{ enrollmentToken: string }>(await call('POST', '/v1/centers', admin, { name: 'dc-east', region: 'shanghai', enrollmentExpiresInSeconds: 600 }), 201);
      assert.match(center.enrollmentToken, /^swe_/);
      const enrolled = await json<{ center: string; agentToken: string }>(await call('POST', '/v1/agent/enroll', undefined, { enrollmentToken: center.enrollmentToken }), 201);
      assert.equal(enrolled.center, 'dc-east');
      const again = await json<{ error: { code: string; field: string } }>(await call('POST', '/v1/agent/enroll', undefined, { enrollmentToken: center.enrollmentToken }), 401);
      assert.deepEqual([again.error.code, again.error.field], ['unauthenticated', 'enrollmentToken']);
      const register = await call('POST', '/v1/agent/register', enrolled.agentToken, {
        connector: 'local',
        agentVersion: 'test',
        pools: [{ name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 8, memoryMiBPerNode: 8192, nodes: 1 }],
        commands: ['sh'],
        runs: [],
      });
      assert.equal((await json<{ centerName: string }>(register, 200)).centerName, 'dc-east');

      const later = await json<{ enrollmentToken: string }>(await call('POST', '/v1/centers/dc-east/enrollment-tokens', admin, { expiresInSeconds: 60 }), 201);
      now += 61_000;
      await json(await call('POST', '/v1/agent/enroll', undefined, { enrollmentToken: later.enrollmentToken }), 401);
      assert.equal((await json<{ error: { code: string } }>(await call('POST', '/v1/centers/nowhere/enrollment-tokens', admin, {}), 404)).error.code, 'center_not_found');
      assert.equal((await json<{ error: { field: string } }>(await call('POST', '/v1/agent/enroll', undefined, { enrollmentToken: 'nope' }), 400)).error.field, 'enrollmentToken');
    });
  });
}
