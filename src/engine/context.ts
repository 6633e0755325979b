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
  /** The shortest time from one pass's start to the next: wakes during it are served together. */
  readonly minPassGapMs: number;
  /** The longest an agent's lease poll or a log follow is held open. */
  readonly maxWaitMs: number;
  /** Output of a run is accepted until this long after its job ended (the agent ships the tail before the end). */
  readonly endedOutputGraceMs: number;
  /** Output a job may store, over all its attempts; past it the rest is dropped behind a marker line. Default 1 GiB. */
  readonly maxOutputBytesPerJob: number;
  /** A page of `GET /v1/jobs/:id/logs` holds about this many bytes at most (and at least one chunk). */
  readonly maxLogPageBytes: number;
  /** Output of jobs that ended longer ago than this is deleted by the retention sweep; 0 keeps it forever. */
  readonly outputRetentionMs: number;
  /** How often the control loop runs the retention sweep. */
  readonly retentionSweepEveryMs: number;
  /** How often the control loop applies replication rules (docs/data.md); a new rule wakes it at once. */
  readonly rulesEveryMs: number;
  /** How often a pass reads the whole queue budget; the passes in between read each org's head (control-loop.ts, QUICK_JOBS_PER_PASS). */
  readonly fullPassEveryMs: number;
  /** How often the leader vacuums the tables that churn while the database's autovacuum does not run (src/engine/maintenance.ts); 0 never. */
  readonly vacuumEveryMs: number;
  /** Per-org token buckets by kind of call (src/api/rate-limit.ts has the defaults); per process. */
  readonly rateLimits: Readonly<Partial<Record<'submit' | 'quote' | 'launch' | 'logs', { readonly burst: number; readonly perSecond: number }>>>;
  /** Jobs an org may have waiting (submitted, queued or placed) at once; a submission past it is a 429 `quota_exceeded`. */
  readonly maxQueuedJobsPerOrg: number;
  /** Jobs an org may have placed or running at once; the scheduler leaves the rest queued. */
  readonly maxRunningJobsPerOrg: number;
  /**
   * Billing (src/engine/billing, docs/billing.md): 'on' checks each submission's maximum bill
   * against the org's wallet and budgets, holds it at placement and settles it at the run's end;
   * 'off' (the default, so an existing network keeps working) charges nothing.
   */
  readonly billing: 'off' | 'on';
  /** The operator's fee on compute bills, in basis points of the bill (1,000 = 10%). */
  readonly operatorFeeBps: number;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  heartbeatIntervalMs: 2_000,
  agentDeadlineMs: 15_000,
  tickMs: 1_000,
  minPassGapMs: 100,
  maxWaitMs: 25_000,
  endedOutputGraceMs: 120_000,
  maxOutputBytesPerJob: 1024 ** 3,
  maxLogPageBytes: 4 * 1024 * 1024,
  outputRetentionMs: 30 * 24 * 3_600_000,
  retentionSweepEveryMs: 3_600_000,
  rulesEveryMs: 5_000,
  fullPassEveryMs: 5_000,
  vacuumEveryMs: 30_000,
  rateLimits: {},
  maxQueuedJobsPerOrg: 100_000,
  maxRunningJobsPerOrg: 10_000,
  billing: 'off',
  operatorFeeBps: 1_000,
};

/** What every engine operation works with: the store, time, ids, wake-ups and configuration. */
export interface EngineContext {
  readonly store: Store;
  readonly clock: Clock;
  /** Hooks the control loop and agent handlers report to (src/engine/metrics.ts); absent: none. */
  readonly metrics?: EngineMetrics;
  readonly config: EngineConfig;
  readonly signals: Signals;
  /**
   * When this process's turn at running the control loop began (its start, or its takeover of
   * leadership). Agents' deadlines never count from before it, so the control plane's own downtime
   * is not held against them. Set by the control loop; a field, not configuration.
   */
  readonly term: { startedAt: number };
  /** Set when this process changed a replication rule: the control loop applies the rules on its next turn. */
  readonly rules: { changed: boolean };
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
    term: { startedAt: clock.now() },
    rules: { changed: false },
    newId: (kind) => newId(kind, clock, cryptoRng),
    now: () => new Date(clock.now()),
  };
}
