import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../core/clock.js';
import { TOKENS_TOPIC, type Principal } from '../engine/accounts.js';
import { Signals } from '../engine/signals.js';
import { TokenCache } from './token-cache.js';

const alice: Principal = { kind: 'user', userId: 'usr_1', orgId: 'org_1', name: 'alice', role: 'user' };

/** A token store: `live` secrets authenticate; counts lookups; a lookup may be held open. */
function tokens() {
  const live = new Set(['s1']);
  let lookups = 0;
  let gate: Promise<void> | null = null;
  const authenticate = async (secret: string | undefined) => {
    lookups++;
    const ok = secret !== undefined && live.has(secret); // read before the gate: an answer from before a revocation
    if (gate) await gate;
    if (!ok) throw new Error('unauthenticated');
    return { principal: alice, expiresAt: secret === 'short' ? new Date(1_500) : null };
  };
  return { live, authenticate, lookups: () => lookups, hold: (p: Promise<void> | null) => (gate = p) };
}

describe('the gateway token cache', () => {
  it('looks a token up once, then serves it from memory', async () => {
    const t = tokens();
    const cache = new TokenCache(t.authenticate, new Signals(), new ManualClock(1_000));
    for (let i = 0; i < 5; i++) assert.deepEqual(await cache.principal('s1'), alice);
    assert.equal(t.lookups(), 1);
  });

  it('a revocation stops the token at once (the next call looks it up again)', async () => {
    const t = tokens();
    const signals = new Signals();
    const cache = new TokenCache(t.authenticate, signals, new ManualClock(1_000));
    await cache.principal('s1');
    t.live.delete('s1');
    signals.wake(TOKENS_TOPIC); // what revokeApiToken does after the revocation commits
    await assert.rejects(cache.principal('s1'), /unauthenticated/);
  });

  it('a lookup under way when a revocation lands is not kept', async () => {
    const t = tokens();
    const signals = new Signals();
    const cache = new TokenCache(t.authenticate, signals, new ManualClock(1_000));
    let open!: () => void;
    t.hold(new Promise<void>((r) => (open = r)));
    const racing = cache.principal('s1'); // read the token as live
    t.live.delete('s1');
    signals.wake(TOKENS_TOPIC);
    open();
    t.hold(null);
    assert.deepEqual(await racing, alice, 'the call that raced the revocation is answered');
    await assert.rejects(cache.principal('s1'), /unauthenticated/, 'but its answer was not cached');
  });

  it("never outlives the ttl or the token's expiry", async () => {
    const t = tokens();
    t.live.add('short');
    const clock = new ManualClock(1_000);
    const cache = new TokenCache(t.authenticate, new Signals(), clock, 10_000);
    await cache.principal('short');
    await cache.principal('s1');
    clock.advance(600); // past 'short''s expiry at 1.5 s
    await cache.principal('short');
    await cache.principal('s1');
    assert.equal(t.lookups(), 3, 'short looked up again, s1 not');
    clock.advance(10_000);
    await cache.principal('s1');
    assert.equal(t.lookups(), 4);
  });
});
