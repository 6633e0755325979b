import type { Clock } from '../core/clock.js';

/**
 * The simulated clock: the simulator is the clock. It reads epoch milliseconds like every core
 * `Clock` (so the scheduler and estimates see the simulated wall time, and time-of-use prices and
 * carbon follow the simulated hour of day), and it only moves when the event loop moves it, to the
 * time of the event being handled. It never goes back: an event in the past is a simulator bug.
 *
 * Traces count seconds from their own start; `epochMs` is the wall time of trace second 0, so
 * `atTraceSeconds(s)` and `traceSeconds()` convert between the two.
 */
export class SimClock implements Clock {
  readonly epochMs: number;
  #now: number;

  /** A clock at trace second 0, which is `epochMs` on the wall (0 = 1970-01-01 when unknown). */
  constructor(epochMs = 0) {
    if (!Number.isFinite(epochMs)) throw new RangeError(`the simulation epoch must be finite, got ${epochMs}`);
    this.epochMs = epochMs;
    this.#now = epochMs;
  }

  now(): number {
    return this.#now;
  }

  /** Seconds since trace second 0. */
  traceSeconds(): number {
    return (this.#now - this.epochMs) / 1000;
  }

  /** The epoch ms of trace second `s`. */
  atTraceSeconds(s: number): number {
    return this.epochMs + s * 1000;
  }

  /** Moves to `ms` (epoch ms); staying put is fine, going back throws. */
  advanceTo(ms: number): void {
    if (!(ms >= this.#now)) {
      throw new RangeError(`the simulated clock cannot go back from ${this.#now} to ${ms} ms`);
    }
    this.#now = ms;
  }
}
