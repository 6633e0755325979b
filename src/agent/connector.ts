import type { AgentPool, Lease, LeaseTenant, LogStream, RunRef, RunStatus } from '../core/agent-protocol.js';

/**
 * What an agent needs from the local scheduler it drives. Every connector (`local`, `slurm`, later
 * `kubernetes`) implements this and passes the same `connectorContract()` suite.
 *
 * Runs are keyed by (jobId, attempt). A connector keeps what it needs to find its runs again in its
 * state folder, so that a restarted agent re-attaches to runs that outlived it.
 */
export interface Connector {
  readonly kind: string;
  /** The pools this center offers and the programs on its PATH (null when it cannot tell). */
  describe(): Promise<{ pools: AgentPool[]; commands: string[] | null }>;
  /** Starts a run and resolves once it is started (or rejects with a reason it could not be). */
  start(lease: Lease): Promise<void>;
  /** Stops a run: the whole process group / the Slurm job. Resolves when it is asked to stop; harmless if already ended. */
  cancel(run: RunRef): Promise<void>;
  /** The status of every run this connector knows that has not been forgotten. */
  runs(): Promise<RunStatus[]>;
  /** Output of a run from byte `offset` on, at most `maxBytes`; `data` is '' when there is nothing new. */
  readOutput(run: RunRef, stream: LogStream, offset: number, maxBytes: number): Promise<{ data: string; nextOffset: number }>;
  /** Drops a finished run's bookkeeping once the control plane has its final state and output. */
  forget(run: RunRef): Promise<void>;
  /** Releases timers and handles (runs keep going). */
  close(): Promise<void>;
  /**
   * Whether the local scheduler answers (a connector that can lose it, like Slurm's, says so); the
   * agent sends it with every heartbeat and the control plane stops placing work on a degraded center.
   */
  health?(): ConnectorHealth;
  /**
   * The OS user an org's jobs run as, to own that org's read-only dataset files (docs/data.md), or
   * null when jobs run as the agent's own user. Absent: null.
   */
  dataOwner?(tenant: LeaseTenant): Promise<{ readonly name: string; readonly uid: number; readonly gid: number } | null>;
  /**
   * The lease a run was started with, its working directory and the OS user it ran as (null: the
   * agent's), while the run is known (not forgotten); null for an unknown run. The agent reads a
   * succeeded run's outputs from there (docs/data.md, "Outputs"). Absent: outputs cannot be registered.
   */
  runInfo?(run: RunRef): Promise<RunInfo | null>;
}

export interface RunInfo {
  readonly lease: Lease;
  readonly workdir: string;
  readonly user: { readonly name: string; readonly uid: number; readonly gid: number } | null;
}

export interface ConnectorHealth {
  readonly degraded: boolean;
  readonly reason?: string | undefined;
  /** Epoch ms the current outage began. */
  readonly since?: number | undefined;
}
