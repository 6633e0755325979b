import { SuanwangError } from '../core/errors.js';
import type { ReportsRequest, ReportsResponse, StateReport } from '../core/agent-protocol.js';
import { addJobEvent, getJob, lockJobs, markRunning, markSucceeded } from '../store/jobs.js';
import type { JobRow } from '../store/schema.js';
import { inTransaction } from '../store/transaction.js';
import { appendLogs, applyRunStatus, assertSession, isWanted, placedHere } from './agents.js';
import type { EngineContext } from './context.js';
import { settleJobs, settingsOf } from './billing/settlement.js';

type Report = StateReport & { readonly jobId: string };

/**
 * Applies one call's worth of an agent's reports (POST /v1/agent/reports): every log report first
 * (as `appendLogs` does for one), then the state changes in one transaction that locks the jobs
 * concerned in id order, with the same rules as one `POST …/state` each: a run the store does not
 * want gets `kill`, and a stale run that says it is running leaves an event on its job. The common
 * changes (started; ended with exit 0) are written with one multi-row statement each; anything
 * else goes through `applyRunStatus` one by one, after them, so a run's start precedes its end.
 */
export async function applyReports(ctx: EngineContext, centerId: string, sessionId: string | undefined, req: ReportsRequest): Promise<ReportsResponse> {
  const center = await assertSession(ctx.store.db, centerId, sessionId);
  // One run's refused output (its cap, a long-ended job, a gap) must not fail the others' reports.
  const refusedLogs: { jobId: string; attempt: number; code: string }[] = [];
  for (const log of req.logs) {
    if (log.chunks.length === 0) continue;
    try {
      await appendLogs(ctx, centerId, sessionId, log.jobId, log);
    } catch (error) {
      if (!(error instanceof SuanwangError) || error.status >= 500 || error.code === 'agent_session_expired') throw error;
      refusedLogs.push({ jobId: log.jobId, attempt: log.attempt, code: error.code });
    }
  }
  if (req.states.length === 0) return { states: [], refusedLogs };
  const now = ctx.now();
  const actions = await inTransaction(ctx.store.db, async (trx) => {
    const jobs = new Map((await lockJobs(trx, [...new Set(req.states.map((s) => s.jobId))])).map((j) => [j.id, j]));
    // What each job's state will be once the reports before it in this call are applied.
    const state = new Map<string, JobRow['state']>([...jobs].map(([id, j]) => [id, j.state]));
    const out: ('ok' | 'kill')[] = [];
    const starting: Report[] = [];
    const succeeding: Report[] = [];
    const slow: Report[] = [];
    for (const report of req.states) {
      const job = jobs.get(report.jobId);
      if (!job || !isWanted({ ...job, state: state.get(job.id)! }, centerId, report.attempt)) {
        // As for one report: only a run once placed here may leave an event on the job.
        if (job && report.state === 'running' && (await placedHere(trx, centerId, report))) {
          await addJobEvent(trx, job.id, report.attempt, now, `a stale run (attempt ${report.attempt}) reported running at ${center.name}; stopping it`);
        }
        out.push('kill');
        continue;
      }
      const current = state.get(job.id)!;
      if (report.state === 'running' && current === 'placed' && !slow.some((r) => r.jobId === job.id)) {
        starting.push(report);
        state.set(job.id, 'running');
      } else if (report.state === 'succeeded' && current === 'running' && !slow.some((r) => r.jobId === job.id)) {
        succeeding.push(report);
        state.set(job.id, 'succeeded');
      } else if (report.state !== 'running' || current === 'placed') {
        slow.push(report);
      }
      out.push(report.state === 'running' && job.cancel_requested_at ? 'kill' : 'ok');
    }
    await markRunning(trx, centerId, starting, now);
    await markSucceeded(trx, centerId, succeeding, now);
    for (const report of slow) {
      const job = await getJob(trx, report.jobId);
      if (job && isWanted(job, centerId, report.attempt)) {
        await applyRunStatus(trx, job, { ...report, startedAt: report.at, finishedAt: report.state === 'running' ? null : report.at }, now);
      }
    }
    // Billing: runs that ended in this call settle their holds, in this transaction.
    await settleJobs(trx, [...succeeding, ...slow].map((r) => r.jobId), now, settingsOf(ctx));
    return out;
  });
  for (const jobId of new Set(req.states.map((s) => s.jobId))) ctx.signals.wake(`job:${jobId}`);
  ctx.signals.wake('tick');
  return { states: req.states.map((s, i) => ({ jobId: s.jobId, attempt: s.attempt, action: actions[i]! })), refusedLogs };
}
