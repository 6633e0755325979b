import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { schedule } from '../scheduler/index.js';
import { DEFAULT_POLICY } from '../scheduler/types.js';
import { prefetchInputs } from './data-plane.js';
import { admitSubmitted, placeJobs, setWaitingExplanations } from '../store/jobs.js';
import { inTransaction } from '../store/transaction.js';
import { expireSilentAgents, requeueFromDegradedCenters } from './agents.js';
import { holdPlacements, releaseUnplaced } from './billing/index.js';
import type { EngineContext } from './context.js';
import { withinRunningQuota } from './quotas.js';
import { sweepOutputRetention } from './retention.js';
import { applyReplicationRules } from './replication-rules.js';
import { stopOverBudget } from './billing/budget-stops.js';
import type { Leadership } from './leadership.js';
import { measuredPass } from './metrics.js';
import { JOBS_PER_PASS, loadSnapshot } from './snapshot.js';
import { vacuumChurningTables } from './maintenance.js';

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
export async function tick(ctx: EngineContext, budget = JOBS_PER_PASS): Promise<TickReport> {
  const lostCenters = [...(await expireSilentAgents(ctx)), ...(await requeueFromDegradedCenters(ctx))];
  const admitted = await admit(ctx);
  const woken = new Set<string>();
  const prefetch: { jobId: string; centerId: string }[] = [];
  const result = await inTransaction(ctx.store.db, async (trx) => {
    const locked = await sql<{ ok: boolean }>`SELECT pg_try_advisory_xact_lock(${SCHEDULER_LOCK}) AS ok`.execute(trx);
    if (!locked.rows[0]?.ok) return { placed: 0, waiting: 0 };
    const now = ctx.now();
    const { snapshot, waitingSummaries } = await loadSnapshot(trx, now.getTime(), budget);
    if (snapshot.jobs.length === 0) return { placed: 0, waiting: 0 };
    const outcome = schedule(snapshot, DEFAULT_POLICY);
    // Multi-row statements: a pass that places thousands of jobs costs a handful of round trips.
    // Per-org quota of placed-or-running jobs: the excess stays queued for a later pass.
    const quotaAllowed = await withinRunningQuota(ctx, trx, outcome.placements);
    // Billing: each placement holds its maximum bill; one the wallet cannot cover stays queued.
    const allowed = await holdPlacements(ctx, trx, quotaAllowed, now);
    const placed = await placeJobs(
      trx,
      allowed.map((p) => ({
        id: ctx.newId('placement'),
        jobId: p.jobId,
        centerId: p.centerId,
        poolId: p.poolId,
        nodeIndices: p.nodeIndices,
        explanation: p.explanation,
        message: `placed on ${p.option.centerName}/${p.option.poolName}: ${p.explanation.summary}`,
      })),
      now,
    );
    await releaseUnplaced(ctx, trx, allowed, placed, now);
    for (const p of allowed) if (placed.has(p.jobId)) woken.add(p.centerId);
    // Only explanations that changed are written: a long queue that waits for the same reason costs nothing.
    const changed = outcome.waiting.filter((w) => waitingSummaries.get(w.jobId) !== w.explanation.summary);
    await setWaitingExplanations(trx, changed.map((w) => ({ jobId: w.jobId, explanation: w.explanation })), now);
    // Jobs that wait with a plan at a center (a reservation, a later hour) and read datasets: their
    // stage-in starts now, so the copy overlaps the wait (docs/data.md).
    const withInputs = new Set(snapshot.jobs.filter((j) => j.inputs.length > 0).map((j) => j.id));
    for (const w of outcome.waiting) {
      if (withInputs.has(w.jobId) && w.explanation.chosen) prefetch.push({ jobId: w.jobId, centerId: w.explanation.chosen.centerId });
    }
    return { placed: placed.size, waiting: outcome.waiting.length };
  });
  if (prefetch.length > 0) await prefetchInputs(ctx, prefetch);
  for (const centerId of woken) ctx.signals.wake(`center:${centerId}`);
  // Billing: budgets whose policy is stop-at-limit stop their org's running jobs once reached.
  await stopOverBudget(ctx);
  return { lostCenters, admitted, ...result };
}

