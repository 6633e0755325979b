import type { Clock } from '../core/clock.js';

/**
 * The autoscaling policy of an inference endpoint: how many replicas it should have, from what its
 * gateway saw. Pure: the caller measures, this decides. Delays keep it from flapping: a higher
 * count must be wanted for `scaleUpDelayMs` before it is taken (except from zero: a held request
 * waits for it), a lower one for `scaleDownDelayMs`.
 */
export interface AutoscaleSettings {
  /** Replicas kept while the endpoint has callers. */
  readonly min: number;
  readonly max: number;
  /** Requests in flight per replica (per unit of its chip's capacity) above which another is wanted. */
  readonly targetConcurrency: number;
  /** Requests per second per replica above which another is wanted; null: concurrency alone. */
  readonly targetRps: number | null;
  readonly scaleUpDelayMs: number;
  readonly scaleDownDelayMs: number;
  /** After this long without a request, scale to zero (below `min`); null: never. */
  readonly idleToZeroMs: number | null;
}

export interface AutoscaleObservation {
  /** Replicas that are running or starting (not those being drained). */
  readonly replicas: number;
  /** Peak requests in flight (and held) over the last measurement interval. */
  readonly concurrency: number;
  /** Requests per second over the last measurement interval. */
  readonly rps: number;
  /** Requests held now for want of a ready replica. */
  readonly held: number;
  /** The last request's arrival, or the endpoint's creation when it has had none (epoch ms). */
  readonly lastActivityAt: number;
}

/** What the policy remembers between decisions: since when a higher or lower count has been wanted. */
export interface AutoscaleMemory {
  readonly upSince: number | null;
  readonly downSince: number | null;
}

export const FRESH_MEMORY: AutoscaleMemory = Object.freeze({ upSince: null, downSince: null });

export interface AutoscaleDecision {
  readonly replicas: number;
  /** What the load alone asks for (before the delays). */
  readonly wanted: number;
  readonly memory: AutoscaleMemory;
  /** Why, in a few words: `steady`, `scale up: 14 in flight > 2 × 6`, `idle 30s: to zero`… */
  readonly reason: string;
}

/** The count the endpoint should have now, given what was observed; `memory` is passed back next time. */
export function decideReplicas(settings: AutoscaleSettings, seen: AutoscaleObservation, memory: AutoscaleMemory, clock: Clock): AutoscaleDecision {
  const now = clock.now();
  const { wanted, why } = wantedReplicas(settings, seen, now);
  if (wanted === seen.replicas) return { replicas: wanted, wanted, memory: FRESH_MEMORY, reason: why };
  if (wanted > seen.replicas) {
    // From zero a request is waiting: no delay. Otherwise the need must last.
    if (seen.replicas === 0) return { replicas: wanted, wanted, memory: FRESH_MEMORY, reason: `${why} (cold start)` };
    const upSince = memory.upSince ?? now;
    if (now - upSince >= settings.scaleUpDelayMs) return { replicas: wanted, wanted, memory: FRESH_MEMORY, reason: why };
    return { replicas: seen.replicas, wanted, memory: { upSince, downSince: null }, reason: `${why}, wanted for ${now - upSince} of ${settings.scaleUpDelayMs} ms` };
  }
  // Above max (the max was just lowered): no reason to wait.
  if (seen.replicas > settings.max) return { replicas: Math.max(wanted, 0), wanted, memory: FRESH_MEMORY, reason: `${why}; over max ${settings.max}` };
  const downSince = memory.downSince ?? now;
  if (now - downSince >= settings.scaleDownDelayMs) return { replicas: wanted, wanted, memory: FRESH_MEMORY, reason: why };
  return { replicas: seen.replicas, wanted, memory: { upSince: null, downSince }, reason: `${why}, wanted for ${now - downSince} of ${settings.scaleDownDelayMs} ms` };
}

function wantedReplicas(s: AutoscaleSettings, seen: AutoscaleObservation, now: number): { wanted: number; why: string } {
  const idleMs = now - seen.lastActivityAt;
  if (s.idleToZeroMs !== null && seen.held === 0 && seen.concurrency === 0 && idleMs >= s.idleToZeroMs) {
    return { wanted: 0, why: `idle for ${Math.round(idleMs / 1000)} s: to zero` };
  }
  const byConcurrency = Math.ceil(seen.concurrency / Math.max(s.targetConcurrency, 1e-9));
  const byRate = s.targetRps === null ? 0 : Math.ceil(seen.rps / Math.max(s.targetRps, 1e-9));
  const load = Math.max(byConcurrency, byRate, seen.held > 0 ? 1 : 0);
  const wanted = Math.min(s.max, Math.max(s.min, load));
  const why =
    load > s.min
      ? byRate > byConcurrency
        ? `${seen.rps.toFixed(1)} req/s over ${s.targetRps} per replica`
        : `${seen.concurrency} in flight over ${s.targetConcurrency} per replica`
      : `min ${s.min}`;
  return { wanted, why: wanted === s.max && load > s.max ? `${why} (capped at max ${s.max})` : why };
}

/** What one control-plane process's gateway saw of an endpoint over its last pass. */
export interface ProcessTraffic {
  readonly processId: string;
  /** When it was written (epoch ms). */
  readonly at: number;
  /** Peak in flight plus held over the pass. */
  readonly peak: number;
  readonly arrivals: number;
  /** Held now (at `at`). */
  readonly held: number;
  /** How long the pass it measured was (ms, > 0). */
  readonly elapsedMs: number;
  readonly lastActivityAt: number;
}

/**
 * The endpoint's traffic over every control-plane process, for `decideReplicas`: peaks, rates and
 * held requests add up (each process routes its own callers), the last activity is the latest.
 * A process's report older than `staleMs` (it stopped, or no longer sees the endpoint) is left out;
 * `own` is this process's, measured now, and always counts.
 */
export function combineTraffic(own: ProcessTraffic, others: readonly ProcessTraffic[], now: number, staleMs: number): Pick<AutoscaleObservation, 'concurrency' | 'rps' | 'held' | 'lastActivityAt'> {
  let concurrency = own.peak;
  let rps = own.arrivals / (own.elapsedMs / 1000);
  let held = own.held;
  let lastActivityAt = own.lastActivityAt;
  for (const t of others) {
    if (t.processId === own.processId || now - t.at > staleMs) continue;
    concurrency += t.peak;
    rps += t.arrivals / (Math.max(t.elapsedMs, 1) / 1000);
    held += t.held;
    lastActivityAt = Math.max(lastActivityAt, t.lastActivityAt);
  }
  return { concurrency, rps, held, lastActivityAt };
}
