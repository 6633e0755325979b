import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { IdKind } from '../core/ids.js';
import { newId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import type { Store } from '../store/open-database.js';
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
  /** Output of a run is accepted until this long after its job ended (the agent ships the tail before the end). */
  readonly endedOutputGraceMs: number;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  heartbeatIntervalMs: 2_000,
  agentDeadlineMs: 15_000,
  tickMs: 1_000,
  maxWaitMs: 25_000,
  endedOutputGraceMs: 120_000,
};

/** What every engine operation works with: the store, time, ids, wake-ups and configuration. */
export interface EngineContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly config: EngineConfig;
  readonly signals: Signals;
  newId(kind: IdKind): string;
  now(): Date;
}

/** The wall clock, for the running control plane (pure modules get a Clock passed in instead). */
export const systemClock: Clock = { now: () => Date.now() };

/** Random bytes drawn from the OS in blocks: one syscall per 1,024 draws, not one per draw (a batch of jobs needs thousands). */
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let used = 0;

/** Cryptographic randomness for ids, so ids from several processes never collide. */
export const cryptoRng: Rng = {
  next: () => {
    if (used + 4 > POOL_BYTES) {
      pool = randomBytes(POOL_BYTES);
      used = 0;
    }
    const value = pool.readUInt32BE(used) / 4294967296;
    used += 4;
    return value;
  },
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
