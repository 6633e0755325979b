import type { Principal } from '../engine/accounts.js';
import { authenticateToken, TOKENS_TOPIC } from '../engine/accounts.js';
import type { EngineContext } from '../engine/context.js';
import type { Clock } from '../core/clock.js';
import type { Signals } from '../engine/signals.js';

/** How long a principal is kept at most (a safety net: revocations clear the cache at once, see TOKENS_TOPIC). */
export const TOKEN_CACHE_MS = 30_000;
/** Entries kept at most; past it the cache starts over. */
const MAX_ENTRIES = 10_000;

type Authenticate = (secret: string | undefined) => Promise<{ readonly principal: Principal; readonly expiresAt: Date | null }>;

const caches = new WeakMap<EngineContext, TokenCache>();

/** The one cache of principals of a control plane's API and gateway. */
export function principalsFor(ctx: EngineContext): TokenCache {
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new TokenCache((secret) => authenticateToken(ctx, secret), ctx.signals, ctx.clock)));
  return cache;
}

/**
 * Bearer secrets to principals for every authenticated request (API and gateway): one hash and lookup per token per
 * `ttlMs` instead of per request. Honours revocation at once: a revocation or role change wakes
 * TOKENS_TOPIC (in every control-plane process through the signal bridge) and the cache is
 * emptied; a lookup that was under way when it happened is not kept (the generation moved on), so
 * an answer read before the revocation committed cannot outlive it. An entry never outlives its
 * token's expiry. Unknown tokens are not cached (each costs a lookup).
 */
export class TokenCache {
  readonly #entries = new Map<string, { readonly principal: Principal; readonly until: number }>();
  readonly #authenticate: Authenticate;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  #generation = 0;

  constructor(authenticate: Authenticate, signals: Signals, clock: Clock, ttlMs = TOKEN_CACHE_MS) {
    this.#authenticate = authenticate;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    signals.on(TOKENS_TOPIC, () => this.clear());
  }

  /** Forgets every principal (a token was revoked or a role changed). */
  clear(): void {
    this.#entries.clear();
    this.#generation++;
  }

  async principal(secret: string | undefined): Promise<Principal> {
    const now = this.#clock.now();
    const hit = secret === undefined ? undefined : this.#entries.get(secret);
    if (hit && now < hit.until) return hit.principal;
    const generation = this.#generation;
    const { principal, expiresAt } = await this.#authenticate(secret);
    if (generation === this.#generation && secret !== undefined) {
      if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
      this.#entries.set(secret, { principal, until: Math.min(now + this.#ttlMs, expiresAt?.getTime() ?? Infinity) });
    }
    return principal;
  }
}
