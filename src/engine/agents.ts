import { randomBytes } from 'node:crypto';
import { SuanwangError } from '../core/errors.js';
import type {
  HeartbeatRequest,
  HeartbeatResponse,
  Lease,
  LeasesResponse,
  LogReport,
  RegisterRequest,
  RegisterResponse,
  RunRef,
  RunStatus,
  StateReport,
  StateReportResponse,
} from '../core/agent-protocol.js';
import { centersDegradedSince, centersSilentSince, getCenter, listPools, lockCenter, syncPools, updateCenter } from '../store/centers.js';
import { activeJobs, addJobEvent, getJob, getJobs, lockJob, lockJobs, placedJobsAfter, runsPlacedAt, runsToStop, transitionJob } from '../store/jobs.js';
import { appendLogChunk, storedOutputBytes } from '../store/job-logs.js';
import { orgNamesById } from '../store/accounts.js';
import type { CenterRow, JobRow, PoolRow } from '../store/schema.js';
import { pickVariant } from '../catalog/index.js';
import type { Queryable } from '../store/transaction.js';
import { inTransaction } from '../store/transaction.js';
import { leaseInputs } from './data-plane.js';
import type { EngineContext } from './context.js';
import { settleJobs, settingsOf } from './billing/settlement.js';
import { isInfrastructureFailure, requeueOrFail } from './run-outcomes.js';
import { invalidateNetworkView } from './jobs.js';

/**
 * The control plane's side of the agent protocol (src/core/agent-protocol.ts). An agent's
 * registration is the reconciliation point: what it runs is compared with what the store says it
 * should run; runs nobody wants are killed, runs it lost are requeued.
 */

/** Runs reconciled per transaction at registration: however many runs an agent holds, no transaction is long. */
export const REGISTER_RUNS_PER_TRANSACTION = 500;

export async function registerAgent(ctx: EngineContext, centerId: string, req: RegisterRequest): Promise<RegisterResponse> {
  const now = ctx.now();
  const sessionId = `as_${randomBytes(12).toString('base64url')}`;
  const center = await inTransaction(ctx.store.db, async (trx) => {
    const center = (await lockCenter(trx, centerId))!;
    await syncPools(trx, centerId, req.pools, () => ctx.newId('pool'), now);
    await updateCenter(trx, centerId, {
      state: 'online',
      state_reason: null,
      connector: req.connector,
      commands: JSON.stringify(req.commands),
      agent_session: sessionId,
      agent_version: req.agentVersion,
      last_heartbeat_at: now,
      degraded_since: null,
    });
    return center;
  });
  // The runs, a slice per short transaction (one statement reads a slice's jobs): a registration
  // with 20,000 runs once held one transaction for 13 s and stalled the API. Nobody calls with the
  // new session before this answers, so reconciling after the session is set is safe.
  const kill: RunRef[] = [];
  const settled: string[] = [];
  for (let i = 0; i < req.runs.length; i += REGISTER_RUNS_PER_TRANSACTION) {
    const slice = req.runs.slice(i, i + REGISTER_RUNS_PER_TRANSACTION);
    await inTransaction(ctx.store.db, async (trx) => {
      const jobs = new Map((await lockJobs(trx, slice.map((r) => r.jobId))).map((j) => [j.id, j]));
      const stale = slice.filter((run) => run.state === 'running' && jobs.has(run.jobId) && !isWanted(jobs.get(run.jobId)!, centerId, run.attempt));
      const placedHere = await runsPlacedAt(trx, centerId, stale);
      for (const run of slice) {
        const job = jobs.get(run.jobId);
        if (job && isWanted(job, centerId, run.attempt)) {
          await applyRunStatus(trx, job, run, now);
          if (run.state !== 'running') settled.push(job.id);
        } else if (run.state === 'running') {
          kill.push({ jobId: run.jobId, attempt: run.attempt });
          if (job && placedHere.has(`${run.jobId}.${run.attempt}`)) await addJobEvent(trx, job.id, run.attempt, now, `stale run of attempt ${run.attempt} found at ${center.name}; stopping it`);
        }
      }
    });
  }
  const reported = new Set(req.runs.map((r) => r.jobId));
  await inTransaction(ctx.store.db, async (trx) => {
    for (const job of await activeJobs(trx, centerId)) {
      if (job.state === 'running' && !reported.has(job.id)) {
        await requeueOrFail(trx, job, `${center.name}'s agent came back without this run`, now);
        settled.push(job.id);
      }
    }
  });
  // Runs that ended (or were lost) while nobody listened were just settled: wake their followers.
  for (const id of settled) ctx.signals.wake(`job:${id}`);
  invalidateNetworkView(ctx); // its pools and programs may have changed
  ctx.signals.wake('tick');
  return {
    sessionId,
    centerId,
    centerName: center.name,
    heartbeatIntervalMs: ctx.config.heartbeatIntervalMs,
    deadlineMs: ctx.config.agentDeadlineMs,
    kill,
  };
}

