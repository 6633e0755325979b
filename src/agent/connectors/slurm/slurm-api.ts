/*
 * The narrow view of slurmrestd the connector needs, in our own words. One adapter per OpenAPI version
 * of slurmrestd implements it (`adapter-v0038.ts` for Slurm 22.05's v0.0.38); `detect-version.ts` picks
 * the adapter for the versions a server offers. Field names and units are normalised here, so nothing
 * above the adapter knows a version's JSON.
 */

/** One node as Slurm reports it. */
export interface SlurmNode {
  readonly name: string;
  readonly cpus: number;
  readonly realMemoryMiB: number;
  /** Configured generic resources, e.g. `gpu:8`, `npu:8`, `gpu:a100:4(S:0-1),nic:2`; '' when none. */
  readonly gres: string;
  /** Generic resources in use, e.g. `gpu:2(IDX:0-1)`; '' when unknown. */
  readonly gresUsed: string;
  readonly features: readonly string[];
  readonly partitions: readonly string[];
  /** Base state in lower case: `idle`, `mixed`, `allocated`, `down`, `future`, … */
  readonly state: string;
  /** State flags in upper case: `DRAIN`, `NOT_RESPONDING`, `MAINTENANCE`, … */
  readonly flags: readonly string[];
  readonly allocCpus: number;
  readonly allocMemoryMiB: number;
}

export interface SlurmPartition {
  readonly name: string;
  /** `UP`, `DOWN`, `DRAIN`, `INACTIVE`. */
  readonly state: string;
  readonly isDefault: boolean;
}

/** One job as slurmctld knows it (it forgets finished jobs after MinJobAge). */
export interface SlurmJob {
  readonly id: number;
  readonly name: string;
  /** Upper case: `PENDING`, `RUNNING`, `COMPLETING`, `COMPLETED`, `FAILED`, `TIMEOUT`, … */
  readonly state: string;
  /** Slurm's reason for the state (`None`, `NonZeroExitCode`, `JobLaunchFailure`, `Resources`, …). */
  readonly stateReason: string;
  /** The batch script's raw wait status (`exit << 8`, or the signal number), null when there is none. */
  readonly exitStatus: number | null;
  /** Epoch seconds; null when not (yet) known. */
  readonly submitTime: number | null;
  readonly startTime: number | null;
  readonly endTime: number | null;
  /** Allocated nodes as a Slurm host list (`asc-n[1-2]`), '' before allocation. */
  readonly nodes: string;
  /** How often Slurm itself has requeued the job (node failure or preemption with requeue allowed). */
  readonly restartCount: number;
}

/** A batch job to submit; every size is per node. */
export interface SlurmJobSpec {
  readonly name: string;
  /** Shown to the center's operators (squeue -o %k): which platform job this is. */
  readonly comment: string;
  readonly script: string;
  readonly partition: string;
  readonly workdir: string;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly nodes: number;
  readonly cpusPerNode: number;
  readonly memoryMiBPerNode: number;
  /** `npu:1`, `gpu:a100:2`, or null for none. */
  readonly gresPerNode: string | null;
  /** Node features the job needs (`ascend-910b`), or null. */
  readonly constraint: string | null;
  /** Null leaves the partition's default. */
  readonly timeLimitMinutes: number | null;
  /** The Slurm (and OS) user the job is submitted and runs as; null: the connector's own user. */
  readonly user?: string | null;
}

export interface SlurmApi {
  /** The OpenAPI version this adapter speaks, e.g. `v0.0.38`. */
  readonly version: string;
  /** Resolves when slurmctld answers through slurmrestd; rejects with a SlurmApiError otherwise. */
  ping(): Promise<void>;
  listNodes(): Promise<SlurmNode[]>;
  listPartitions(): Promise<SlurmPartition[]>;
  /** Every job slurmctld still knows (all users). */
  listJobs(): Promise<SlurmJob[]>;
  /** The job, or null when slurmctld does not know that id (never existed, or purged after MinJobAge). */
  getJob(id: number): Promise<SlurmJob | null>;
  /** Submits a batch job and resolves to its Slurm job id. */
  submit(spec: SlurmJobSpec): Promise<number>;
  /** Cancels a job (harmless once it has ended); rejects with kind `not-found` for an unknown id. */
  cancel(id: number): Promise<void>;
}

/**
 * How a call failed, which decides what the connector does next:
 * - `unavailable`  slurmrestd or slurmctld did not answer (or answered "try later"): retry with backoff,
 *                  the center is degraded meanwhile;
 * - `unauthorized` the token was refused: degraded until an operator gives a new token;
 * - `rejected`     Slurm understood the request and said no (bad partition, impossible resources): final;
 * - `not-found`    no such job;
 * - `unsupported`  the server speaks no OpenAPI version we have an adapter for.
 */
export const SLURM_ERROR_KINDS = ['unavailable', 'unauthorized', 'rejected', 'not-found', 'unsupported'] as const;
export type SlurmErrorKind = (typeof SLURM_ERROR_KINDS)[number];

export class SlurmApiError extends Error {
  readonly kind: SlurmErrorKind;
  /** HTTP status, when there was a response. */
  readonly status: number | null;
  /** Slurm error numbers from the response body (`error_number` / `error_code`). */
  readonly codes: readonly number[];

  constructor(kind: SlurmErrorKind, message: string, options: { status?: number | null; codes?: readonly number[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SlurmApiError';
    this.kind = kind;
    this.status = options.status ?? null;
    this.codes = options.codes ?? [];
  }

  /** True when trying the same call again later may work. */
  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'unauthorized';
  }
}

export function isSlurmApiError(error: unknown, kind?: SlurmErrorKind): error is SlurmApiError {
  return error instanceof SlurmApiError && (kind === undefined || error.kind === kind);
}
