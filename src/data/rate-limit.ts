import type { Clock } from '../core/clock.js';
import type { Rng } from '../core/rng.js';

/**
 * A token bucket for bandwidth (bytes per second, bursts up to one second's worth). `take(n)` says
 * how long to wait before sending `n` bytes; the caller waits, so one limiter shared by several
 * transfers of a center (or a link) holds their sum to the rate.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #clock: Clock;
  #tokens: number;
  #at: number;

  constructor(bytesPerSecond: number, clock: Clock) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`a bandwidth limit is bytes per second > 0, got ${bytesPerSecond}`);
    this.#rate = bytesPerSecond;
    this.#clock = clock;
    this.#tokens = bytesPerSecond;
    this.#at = clock.now();
  }

  /** Reserves `bytes` and returns the milliseconds to wait before sending them (0: now). */
  take(bytes: number): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#rate) * 1000);
  }
}

/** Wait before retry `attempt` (1, 2, …): exponential from `baseMs`, capped at `maxMs`, with full jitter. */
export function retryDelayMs(attempt: number, rng: Rng, baseMs = 200, maxMs = 10_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(rng.next() * ceiling);
}