/** The run was placed at this center once: only then may its agent leave an event on the job. */
export async function placedHere(q: Queryable, centerId: string, run: RunRef): Promise<boolean> {
  return (await runsPlacedAt(q, centerId, [run])).has(`${run.jobId}.${run.attempt}`);
}

/** The run (jobId, attempt) is the one the store wants at this center. */
export function isWanted(job: JobRow, centerId: string, attempt: number): boolean {
  return job.center_id === centerId && job.attempt === attempt && (job.state === 'placed' || job.state === 'running');
}

/** The agent's center, when `sessionId` is its current session; else `agent_session_expired` (register again). */
export async function assertSession(q: Queryable, centerId: string, sessionId: string | undefined) {
  const center = await getCenter(q, centerId);
  if (!center || !sessionId || center.agent_session !== sessionId) {
    throw new SuanwangError('agent_session_expired', 'this agent session is no longer valid', {
      field: 'X-Agent-Session',
      hint: 'register again (POST /v1/agent/register)',
    });
  }
  return center;
}

export async function heartbeat(ctx: EngineContext, centerId: string, sessionId: string | undefined, req: HeartbeatRequest): Promise<HeartbeatResponse> {
  const center = await assertSession(ctx.store.db, centerId, sessionId);
  const now = ctx.now();
  await updateCenter(ctx.store.db, centerId, { last_heartbeat_at: now, ...healthChange(center, req.health, now) });
  ctx.metrics?.heartbeat(center.name);
  const kill: RunRef[] = [];
  // One read for every run (an agent may hold thousands), not one per run.
  const jobs = new Map((await getJobs(ctx.store.db, req.runs.filter((r) => r.state === 'running').map((r) => r.jobId))).map((j) => [j.id, j]));
  for (const run of req.runs) {
    if (run.state !== 'running') continue;
    const job = jobs.get(run.jobId);
    if (!job || !isWanted(job, centerId, run.attempt) || job.cancel_requested_at) {
      kill.push({ jobId: run.jobId, attempt: run.attempt });
      if (job && !isWanted(job, centerId, run.attempt) && (await placedHere(ctx.store.db, centerId, run))) await noteStaleRun(ctx, job, run.attempt, center.name, now);
    }
  }
  return { kill };
}

/** Records, once per attempt, that a stale run of a job was found still running and is being stopped. */
async function noteStaleRun(ctx: EngineContext, job: JobRow, attempt: number, centerName: string, now: Date): Promise<void> {
  const message = `stale run of attempt ${attempt} found at ${centerName}; stopping it`;
  const seen = await ctx.store.db.selectFrom('job_events').select('id').where('job_id', '=', job.id).where('message', '=', message).executeTakeFirst();
  if (!seen) await addJobEvent(ctx.store.db, job.id, attempt, now, message);
}

/**
 * A degraded local scheduler drains its center (no new work; see `requeueFromDegradedCenters`); the
 * first healthy heartbeat after it brings the center back online.
 */
function healthChange(center: CenterRow, health: HeartbeatRequest['health'], now: Date): Partial<Pick<CenterRow, 'state' | 'state_reason' | 'degraded_since'>> {
  if (health?.degraded && center.state === 'online') {
    // Dated by the server's clock when it hears of it: the agent's `since` (another clock, maybe
    // wrong) must never shorten the deadline before its jobs are requeued.
    return { state: 'draining', state_reason: `degraded: ${health.reason ?? 'the local scheduler does not answer'}`, degraded_since: now };
  }
  if (!health?.degraded && center.degraded_since) return { state: 'online', state_reason: null, degraded_since: null };
  return {};
}

