import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RATE_LIMITS, RateLimitedError, RateLimiter } from './rate-limit.js';

describe('RateLimiter (per-org token buckets)', () => {
  it('lets a batch of 1,000 submissions through at the defaults, then refuses with Retry-After, then refills', () => {
    let now = 0;
    const limiter = new RateLimiter(DEFAULT_RATE_LIMITS, () => now);
    for (let i = 0; i < DEFAULT_RATE_LIMITS.submit.burst; i++) limiter.take('org_a', 'submit');
    assert.throws(
      () => limiter.take('org_a', 'submit'),
      (e: unknown) => e instanceof RateLimitedError && e.code === 'rate_limited' && e.status === 429 && e.retryAfterSeconds >= 1 && /submit/.test(e.message),
    );
    limiter.take('org_b', 'submit'); // another org has its own bucket
    limiter.take('org_a', 'quote'); // and another kind of call too
    now += 1000; // one second refills perSecond calls
    for (let i = 0; i < DEFAULT_RATE_LIMITS.submit.perSecond; i++) limiter.take('org_a', 'submit');
    assert.throws(() => limiter.take('org_a', 'submit'), RateLimitedError);
  });
  it('says how long to wait for the next call', () => {
    let now = 0;
    const limiter = new RateLimiter({ ...DEFAULT_RATE_LIMITS, quote: { burst: 1, perSecond: 0.25 } }, () => now);
    limiter.take('o', 'quote');
    assert.throws(() => limiter.take('o', 'quote'), (e: unknown) => e instanceof RateLimitedError && e.retryAfterSeconds === 4);
    now += 4000;
    limiter.take('o', 'quote');
  });
});
