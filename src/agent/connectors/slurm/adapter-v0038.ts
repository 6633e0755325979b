import type { SlurmApi, SlurmJob, SlurmJobSpec, SlurmNode, SlurmPartition } from './slurm-api.js';
import { SlurmApiError, isSlurmApiError } from './slurm-api.js';
import type { SlurmHttp } from './slurm-http.js';

/*
 * slurmrestd OpenAPI v0.0.38 (Slurm 22.05, what Debian 12 ships), as it really answers (checked against
 * 22.05.8), where that differs from what one would guess from the spec:
 *
 * - Every failure is HTTP 500 with an `errors` list, whether the job id is unknown (error_number 2017),
 *   slurmctld is down (error_number -1 "Unspecified error", after MessageTimeout) or the token is bad
 *   (the same -1 on reads, 5005 "Zero Bytes were transmitted or received" on submit). Entries carry
 *   `error_number` or `error_code` depending on the endpoint. SlurmHttp sorts these out.
 * - `exit_code` is the raw wait status: 768 is exit 3, 15 is "killed by SIGTERM".
 * - `"requeue": false` in a submission is stored as requeue=1, so the field is never sent: the job
 *   then follows the cluster's JobRequeue (set it to 0 on a center; the control plane does the
 *   requeueing, with a new attempt, and a Slurm-side requeue would run an attempt twice).
 * - A job being killed reports `job_state` COMPLETING (not its final state) until its processes are gone.
 * - `environment` is an object (from v0.0.39 on it is a list of `NAME=value`), and must not be empty.
 * - `nodes` in a submission is `[min, max]`; the GRES request is `gres` (stored as tres_per_node
 *   `gres:npu:1`); there is no `tres_per_node` field to send.
 * - Partitions list their nodes as a host list expression (`asc-c1,asc-n[1-2]`); nodes list their
 *   partitions as an array, which is what the connector uses.
 * - DELETE of a job that has already ended answers 200; of an unknown id, 500 with error_number 2017.
 * - A submission can answer a job id together with an `errors` entry (a held job: 2042); the job exists.
 * - `"requeue": false` cannot be fixed afterwards either (an update with it sets requeue=1 too).
 */
const BASE = '/slurm/v0.0.38';

/** The SlurmApi of slurmrestd's OpenAPI v0.0.38. */
export class SlurmApiV0038 implements SlurmApi {
  readonly version = 'v0.0.38';
  readonly #http: SlurmHttp;

  constructor(http: SlurmHttp) {
    this.#http = http;
  }

  async ping(): Promise<void> {
    const body = await this.#http.call('GET', `${BASE}/ping`, 'ping');
    const pings = arrayOf(body.pings);
    if (!pings.some((p) => str(p.ping) === 'UP')) {
      throw new SlurmApiError('unavailable', `ping: slurmctld is not up (${JSON.stringify(body.pings ?? null)})`);
    }
  }

  async listNodes(): Promise<SlurmNode[]> {
    const body = await this.#http.call('GET', `${BASE}/nodes`, 'list nodes');
    return arrayOf(body.nodes).map(toNode);
  }

  async listPartitions(): Promise<SlurmPartition[]> {
    const body = await this.#http.call('GET', `${BASE}/partitions`, 'list partitions');
    return arrayOf(body.partitions).map((p) => ({
      name: str(p.name),
      state: str(p.state).toUpperCase(),
      isDefault: Array.isArray(p.flags) && p.flags.some((f) => String(f).toLowerCase() === 'default'),
    }));
  }

  async listJobs(): Promise<SlurmJob[]> {
    const body = await this.#http.call('GET', `${BASE}/jobs`, 'list jobs');
    return arrayOf(body.jobs).map(toJob);
  }

  async getJob(id: number): Promise<SlurmJob | null> {
    try {
      const body = await this.#http.call('GET', `${BASE}/job/${id}`, `get job ${id}`);
      const job = arrayOf(body.jobs).map(toJob).find((j) => j.id === id);
      return job ?? null;
    } catch (error) {
      if (isSlurmApiError(error, 'not-found')) return null;
      throw error;
    }
  }

  async submit(spec: SlurmJobSpec): Promise<number> {
    const job: Record<string, unknown> = {
      name: spec.name,
      comment: spec.comment,
      partition: spec.partition,
      current_working_directory: spec.workdir,
      standard_output: spec.stdoutPath,
      standard_error: spec.stderrPath,
      environment: { ...spec.environment },
      nodes: [spec.nodes, spec.nodes],
      // One task per node, holding all the lease's cores there: `srun` in the job then starts one
      // process per node, which is what a gang job expects.
      tasks: spec.nodes,
      tasks_per_node: 1,
      cpus_per_task: Math.max(1, spec.cpusPerNode),
    };
    if (spec.memoryMiBPerNode > 0) job.memory_per_node = spec.memoryMiBPerNode;
    if (spec.gresPerNode !== null) job.gres = spec.gresPerNode;
    if (spec.constraint !== null) job.constraints = spec.constraint;
    if (spec.timeLimitMinutes !== null) job.time_limit = spec.timeLimitMinutes;
    const what = `submit ${spec.name}`;
    // As the org's user: slurmrestd (auth/jwt, 22.05) lets SlurmUser's token act for any user, and the
    // job then belongs to and runs as that user.
    const answer = await this.#http.raw('POST', `${BASE}/job/submit`, what, { script: spec.script, job }, spec.user ?? undefined);
    const id = answer.json?.job_id;
    // A job id means Slurm has the job, even when `errors` holds a warning (a held job gets 2042).
    if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return id;
    const json = this.#http.check(what, answer); // throws the classified error, if there is one
    // Submitted or not, we cannot tell: the caller looks the job up by its name.
    throw new SlurmApiError('unavailable', `${what}: slurmrestd answered without a job id (${JSON.stringify(json).slice(0, 200)})`);
  }

  async cancel(id: number): Promise<void> {
    await this.#http.call('DELETE', `${BASE}/job/${id}`, `cancel job ${id}`);
  }
}

type Json = Record<string, unknown>;

function toNode(n: Json): SlurmNode {
  return {
    name: str(n.name),
    cpus: num(n.cpus) ?? 0,
    realMemoryMiB: num(n.real_memory) ?? 0,
    gres: str(n.gres),
    gresUsed: str(n.gres_used),
    // `active_features` are the ones in force (a node can be rebooted into others); fall back to `features`.
    features: splitList(str(n.active_features) || str(n.features)),
    partitions: Array.isArray(n.partitions) ? n.partitions.map(String) : splitList(str(n.partitions)),
    state: str(n.state).toLowerCase(),
    flags: Array.isArray(n.state_flags) ? n.state_flags.map((f) => String(f).toUpperCase()) : [],
    allocCpus: num(n.alloc_cpus) ?? 0,
    allocMemoryMiB: num(n.alloc_memory) ?? 0,
  };
}

function toJob(j: Json): SlurmJob {
  return {
    id: num(j.job_id) ?? 0,
    name: str(j.name),
    state: str(j.job_state).toUpperCase(),
    stateReason: str(j.state_reason),
    exitStatus: num(j.exit_code),
    submitTime: positive(num(j.submit_time)),
    startTime: positive(num(j.start_time)),
    endTime: positive(num(j.end_time)),
    nodes: str(j.nodes),
    restartCount: num(j.restart_cnt) ?? 0,
  };
}

function arrayOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((v): v is Json => typeof v === 'object' && v !== null) : [];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value == null ? '' : String(value);
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function positive(value: number | null): number | null {
  return value !== null && value > 0 ? value : null;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== '(null)');
}

