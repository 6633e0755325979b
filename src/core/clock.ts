/** A source of the current time in epoch milliseconds. Pure modules take one instead of calling Date.now(). */
export interface Clock {
  now(): number;
}

/** A clock that only moves when told to: for tests and the simulator. */
export class ManualClock implements Clock {
  #now: number;
  constructor(startMs = 0) {
    this.#now = startMs;
  }
  now(): number {
    return this.#now;
  }
  /** Moves the clock forward by `ms` (never backwards). */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError(`a clock cannot go back (advance ${ms} ms)`);
    this.#now += ms;
  }
  set(ms: number): void {
    this.advance(ms - this.#now);
  }
}
