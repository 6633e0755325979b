import { SuanwangError } from '../core/errors.js';
import type { EngineContext } from '../engine/context.js';

/**
 * Per-org rate limits: a token bucket per (org, kind of call). A bucket holds up to `burst` calls
 * and refills at `perSecond`; a call finding it empty gets 429 `rate_limited` with `Retry-After`.
 *
 * The buckets live in this process: with several control-plane replicas each enforces its own
 * limits (a client spread over n replicas gets up to n times the rate). That bounds abuse per
 * replica, which is what protects the database; a shared limit would need the database or a cache.
 */

export const RATE_KINDS = ['submit', 'quote', 'launch', 'logs'] as const;
export type RateKind = (typeof RATE_KINDS)[number];

export interface RateLimit {
  /** Calls allowed at once (a batch of this many goes through). */
  readonly burst: number;
  /** Calls added back per second. */
  readonly perSecond: number;
}

/** Defaults: generous for people and scripts (1,000 submissions at once), tight enough to stop a flood. */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateKind, RateLimit>> = {
  submit: { burst: 2000, perSecond: 50 },
  quote: { burst: 300, perSecond: 10 },
  launch: { burst: 1000, perSecond: 20 },
  logs: { burst: 600, perSecond: 20 },
};

interface Bucket {
  tokens: number;
  at: number;
}

/** Most buckets kept; the idle ones (full again) are dropped first, so memory stays bounded. */
const MAX_BUCKETS = 100_000;

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  constructor(
    readonly limits: Readonly<Record<RateKind, RateLimit>>,
    readonly now: () => number,
  ) {}

  /** Takes one call from the org's bucket, or throws 429 `rate_limited` naming the limit and when to retry. */
  take(orgId: string, kind: RateKind): void {
    const limit = this.limits[kind];
    const now = this.now();
    const key = `${kind}:${orgId}`;
    const bucket = this.#buckets.get(key) ?? { tokens: limit.burst, at: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond));
      throw new RateLimitedError(
        'rate_limited',
        `your org is over its rate limit for ${kind} calls (${limit.burst} at once, then ${limit.perSecond} per second)`,
        retryAfter,
        `retry after ${retryAfter} s (the Retry-After header); spread calls out, or ask an admin for a higher limit`,
      );
    }
    bucket.tokens -= 1;
    this.#buckets.delete(key); // re-insert: the map's order is then least recently used first
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > MAX_BUCKETS) this.#buckets.delete(this.#buckets.keys().next().value!);
  }
}

/** A 429 that tells the client when to come back (sent as the `Retry-After` header). */
export class RateLimitedError extends SuanwangError {
  constructor(
    code: 'rate_limited' | 'quota_exceeded',
    message: string,
    readonly retryAfterSeconds: number,
    hint: string,
  ) {
    super(code, message, { hint });
  }
}

const limiters = new WeakMap<EngineContext, RateLimiter>();

/** The limiter of this control plane (one per engine context, so per process). */
export function rateLimiterFor(ctx: EngineContext): RateLimiter {
  let limiter = limiters.get(ctx);
  if (!limiter) {
    limiter = new RateLimiter({ ...DEFAULT_RATE_LIMITS, ...ctx.config.rateLimits }, () => ctx.clock.now());
    limiters.set(ctx, limiter);
  }
  return limiter;
}
