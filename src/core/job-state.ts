/**
 * The job state machine. A job is `submitted`, admitted to the global `queued` state, `placed` on a
 * center (a lease its agent will pick up), `running`, and ends `succeeded`, `failed` or `cancelled`.
 * A placed or running job whose center is lost is requeued (back to `queued`, next attempt).
 */
export const JOB_STATES = ['submitted', 'queued', 'placed', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled']);
/** States in which a job holds capacity at a center. */
export const ACTIVE_STATES: ReadonlySet<JobState> = new Set(['placed', 'running']);

const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  submitted: ['queued', 'failed', 'cancelled'],
  queued: ['placed', 'failed', 'cancelled'],
  placed: ['running', 'queued', 'succeeded', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled', 'queued'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

/** True when the machine allows `from → to`. (`placed → succeeded` covers a run too short to be seen running.) */
export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.has(state);
}

/** The states a job may be in just before `to`: what a guarded `UPDATE … WHERE state IN (…)` needs. */
export function statesBefore(to: JobState): JobState[] {
  return JOB_STATES.filter((from) => canTransition(from, to));
}
