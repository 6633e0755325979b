/**
 * The agent protocol: what an agent (at a center, behind its firewall) and the control plane say to
 * each other. The agent always calls out; the control plane never calls an agent.
 *
 *   POST /v1/agent/register      RegisterRequest  → RegisterResponse   (start and every reconnect)
 *   POST /v1/agent/heartbeat     HeartbeatRequest → HeartbeatResponse  (every heartbeatIntervalMs)
 *   GET  /v1/agent/leases?waitMs=N&after=C        → LeasesResponse     (long poll, returns early on work;
 *                                                                      C: the previous answer's cursor)
 *   POST /v1/agent/jobs/{jobId}/state  StateReport → StateReportResponse
 *   POST /v1/agent/jobs/{jobId}/logs   LogReport   → { ok: true }
 *   POST /v1/agent/reports       ReportsRequest   → ReportsResponse   (many runs' logs and states in one call)
 *
 * Every call carries `Authorization: Bearer <center token>`; all but register also carry
 * `X-Agent-Session: <sessionId>`. A call with an expired session gets HTTP 409 with error code
 * `agent_session_expired`: the agent must register again (which reconciles its runs).
 * A job run is identified by (jobId, attempt): the control plane bumps the attempt each time it
 * requeues a job, so a report about an old attempt is recognised as stale and that run is killed.
 */

export interface AgentPool {
  readonly name: string;
  /** Accelerator table key (`nvidia-a100`), or null for CPU-only nodes. */
  readonly accelerator: string | null;
  readonly acceleratorsPerNode: number;
  readonly coresPerNode: number;
  readonly memoryMiBPerNode: number;
  readonly nodes: number;
}

export type RunState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What the agent knows of one run it started. */
export interface RunStatus {
  readonly jobId: string;
  readonly attempt: number;
  readonly state: RunState;
  readonly exitCode: number | null;
  /** Why it ended, when it did not end by itself (`walltime-exceeded`, `cancelled`, `process-vanished`…). */
  readonly reason: string | null;
  readonly startedAt: number;
  readonly finishedAt: number | null;
}

export interface RegisterRequest {
  readonly connector: string;
  readonly agentVersion: string;
  readonly pools: readonly AgentPool[];
  /** Program names on the center's PATH (the scheduler sends a job only where its program exists). */
  readonly commands: readonly string[] | null;
  readonly runs: readonly RunStatus[];
}

export interface RunRef {
  readonly jobId: string;
  readonly attempt: number;
}

export interface RegisterResponse {
  readonly sessionId: string;
  readonly centerId: string;
  readonly centerName: string;
  readonly heartbeatIntervalMs: number;
  /** Miss heartbeats for this long and the center is declared lost and its jobs requeued. */
  readonly deadlineMs: number;
  /** Runs the agent must stop: stale attempts, cancelled or finished jobs. */
  readonly kill: readonly RunRef[];
}

export interface HeartbeatRequest {
  readonly runs: readonly RunStatus[];
  /** The local scheduler's health, when the connector can tell: degraded means no new work, please. */
  readonly health?: { readonly degraded: boolean; readonly reason?: string | null; readonly since?: number | null } | undefined;
}

export interface HeartbeatResponse {
  readonly kill: readonly RunRef[];
}

/**
 * Whose job a lease is: the agent keeps orgs apart by it (a per-org OS user at the local connector,
 * a per-org Slurm user at the Slurm connector). `orgId` is the stable key; `orgName` is for people.
 */
export interface LeaseTenant {
  readonly orgId: string;
  readonly orgName: string;
}

