import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { IdKind } from '../core/ids.js';
import { newId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import type { Store } from '../store/open-database.js';
import type { EngineMetrics } from './metrics.js';
import { Signals } from './signals.js';

/** Tunables of the control plane; every duration in milliseconds. */
export interface EngineConfig {
  /** How often agents are asked to heartbeat. */
  readonly heartbeatIntervalMs: number;
  /** An agent silent for this long is declared lost and its jobs are requeued. */
  readonly agentDeadlineMs: number;
  /** The control loop's period (it also runs at once when woken). */
  readonly tickMs: number;
  /** The longest an agent's lease poll or a log follow is held open. */
  readonly maxWaitMs: number;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  heartbeatIntervalMs: 2_000,
  agentDeadlineMs: 15_000,
  tickMs: 1_000,
  maxWaitMs: 25_000,
};

/** What every engine operation works with: the store, time, ids, wake-ups and configuration. */
export interface EngineContext {
  readonly store: Store;
  readonly clock: Clock;
  /** Hooks the control loop and agent handlers report to (src/engine/metrics.ts); absent: none. */
  readonly metrics?: EngineMetrics;
  readonly config: EngineConfig;
  readonly signals: Signals;
  newId(kind: IdKind): string;
  now(): Date;
}

/** The wall clock, for the running control plane (pure modules get a Clock passed in instead). */
export const systemClock: Clock = { now: () => Date.now() };

/** Cryptographic randomness for ids, so ids from several processes never collide. */
export const cryptoRng: Rng = {
  next: () => randomBytes(4).readUInt32BE(0) / 4294967296,
};

export function createContext(store: Store, config: Partial<EngineConfig> = {}, clock: Clock = systemClock): EngineContext {
  return {
    store,
    clock,
    config: { ...DEFAULT_ENGINE_CONFIG, ...config },
    signals: new Signals(),
    newId: (kind) => newId(kind, clock, cryptoRng),
    now: () => new Date(clock.now()),
  };
}