/**
 * Requeues the jobs of centers degraded for longer than the agent deadline: their scheduler is not
 * answering, so their runs may never report. (If it comes back with one still running, the stale
 * attempt is stopped at its next report, like any other.) Returns the centers' names.
 */
export async function requeueFromDegradedCenters(ctx: EngineContext): Promise<string[]> {
  const now = ctx.now();
  if (withinGrace(ctx, now)) return [];
  const cutoff = new Date(now.getTime() - ctx.config.agentDeadlineMs);
  const names: string[] = [];
  const touched: string[] = [];
  for (const c of await centersDegradedSince(ctx.store.db, cutoff)) {
    await inTransaction(ctx.store.db, async (trx) => {
      const center = await lockCenter(trx, c.id);
      if (!center || center.state !== 'draining' || !center.degraded_since || center.degraded_since >= cutoff) return;
      const active = await activeJobs(trx, center.id);
      for (const job of active) await requeueOrFail(trx, job, `center ${center.name} ${center.state_reason ?? 'degraded'}`, now);
      if (active.length > 0) names.push(center.name);
      touched.push(...active.map((j) => j.id));
    });
  }
  for (const id of touched) ctx.signals.wake(`job:${id}`);
  return names;
}

/** The most leases one poll answers with; the agent polls again at once for the rest. */
const LEASES_PER_POLL = 1000;

/**
 * Placed jobs for this center (its leases) after the agent's cursor `after` (the `cursor` of its
 * previous answer; 0 for all), and runs to stop; waits up to `waitMs` when there are none. A lost
 * answer costs nothing: the agent asks again from its old cursor.
 */
export async function pollLeases(
  ctx: EngineContext,
  centerId: string,
  sessionId: string | undefined,
  waitMs: number,
  signal?: AbortSignal,
  after = 0,
): Promise<LeasesResponse> {
  const deadline = Date.now() + Math.min(Math.max(0, waitMs), ctx.config.maxWaitMs);
  let killsHeld = false;
  for (;;) {
    // Armed before the reads, so a placement committed while they run still wakes this poll.
    const wake = ctx.signals.arm(`center:${centerId}`, Math.max(0, deadline - Date.now()), signal);
    try {
      const center = await assertSession(ctx.store.db, centerId, sessionId);
      const [placed, kill] = await Promise.all([placedJobsAfter(ctx.store.db, centerId, after, LEASES_PER_POLL), runsToStop(ctx.store.db, centerId)]);
      const pools = placed.length > 0 ? new Map((await listPools(ctx.store.db, centerId)).map((p) => [p.id, p])) : new Map<string, PoolRow>();
      const orgNames = placed.length > 0 ? await orgNamesById(ctx.store.db, placed.map((j) => j.org_id)) : new Map<string, string>();
      const leases = await Promise.all(
        placed.map(async (j) => {
          const lease = toLease(j, pools.get(j.pool_id ?? ''), orgNames.get(j.org_id) ?? j.org_id);
          // The inputs' current versions, which the agent stages in before the run starts (docs/data.md).
          return j.inputs.length > 0 ? { ...lease, inputs: await leaseInputs(ctx.store.db, j.inputs) } : lease;
        }),
      );
      const cursor = String(placed.reduce((m, j) => Math.max(m, j.lease_seq ?? 0), after));
      const left = deadline - Date.now();
      if (leases.length > 0 || left <= 0 || signal?.aborted || center.state === 'offline') return { leases, kill, cursor };
      // Runs to stop are repeated until they end; an agent that already got them need not spin on
      // them, so they wait out one short beat unless new work arrives first.
      if (kill.length > 0) {
        if (killsHeld) return { leases, kill, cursor };
        killsHeld = true;
        let beat: NodeJS.Timeout | undefined;
        await Promise.race([wake.woken, new Promise<void>((r) => (beat = setTimeout(r, Math.min(left, 500))))]);
        clearTimeout(beat);
        continue;
      }
      // No re-check loop: a placement here or in another control-plane process wakes this poll
      // (signals.ts); the deadline is only the safety net.
      await wake.woken;
    } finally {
      wake.cancel();
    }
  }
}

