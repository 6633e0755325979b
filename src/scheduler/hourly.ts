const HOUR_MS = 3_600_000;

/**
 * A figure that repeats every day, one value per local hour (a grid's carbon intensity, a
 * time-of-use price factor), integrated over any span of time in O(1): what a run of several hours
 * emits or costs is the sum over the hours it covers, not the start hour's value times its length.
 */
export class HourlyCurve {
  /** The 24 hourly values (a missing or non-finite entry takes the constructor's fallback). */
  readonly values: Float64Array;
  readonly utcOffsetHours: number;
  readonly min: number;
  readonly max: number;
  /** True when every hour has the same value: then no hour is better than another. */
  readonly flat: boolean;
  /** prefix[h] = sum of values[0 … h). */
  readonly #prefix: Float64Array;
  readonly #daySum: number;

  constructor(values: readonly number[], utcOffsetHours: number, fallback: number) {
    this.values = new Float64Array(24);
    this.#prefix = new Float64Array(25);
    let min = Infinity;
    let max = -Infinity;
    for (let h = 0; h < 24; h++) {
      const v = values[h];
      const value = typeof v === 'number' && Number.isFinite(v) ? v : fallback;
      this.values[h] = value;
      this.#prefix[h + 1] = this.#prefix[h]! + value;
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
    this.utcOffsetHours = Number.isFinite(utcOffsetHours) ? utcOffsetHours : 0;
    this.#daySum = this.#prefix[24]!;
    this.min = min;
    this.max = max;
    this.flat = min === max;
  }

  /** The value in force at `epochMs`. */
  at(epochMs: number): number {
    const x = epochMs / HOUR_MS + this.utcOffsetHours;
    return this.values[Math.floor(x - Math.floor(x / 24) * 24) % 24]!;
  }

  /** The integral over [fromMs, toMs] in value × hours (0 for an empty or reversed span). */
  integral(fromMs: number, toMs: number): number {
    if (!(toMs > fromMs)) return 0;
    if (this.flat) return (this.min * (toMs - fromMs)) / HOUR_MS;
    return this.#cumulative(toMs) - this.#cumulative(fromMs);
  }

  /** The mean value over [fromMs, toMs]; the value at `fromMs` for an empty span. */
  mean(fromMs: number, toMs: number): number {
    return toMs > fromMs ? (this.integral(fromMs, toMs) * HOUR_MS) / (toMs - fromMs) : this.at(fromMs);
  }

  /** The first local hour boundary strictly after `epochMs` (ms). */
  nextHourAfter(epochMs: number): number {
    const x = epochMs / HOUR_MS + this.utcOffsetHours;
    const next = Math.round((Math.floor(x) + 1 - this.utcOffsetHours) * HOUR_MS);
    return next > epochMs ? next : next + HOUR_MS; // x may land a hair under a whole hour
  }

  // Whole days since the epoch plus the part of the current day; subtracting two of these loses a
  // few ulps of a number near 10^6, far below a fen or a gram.
  #cumulative(epochMs: number): number {
    const x = epochMs / HOUR_MS + this.utcOffsetHours;
    const days = Math.floor(x / 24);
    const r = x - days * 24;
    const h = Math.min(23, Math.floor(r));
    return days * this.#daySum + this.#prefix[h]! + (r - h) * this.values[h]!;
  }
}