/**
 * The queued jobs a quick pass reads: the head of each org's queue, enough to fill what a pass can
 * free. Under load passes come every `minPassGapMs` (0.1 s), and reading the whole pass budget
 * (JOBS_PER_PASS) each time re-read every waiting job about thirty times on its way through a
 * burst (235,000 rows read for 8,200 jobs). So one pass every `fullPassEveryMs` reads the whole
 * budget (backfill deep in the queue, every waiting job's explanation and reservation) and the
 * passes in between only the head, which is what they place: Slurm's split of its main scheduler
 * (queue head, at every event) and its backfill pass (every bf_interval, 30 s by default). A queue
 * shorter than this is read whole by every pass.
 */
export const QUICK_JOBS_PER_PASS = 1_000;

/** Submitted jobs of each org admitted per pass; a larger backlog is admitted over the next passes. */
const ADMIT_PER_ORG_PER_PASS = 10_000;

/** submitted → queued, in one statement. (Quota and budget checks will sit here.) */
async function admit(ctx: EngineContext): Promise<number> {
  return admitSubmitted(ctx.store.db, ctx.now(), ADMIT_PER_ORG_PER_PASS, 'admitted to the global queue');
}

/**
 * Runs `tick` every `config.tickMs` and whenever something wakes the `tick` topic, until stopped.
 * A failing tick is reported and retried on the next turn; it never stops the loop. With a
 * `leadership`, it ticks only while this process leads, and each time it starts leading it begins a
 * new term (`ctx.term`): agents get a full deadline from then before they can be declared lost.
 */
export function startControlLoop(
  ctx: EngineContext,
  onError: (error: unknown) => void,
  leadership?: Leadership,
  log: (line: string) => void = () => {},
): { stop(): Promise<void> } {
  const abort = new AbortController();
  let lastSweep = ctx.clock.now();
  let lastRules = -Infinity;
  let lastVacuum = ctx.clock.now();
  let lastDeepPass = -Infinity;
  let vacuumSaid = false;
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
      const passStartedAt = ctx.clock.now();
      // Armed before the pass: a wake during it (a submission after the pass read the queue) brings
      // the next pass at once instead of after tickMs.
      const next = ctx.signals.arm('tick', ctx.config.tickMs, abort.signal);
      try {
        const deep = passStartedAt - lastDeepPass >= ctx.config.fullPassEveryMs;
        if (deep) lastDeepPass = passStartedAt;
        await measuredPass(ctx, () => tick(ctx, deep ? JOBS_PER_PASS : QUICK_JOBS_PER_PASS));
        // Retention of ended jobs' output: rarely (hourly by default), in short batches.
        if (ctx.clock.now() - lastSweep >= ctx.config.retentionSweepEveryMs) {
          lastSweep = ctx.clock.now();
          await sweepOutputRetention(ctx);
        }
        // Replication rules: every few seconds, or at once when a rule was declared in this process.
        if (ctx.clock.now() - lastRules >= ctx.config.rulesEveryMs || ctx.rules.changed) {
          lastRules = ctx.clock.now();
          ctx.rules.changed = false;
          await applyReplicationRules(ctx);
        }
        // Dead rows of the tables that churn, when the database's autovacuum does not clear them.
        if (ctx.config.vacuumEveryMs > 0 && ctx.clock.now() - lastVacuum >= ctx.config.vacuumEveryMs) {
          lastVacuum = ctx.clock.now();
          const vacuumed = await vacuumChurningTables(ctx.store);
          if (vacuumed.length > 0 && !vacuumSaid) {
            vacuumSaid = true;
            log(`the database's autovacuum is not running: the control loop vacuums ${vacuumed.length} tables that churn every ${ctx.config.vacuumEveryMs / 1000} s (docs/operations.md)`);
          }
        }
      } catch (error) {
        if (!abort.signal.aborted) onError(error);
      }
      await next.woken;
      // Under load wakes come faster than passes: passes start at most every minPassGapMs, so that
      // each reads the queue for many changes at once instead of once per change (Slurm's
      // sched_min_interval does the same).
      const gap = ctx.config.minPassGapMs - (ctx.clock.now() - passStartedAt);
      if (gap > 0 && !abort.signal.aborted) await sleep(gap, undefined, { signal: abort.signal }).catch(() => undefined); // rejects on abort: stop
    }
  })();
  return {
    async stop() {
      abort.abort();
      await done;
    },
  };
}