/**
 * The lease of a placed job. An app launch carries one command per accelerator family; the lease
 * takes the variant of the family of the pool the scheduler picked (`cpu` for a job without
 * accelerators, even on an accelerator pool's cores).
 */
function toLease(job: JobRow, pool: PoolRow | undefined, orgName: string): Lease {
  const variant = job.command_variants ? pickVariant(job.command_variants, job.accelerators_per_node, pool?.accelerator ?? null) : undefined;
  return {
    jobId: job.id,
    attempt: job.attempt,
    name: job.name,
    tenant: { orgId: job.org_id, orgName },
    poolName: pool?.name ?? '',
    command: variant?.command ?? job.command,
    env: { ...job.env, ...(variant?.env ?? {}) },
    workdir: job.workdir,
    files: job.files,
    nodes: job.nodes,
    acceleratorsPerNode: job.accelerators_per_node,
    coresPerNode: job.cores_per_node,
    memoryMiBPerNode: job.memory_mib_per_node,
    walltimeSeconds: job.walltime_seconds,
    ...(job.outputs?.length ? { outputs: job.outputs } : {}),
  };
}

export async function reportState(
  ctx: EngineContext,
  centerId: string,
  sessionId: string | undefined,
  jobId: string,
  report: StateReport,
): Promise<StateReportResponse> {
  const center = await assertSession(ctx.store.db, centerId, sessionId);
  const now = ctx.now();
  const action = await inTransaction(ctx.store.db, async (trx) => {
    const job = await lockJob(trx, jobId);
    if (!job || !isWanted(job, centerId, report.attempt)) {
      if (job && report.state === 'running' && (await placedHere(trx, centerId, { jobId, attempt: report.attempt }))) {
        await addJobEvent(trx, jobId, report.attempt, now, `a stale run (attempt ${report.attempt}) reported running at ${center.name}; stopping it`);
      }
      return 'kill' as const;
    }
    await applyRunStatus(trx, job, { ...report, jobId, startedAt: report.at, finishedAt: report.state === 'running' ? null : report.at }, now);
    await settleJobs(trx, [jobId], now, settingsOf(ctx)); // billing: an ended run settles its hold
    if (report.state === 'running' && job.state === 'placed') ctx.metrics?.dispatched(job.placed_at ? (now.getTime() - job.placed_at.getTime()) / 1000 : 0);
    return report.state === 'running' && job.cancel_requested_at ? ('kill' as const) : ('ok' as const);
  });
  ctx.signals.wake(`job:${jobId}`);
  ctx.signals.wake('tick');
  return { action };
}

/** Applies what an agent says of a run the store wants at its center. */
export async function applyRunStatus(q: Queryable, job: JobRow, run: Omit<RunStatus, 'attempt'> & { attempt: number }, now: Date): Promise<void> {
  // Times are the server's: what the agent reports (its own clock) is clamped between the
  // placement (or the start already recorded) and now, so a run never ends before it started.
  const placedAt = job.placed_at?.getTime() ?? now.getTime();
  const clamp = (t: number | null | undefined, from: number) => new Date(Math.min(Math.max(Number.isFinite(t) ? (t as number) : now.getTime(), from), now.getTime()));
  const startedAt = job.started_at ?? clamp(run.startedAt, placedAt);
  const at = run.state === 'running' ? startedAt : clamp(run.finishedAt, startedAt.getTime());
  const event = { at: now, attempt: job.attempt };
  switch (run.state) {
    case 'running':
      if (job.state === 'placed') await transitionJob(q, job.id, 'running', { started_at: at }, { ...event, message: "started" });
      return;
    case 'succeeded':
      await transitionJob(q, job.id, 'succeeded', { exit_code: run.exitCode, finished_at: at, started_at: startedAt }, { ...event, message: 'exited with code 0' });
      return;
    case 'cancelled':
      if (job.cancel_requested_at) {
        await transitionJob(q, job.id, 'cancelled', { exit_code: run.exitCode, finished_at: at, reason: job.reason ?? 'cancelled' }, { ...event, message: 'stopped at the center after a cancel' });
      } else {
        await transitionJob(q, job.id, 'failed', { exit_code: run.exitCode, finished_at: at, reason: 'stopped by the center' }, { ...event, message: 'stopped by the center' });
      }
      return;
    case 'failed':
      if (isInfrastructureFailure(run.reason)) {
        await requeueOrFail(q, job, `run lost at the center (${run.reason})`, now);
        return;
      }
      await transitionJob(
        q,
        job.id,
        'failed',
        { exit_code: run.exitCode, finished_at: at, started_at: startedAt, reason: failureReason(run.exitCode, run.reason) },
        { ...event, message: failureReason(run.exitCode, run.reason) },
      );
      return;
  }
}

