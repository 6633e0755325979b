import type { RunState } from '../../../core/agent-protocol.js';
import type { StopReason } from '../../run-io.js';

/** A Slurm job's state as one of ours. */
export interface SlurmOutcome {
  readonly state: RunState;
  readonly exitCode: number | null;
  readonly reason: string | null;
  /** Slurm has not started it yet (queued at the center); `state` is `running` then. */
  readonly pending: boolean;
  /** Slurm requeued the job itself: the run is over for us, and the Slurm job must be cancelled. */
  readonly requeuedBySlurm?: boolean;
}

/*
 * Slurm job state → RunStatus. The control plane placed the job, so from its view the run has started
 * once Slurm accepted it: a job still PENDING in Slurm's queue (the center's own users got there first,
 * or nodes are booting) is reported `running`, with `pending` set so health() can tell. Its startedAt is
 * the submission time until Slurm starts it, then Slurm's start time.
 *
 *   Slurm state                         ours        reason
 *   PENDING, CONFIGURING, RUNNING,      running     –
 *   COMPLETING, SUSPENDED, RESIZING,
 *   SIGNALING, STAGE_OUT, REQUEUE*, …
 *   COMPLETED                           succeeded   –                     (exit 0)
 *   FAILED                              failed      command-not-found (127), command-not-executable (126),
 *                                                   launch-failed (Slurm could not start the script:
 *                                                   missing workdir, bad node), else –
 *   CANCELLED  after our cancel         cancelled   cancelled
 *   CANCELLED  after our walltime stop  failed      walltime-exceeded
 *   CANCELLED  by anyone else           cancelled   cancelled-at-center    (scancel by an operator)
 *   TIMEOUT                             failed      walltime-exceeded
 *   NODE_FAIL, BOOT_FAIL                failed      node-failure          } the control plane requeues
 *   PREEMPTED                           failed      preempted             } these (infrastructure)
 *   OUT_OF_MEMORY                       failed      out-of-memory
 *   DEADLINE                            failed      deadline-exceeded
 *   SPECIAL_EXIT                        failed      special-exit
 *   requeued by Slurm itself            failed      node-failure, or preempted  (then cancelled in Slurm:
 *   (restart count > 0, not ended)                  the control plane requeues with a new attempt, so
 *                                                   the old one must not run a second time; v0.0.38
 *                                                   cannot submit with requeue off, JobRequeue=0 can)
 *   (job forgotten by slurmctld)        from the exit file the script leaves; without one: failed,
 *                                       process-vanished (requeued)
 *
 * Exit codes are Slurm's raw wait status decoded: `exit N` is N, death by signal S is 128 + S (as a
 * shell reports it); null when Slurm has none (BOOT_FAIL, a launch failure).
 */
const FINAL: Readonly<Record<string, (exitCode: number | null, stateReason: string, stop: StopReason | null) => Omit<SlurmOutcome, 'pending'>>> = {
  COMPLETED: (code) => (code === 0 || code === null ? { state: 'succeeded', exitCode: 0, reason: null } : { state: 'failed', exitCode: code, reason: exitReason(code) }),
  FAILED: (code, stateReason) =>
    stateReason === 'JobLaunchFailure' || stateReason === 'BadConstraints' || stateReason === 'SystemFailure'
      ? { state: 'failed', exitCode: null, reason: 'launch-failed' }
      : { state: 'failed', exitCode: code, reason: exitReason(code) },
  CANCELLED: (code, _reason, stop) => {
    if (stop === 'walltime-exceeded') return { state: 'failed', exitCode: code, reason: 'walltime-exceeded' };
    return { state: 'cancelled', exitCode: code, reason: stop === 'cancelled' ? 'cancelled' : 'cancelled-at-center' };
  },
  TIMEOUT: (code) => ({ state: 'failed', exitCode: code, reason: 'walltime-exceeded' }),
  NODE_FAIL: (code) => ({ state: 'failed', exitCode: code, reason: 'node-failure' }),
  BOOT_FAIL: () => ({ state: 'failed', exitCode: null, reason: 'node-failure' }),
  PREEMPTED: (code) => ({ state: 'failed', exitCode: code, reason: 'preempted' }),
  OUT_OF_MEMORY: (code) => ({ state: 'failed', exitCode: code, reason: 'out-of-memory' }),
  DEADLINE: () => ({ state: 'failed', exitCode: null, reason: 'deadline-exceeded' }),
  SPECIAL_EXIT: (code) => ({ state: 'failed', exitCode: code, reason: 'special-exit' }),
};

/** Maps a Slurm job state (and the stop marker, which tells our cancels from anyone else's) to ours. */
export function mapSlurmState(
  job: { readonly state: string; readonly stateReason: string; readonly exitStatus: number | null; readonly restartCount?: number },
  stop: StopReason | null,
): SlurmOutcome {
  const state = job.state.toUpperCase();
  const final = FINAL[state];
  if (final) return { ...final(decodeExitStatus(job.exitStatus), job.stateReason, stop), pending: false };
  if ((job.restartCount ?? 0) > 0 || state.startsWith('REQUEUE')) {
    const reason = /preempt/i.test(job.stateReason) ? 'preempted' : 'node-failure';
    return { state: 'failed', exitCode: null, reason, pending: false, requeuedBySlurm: true };
  }
  // Everything else is a job Slurm still holds: queued, starting, running, being killed, held.
  return { state: 'running', exitCode: null, reason: null, pending: state === 'PENDING' };
}

/** The outcome of a job slurmctld has forgotten, from the exit code its script wrote (null: none written). */
export function mapVanished(exitCode: number | null, stop: StopReason | null): SlurmOutcome {
  if (stop === 'cancelled') return { state: 'cancelled', exitCode, reason: 'cancelled', pending: false };
  if (stop === 'walltime-exceeded') return { state: 'failed', exitCode, reason: 'walltime-exceeded', pending: false };
  if (exitCode === null) return { state: 'failed', exitCode: null, reason: 'process-vanished', pending: false };
  if (exitCode === 0) return { state: 'succeeded', exitCode: 0, reason: null, pending: false };
  return { state: 'failed', exitCode, reason: exitReason(exitCode), pending: false };
}

/** A raw wait status as a shell reports it: `exit N` → N, killed by signal S → 128 + S; null for none. */
export function decodeExitStatus(status: number | null): number | null {
  if (status === null || !Number.isInteger(status) || status < 0) return null;
  const signal = status & 0x7f;
  if (signal !== 0) return 128 + signal;
  return (status >> 8) & 0xff;
}

export function exitReason(code: number | null): string | null {
  if (code === 127) return 'command-not-found';
  if (code === 126) return 'command-not-executable';
  return null;
}
