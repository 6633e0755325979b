import { sql } from 'kysely';
import { schedule } from '../scheduler/index.js';
import { DEFAULT_POLICY } from '../scheduler/types.js';
import { insertPlacement, jobsInStates, transitionJob, updateJob } from '../store/jobs.js';
import { inTransaction } from '../store/transaction.js';
import { expireSilentAgents, requeueFromDegradedCenters } from './agents.js';
import type { EngineContext } from './context.js';
import { withinRunningQuota } from './quotas.js';
import { sweepOutputRetention } from './retention.js';
import type { Leadership } from './leadership.js';
import { measuredPass } from './metrics.js';
import { loadSnapshot, MAX_JOBS_PER_PASS } from './snapshot.js';

// Only one control-plane process schedules at a time (they share one PostgreSQL).
const SCHEDULER_LOCK = 7261002;

export interface TickReport {
  readonly lostCenters: readonly string[];
  readonly admitted: number;
  readonly placed: number;
  readonly waiting: number;
}

/**
 * One turn of the control loop: reconcile (agents past their deadline lose their jobs to the queue),
 * admit submitted jobs, then load a snapshot, schedule, persist the placements and wake the agents
 * that got work. Scheduling runs inside one transaction holding an advisory lock, so two
 * control planes never place from the same snapshot; the loser of the lock skips its turn.
 */
export async function tick(ctx: EngineContext): Promise<TickReport> {
  const lostCenters = [...(await expireSilentAgents(ctx)), ...(await requeueFromDegradedCenters(ctx))];
  const admitted = await admit(ctx);
  const woken = new Set<string>();
  const result = await inTransaction(ctx.store.db, async (trx) => {
    const locked = await sql<{ ok: boolean }>`SELECT pg_try_advisory_xact_lock(${SCHEDULER_LOCK}) AS ok`.execute(trx);
    if (!locked.rows[0]?.ok) return { placed: 0, waiting: 0 };
    const now = ctx.now();
    const { snapshot, waitingSummaries } = await loadSnapshot(trx, now.getTime());
    if (snapshot.jobs.length === 0) return { placed: 0, waiting: 0 };
    const outcome = schedule(snapshot, DEFAULT_POLICY);
    let placed = 0;
    // Per-org quota of placed-or-running jobs: the excess stays queued for a later pass.
    for (const p of await withinRunningQuota(ctx, trx, outcome.placements)) {
            const row = await transitionJob(
        trx,
        p.jobId,
        'placed',
        {
          center_id: p.centerId,
          pool_id: p.poolId,
          node_indices: JSON.stringify(p.nodeIndices),
          placed_at: now,
          waiting_explanation: JSON.stringify(null),
          attempt: sql<number>`attempt + 1` as unknown as number,
        },
        { at: now, message: `placed on ${p.option.centerName}/${p.option.poolName}: ${p.explanation.summary}` },
      );
      if (!row) continue;
      await insertPlacement(trx, { id: ctx.newId('placement'), jobId: p.jobId, attempt: row.attempt, centerId: p.centerId, poolId: p.poolId, at: now, explanation: p.explanation });
      woken.add(p.centerId);
      placed++;
    }
    for (const w of outcome.waiting) {
      if (waitingSummaries.get(w.jobId) === w.explanation.summary) continue; // unchanged: spare the write
      await updateJob(trx, w.jobId, { waiting_explanation: JSON.stringify(w.explanation) }, now);
    }
    return { placed, waiting: outcome.waiting.length };
  });
  for (const centerId of woken) ctx.signals.wake(`center:${centerId}`);
  return { lostCenters, admitted, ...result };
}

/** submitted → queued. (Quota and budget checks will sit here.) */
async function admit(ctx: EngineContext): Promise<number> {
  const submitted = await jobsInStates(ctx.store.db, ['submitted'], MAX_JOBS_PER_PASS);
  const now = ctx.now();
  let n = 0;
  for (const job of submitted) {
    if (await transitionJob(ctx.store.db, job.id, 'queued', {}, { at: now, message: 'admitted to the global queue' })) n++;
  }
  return n;
}

/**
 * Runs `tick` every `config.tickMs` and whenever something wakes the `tick` topic, until stopped.
 * A failing tick is reported and retried on the next turn; it never stops the loop. With a
 * `leadership`, it ticks only while this process leads, and each time it starts leading it begins a
 * new term (`ctx.term`): agents get a full deadline from then before they can be declared lost.
 */
export function startControlLoop(ctx: EngineContext, onError: (error: unknown) => void, leadership?: Leadership): { stop(): Promise<void> } {
  const abort = new AbortController();
  let lastSweep = ctx.clock.now();
  const done = (async () => {
    let leading = false;
    while (!abort.signal.aborted) {
      if (leadership && !leadership.isLeader) {
        leading = false;
        await leadership.changed(ctx.config.tickMs, abort.signal);
        continue;
      }
      if (!leading) {
        leading = true;
        ctx.term.startedAt = ctx.clock.now();
      }
      try {
        await measuredPass(ctx, () => tick(ctx));
        // Retention of ended jobs' output: rarely (hourly by default), in short batches.
        if (ctx.clock.now() - lastSweep >= ctx.config.retentionSweepEveryMs) {
          lastSweep = ctx.clock.now();
          await sweepOutputRetention(ctx);
        }
      } catch (error) {
        if (!abort.signal.aborted) onError(error);
      }
      await ctx.signals.wait('tick', ctx.config.tickMs, abort.signal);
    }
  })();
  return {
    async stop() {
      abort.abort();
      await done;
    },
  };
}