function failureReason(exitCode: number | null, reason: string | null): string {
  if (reason === 'walltime-exceeded') return 'walltime exceeded: stopped at its time limit';
  if (reason === 'command-not-found' || exitCode === 127) return 'command not found at the center (exit 127)';
  if (exitCode !== null && exitCode > 128) return `killed by signal ${exitCode - 128} (exit ${exitCode})`;
  return `exited with code ${exitCode ?? 'unknown'}${reason ? ` (${reason})` : ''}`;
}

export async function appendLogs(ctx: EngineContext, centerId: string, sessionId: string | undefined, jobId: string, report: LogReport): Promise<void> {
  await assertSession(ctx.store.db, centerId, sessionId);
  const job = await getJob(ctx.store.db, jobId);
  // Output of a run the store does not want (a stale attempt) is dropped, not mixed in.
  if (!job || job.center_id !== centerId || job.attempt !== report.attempt) return;
  const now = ctx.now();
  // The agent ships a run's tail before its final state, so output after the end is a late re-send
  // at most; past a short grace it is refused (the agent then stops shipping it).
  if (job.finished_at && now.getTime() - job.finished_at.getTime() > ctx.config.endedOutputGraceMs) {
    throw new SuanwangError('job_already_finished', `job ${jobId} ended at ${job.finished_at.toISOString()}; output is accepted until ${ctx.config.endedOutputGraceMs / 1000} s after the end`, {
      field: 'id',
      hint: 'ship a run\'s output before its final state',
    });
  }
  await inTransaction(ctx.store.db, async (trx) => {
    let used = await storedOutputBytes(trx, jobId);
    for (const chunk of report.chunks) {
      used += await appendLogChunk(trx, { jobId, attempt: report.attempt, stream: chunk.stream, offset: chunk.offset, data: chunk.data, at: now }, ctx.config.maxOutputBytesPerJob - used);
    }
  });
  ctx.signals.wake(`job:${jobId}`);
}

/**
 * Declares agents silent past the deadline lost: their center goes offline and every job it held is
 * requeued (or failed when out of attempts). Returns the names of the centers declared lost.
 */
export async function expireSilentAgents(ctx: EngineContext): Promise<string[]> {
  const now = ctx.now();
  if (withinGrace(ctx, now)) return [];
  const cutoff = new Date(now.getTime() - ctx.config.agentDeadlineMs);
  const lost: string[] = [];
  const touched: string[] = [];
  for (const silent of await centersSilentSince(ctx.store.db, cutoff)) {
    await inTransaction(ctx.store.db, async (trx) => {
      const center = await lockCenter(trx, silent.id);
      if (!center || center.state === 'offline' || !center.last_heartbeat_at || center.last_heartbeat_at >= cutoff) return;
      const silentS = Math.round((now.getTime() - center.last_heartbeat_at.getTime()) / 1000);
      const why = `center ${center.name} lost its agent (no heartbeat for ${silentS} s)`;
      await updateCenter(trx, center.id, { state: 'offline', state_reason: why, agent_session: null });
      const active = await activeJobs(trx, center.id);
      for (const job of active) await requeueOrFail(trx, job, why, now);
      touched.push(...active.map((j) => j.id));
      lost.push(center.name);
    });
  }
  for (const id of touched) ctx.signals.wake(`job:${id}`);
  return lost;
}

/**
 * True during the first agent deadline of this control loop's term (a restart or a takeover): an
 * agent's silence is counted from no earlier than the term's start, so the time no control loop
 * ran (and agents could not report) is never held against it.
 */
function withinGrace(ctx: EngineContext, now: Date): boolean {
  return now.getTime() - ctx.term.startedAt < ctx.config.agentDeadlineMs;
}