/** Everything a center needs to run one attempt of a job. */
export interface Lease {
  readonly jobId: string;
  readonly attempt: number;
  readonly name: string;
  /** The org that submitted the job. */
  readonly tenant: LeaseTenant;
  readonly poolName: string;
  /** argv: the program and its arguments, run without a shell. */
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Working directory; null means a fresh folder the agent makes for this run. */
  readonly workdir: string | null;
  /** Small files (relative path → text) to write into the working directory before the run starts. */
  readonly files: Readonly<Record<string, string>>;
  readonly nodes: number;
  readonly acceleratorsPerNode: number;
  readonly coresPerNode: number;
  readonly memoryMiBPerNode: number;
  readonly walltimeSeconds: number;
  /**
   * Datasets the job reads (docs/data.md): the agent stages each version into its center before the
   * run starts and fills in `path` (its read-only files there); the connector shows it to the job
   * as `inputs/<name>` in the workdir. Absent from older servers.
   */
  readonly inputs?: readonly LeaseInput[];
  /**
   * Datasets the job's files become when it succeeds (docs/data.md, "Outputs"): before the agent
   * reports the run succeeded it stores each `dir` (relative to the workdir, never leaving it) at
   * this center and seals it as a new version (`POST /v1/agent/jobs/{jobId}/outputs`, then
   * `…/outputs/{transferId}/seal`). A missing dir fails the run, naming it. Absent from older servers.
   */
  readonly outputs?: readonly LeaseOutput[];
}

export interface LeaseOutput {
  readonly dataset: string;
  readonly dir: string;
}

/** An agent opens one output of a succeeded run: the version its files become. */
export interface OutputOpenRequest {
  readonly attempt: number;
  readonly dataset: string;
  readonly manifest: TransferTask['manifest'];
}

export interface OutputOpenResponse {
  /** The transfer of kind `output` that tracks it; `done` when this manifest was sealed already (a retry). */
  readonly transferId: string;
  readonly versionId: string;
  readonly version: number;
  readonly state: 'running' | 'done';
}

export interface LeaseInput {
  readonly datasetId: string;
  readonly name: string;
  readonly versionId: string;
  /** Set by the agent once the version is staged: where its files are at this center. */
  readonly path?: string;
}

/** The data plane's agent calls (docs/data.md); all carry the center token, none a session. */
export interface DataPortRegistration {
  readonly url: string;
  readonly key: string;
}

/** A transfer into the agent's center: a version to make complete here, from these sources. */
export interface TransferTask {
  readonly id: string;
  readonly kind: 'upload' | 'replicate' | 'stage-in' | 'output';
  readonly versionId: string;
  readonly manifest: { readonly chunkBytes: number; readonly files: readonly { readonly path: string; readonly bytes: number; readonly chunks: readonly string[] }[] };
  readonly sources: readonly { readonly center: string; readonly url: string; readonly grant: string }[];
  /** For a stage-in: whose job reads it (the agent lays its files out for that org when it lands). */
  readonly tenant?: LeaseTenant;
}

export interface TransferReport {
  readonly state: 'running' | 'done' | 'failed';
  readonly bytesMoved: number;
  readonly error: string | null;
}

export interface LeasesResponse {
  readonly leases: readonly Lease[];
  readonly kill: readonly RunRef[];
  /** Pass as `after` to the next poll to get only leases placed since (absent from older servers). */
  readonly cursor?: string;
}

export interface StateReport {
  readonly attempt: number;
  readonly state: RunState;
  readonly exitCode: number | null;
  readonly reason: string | null;
  readonly at: number;
}

export interface StateReportResponse {
  /** `kill` when the control plane no longer wants this run (cancelled, or a stale attempt). */
  readonly action: 'ok' | 'kill';
}

export type LogStream = 'stdout' | 'stderr';

export interface LogChunk {
  readonly stream: LogStream;
  /** Byte offset of `data` in that stream's output: makes re-sending a chunk harmless. */
  readonly offset: number;
  readonly data: string;
}

export interface LogReport {
  readonly attempt: number;
  readonly chunks: readonly LogChunk[];
}

/**
 * Many runs' output and state changes in one call (the agent's status pass sends one). The server
 * applies every log report first, then the states in order, so a run's last output lands before it
 * is marked ended, and `running` before its end when both come in one call.
 */
export interface ReportsRequest {
  readonly logs: readonly (LogReport & { readonly jobId: string })[];
  readonly states: readonly (StateReport & { readonly jobId: string })[];
}

export interface ReportsResponse {
  /** One answer per entry of `states`, in its order. */
  readonly states: readonly (StateReportResponse & { readonly jobId: string; readonly attempt: number })[];
  /** Log reports refused with a 4xx (output cap, long-ended job, a gap): ship no more of those runs' output. */
  readonly refusedLogs?: readonly { readonly jobId: string; readonly attempt: number; readonly code: string }[];
}
