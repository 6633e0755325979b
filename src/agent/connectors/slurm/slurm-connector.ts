import { chmod, mkdir, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentPool, Lease, LogStream, RunRef, RunStatus } from '../../../core/agent-protocol.js';
import type { Connector, RunInfo } from '../../connector.js';
import { batchScript, jobNameOf, timeLimitMinutes } from './batch-script.js';
import { detectSlurmApi } from './detect-version.js';
import type { MappedPools, PoolCapacity, SlurmPool } from './map-pools.js';
import { DEFAULT_ACCELERATOR_GRES, mapPools, poolCapacity } from './map-pools.js';
import { mapSlurmState, mapVanished } from './map-state.js';
import type { LastKnown, RunRecord } from './run-files.js';
import { readLast, readRecord, writeLast, writeRecord } from './run-files.js';
import type { SlurmApi, SlurmJob, SlurmJobSpec } from './slurm-api.js';
import { isSlurmApiError } from './slurm-api.js';
import { SlurmHttp } from './slurm-http.js';
import { ensureUserFolder, OrgUsers, prepareUserWorkdir, runAsUser, userEnvironment, type OrgUser } from '../org-users.js';
import {
  exists,
  isCode,
  readExit,
  readStop,
  readTextChunk,
  prepareWorkdir,
  removeRunDir,
  runEnvironment,
  writeAtomic,
  writeStop,
  type Marker,
  type StopReason,
} from '../../run-io.js';

/*
 * The `slurm` connector: drives one Slurm cluster through slurmrestd, for an agent running beside it
 * (on a login node, typically).
 *
 * - Pools come from the cluster's nodes and partitions (map-pools.ts); a lease is submitted as a batch
 *   job to its pool's partition, with the GRES and node feature of its accelerator (batch-script.ts).
 * - The run folder (`<stateDir>/runs/<jobId>.<attempt>/`, see run-files.ts) holds the job's stdout and
 *   stderr, written by Slurm on the compute node: the state folder must be on a file system the compute
 *   nodes share with the agent's host (as home and project folders are on any cluster). readOutput()
 *   reads those files.
 * - The mapping run → Slurm job id is written ahead: `intent` (with the job's unique name
 *   `sw-<jobId>.<attempt>`) before the submission, then the id. An agent that died in between finds the
 *   job again by its name; nothing is ever submitted without a record on disk.
 * - Slurm is asked at most every pollIntervalMs (runs() triggers it); while slurmrestd or slurmctld do
 *   not answer, runs() keeps returning the last states seen (last.json), health() reports `degraded`
 *   with the reason, and the poll is retried with a backoff doubling up to maxBackoffMs.
 * - Walltime: Slurm's time limit is the walltime in whole minutes, rounded up; the connector stops a run
 *   itself once its walltime (to the second) is over, and reports it `walltime-exceeded` either way.
 * - A job still PENDING in Slurm's queue is reported `running` (see map-state.ts).
 */

export interface SlurmConnectorOptions {
  /** slurmrestd's base URL, e.g. `http://127.0.0.1:6820`. */
  readonly url: string;
  /**
   * The user the connector talks to slurmrestd as (X-SLURM-USER-NAME); jobs are submitted and run as
   * it only with isolation `none`.
   */
  readonly user: string;
  /** A JWT for that user (`scontrol token username=… lifespan=…`); SlurmUser's (or root's) for isolation `users`. */
  readonly token: string;
  /**
   * `users` (the default): each org's jobs are submitted as, and run as, its own OS user (created on
   * this host by the agent, which needs root; the compute nodes must know the same users), through
   * slurmrestd's impersonation, which needs a token of SlurmUser or root. `none`: every job runs as
   * `user`, so jobs of different orgs can read each other's files: only for a single-tenant cluster.
   */
  readonly isolation?: 'users' | 'none';
  /** The agent's state folder; must be shared with the compute nodes (see above). */
  readonly stateDir: string;
  /** Partitions to offer, in this order; all of the cluster's when absent. */
  readonly partitions?: readonly string[];
  /** How often runs() asks Slurm at most. Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /**
   * How long runs() waits for an answer from Slurm before it returns the states last seen (the poll
   * goes on in the background): a hanging slurmrestd must not hold up the agent's heartbeats. Default 2 s.
   */
  readonly pollWaitMs?: number;
  /** Per HTTP request. Default 15 s. */
  readonly requestTimeoutMs?: number;
  /** Longest wait between retries while Slurm does not answer. Default 5 s. */
  readonly maxBackoffMs?: number;
  /** How long start() keeps trying to submit through an outage before it gives up. Default 10 s. */
  readonly startTimeoutMs?: number;
  /** Extra time a run gets past its walltime before the connector stops it (Slurm's limit still applies). Default 0. */
  readonly walltimeGraceMs?: number;
  /** GRES names counted as accelerators. Default gpu, npu, mlu, dcu, xpu, gcu. */
  readonly acceleratorGres?: readonly string[];
  /** For tests: a stand-in for the global fetch. */
  readonly fetch?: typeof fetch;
}

/** What health() says: whether the connector can talk to Slurm now, and if not, why and since when. */
export interface SlurmHealth {
  readonly degraded: boolean;
  readonly reason?: string;
  /** Epoch ms of the first failure of the current outage. */
  readonly since?: number;
  /** Runs Slurm holds in its queue, not started yet (reported `running`). */
  readonly pendingRuns: number;
  /** The slurmrestd OpenAPI version in use, once detected. */
  readonly apiVersion?: string;
  /** Nodes and partitions not offered, and why. */
  readonly notes: readonly string[];
}

/** Env variables passed through from the agent; everything else a run sees comes from its lease (and Slurm's SLURM_*). */
/** jobIds become folder and job names: no separators, no leading dot. */
const SAFE_JOB_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
const JOB_NAME_PREFIX = 'sw-';
/** An intent younger than this may still be on its way into Slurm (a submission in flight when the agent died). */
const INTENT_GRACE_MS = 30_000;
/** A stop that Slurm has not carried out yet is asked for again this often. */
const RECANCEL_MS = 2000;
const BACKOFF_START_MS = 250;
const STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

interface PoolsFile {
  readonly pools: SlurmPool[];
  readonly skipped: string[];
  readonly at: number;
}

/** A connector for one Slurm cluster, through slurmrestd (any OpenAPI version detect-version.ts has an adapter for). */
export class SlurmConnector implements Connector {
  readonly kind = 'slurm';
  readonly #stateDir: string;
  readonly #runsDir: string;
  readonly #http: SlurmHttp;
  readonly #partitions: readonly string[] | undefined;
  readonly #acceleratorGres: readonly string[];
  readonly #pollIntervalMs: number;
  readonly #pollWaitMs: number;
  readonly #maxBackoffMs: number;
  readonly #startTimeoutMs: number;
  readonly #walltimeGraceMs: number;
  readonly #tokenExpiresAt: number | null;
  readonly #isolation: 'users' | 'none';
  readonly #users: OrgUsers;
  readonly #abort = new AbortController();
  #closed = false;
  #api: Promise<SlurmApi> | null = null;
  #apiVersion: string | undefined;
  #pools: MappedPools | null = null;
  #degraded: { reason: string; since: number } | null = null;
  #pendingRuns = 0;
  #polling: Promise<void> | null = null;
  #nextPollAt = 0;
  #backoffMs = 0;
  /** Runs being started: their record may still be an intent. */
  readonly #starting = new Set<string>();
  readonly #last = new Map<string, LastKnown>();
  readonly #lastCancel = new Map<string, number>();

  constructor(options: SlurmConnectorOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new RangeError(`url '${options.url}' is not a URL: give slurmrestd's address, e.g. http://127.0.0.1:6820`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`url '${options.url}' must be http:// or https://`);
    if (!options.user) throw new RangeError('user is empty: give the Slurm user jobs run as (the token is issued for it)');
    if (!options.token) throw new RangeError('token is empty: give a JWT from `scontrol token username=<user> lifespan=<seconds>`');
    if (!options.stateDir) throw new RangeError('stateDir is empty: give a folder shared with the compute nodes');
    this.#stateDir = options.stateDir;
    this.#runsDir = join(options.stateDir, 'runs');
    this.#http = new SlurmHttp({
      url: options.url,
      user: options.user,
      token: options.token,
      timeoutMs: options.requestTimeoutMs ?? 15_000,
      signal: this.#abort.signal,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#partitions = options.partitions ? [...options.partitions] : undefined;
    this.#acceleratorGres = options.acceleratorGres ?? DEFAULT_ACCELERATOR_GRES;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#pollWaitMs = options.pollWaitMs ?? 2000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.#walltimeGraceMs = options.walltimeGraceMs ?? 0;
    this.#tokenExpiresAt = tokenExpiry(options.token);
    this.#isolation = options.isolation ?? 'users';
    if (this.#isolation !== 'users' && this.#isolation !== 'none') throw new RangeError(`isolation must be users or none, got '${String(this.#isolation)}'`);
    if (this.#isolation === 'users' && process.getuid?.() !== 0) {
      throw new Error(`isolation 'users' runs each org's jobs as its own OS user, which this agent creates and needs root for; it runs as uid ${process.getuid?.() ?? '?'}: run it as root, or set isolation 'none' for a single-tenant cluster`);
    }
    this.#users = new OrgUsers(options.stateDir);
  }

  /**
   * The cluster's pools (one per partition and accelerator model). While Slurm does not answer, the
   * pools last seen (kept in the state folder) and a degraded health; rejects only when there are none.
   * `commands` is null: what the compute nodes have on their PATH cannot be told from here.
   */
  async describe(): Promise<{ pools: AgentPool[]; commands: string[] | null }> {
    const mapped = await this.#currentPools();
    return { pools: mapped.pools.map((p) => ({ ...p.pool })), commands: null };
  }

  /**
   * Submits the lease as a batch job; resolves once Slurm has it (it may still be queued there).
   * Rejects, leaving nothing behind, when Slurm refuses the job or the pool/workdir is wrong; rejects
   * with a message starting `center-unavailable:` when Slurm did not answer for startTimeoutMs.
   */
  async start(lease: Lease): Promise<void> {
    checkRef(lease);
    const key = runKey(lease);
    if (this.#starting.has(key)) throw new Error(`run ${key} is already being started`);
    this.#starting.add(key);
    const dir = this.#runDir(lease);
    let created = false;
    let record: RunRecord | null = null;
    try {
      await mkdir(this.#runsDir, { recursive: true, mode: 0o700 });
      await chmod(this.#runsDir, 0o700);
      if (this.#isolation === 'users') await chmod(this.#stateDir, 0o711); // jobs reach work/ and out/ below by name
      if (await readRecord(dir)) throw new Error(`run ${key} was already started`);
      batchScript(lease, join(dir, 'exit')); // validates the command before anything is made
      const target = await this.#target(lease.poolName);
      if (lease.acceleratorsPerNode > 0 && target.gres === null) {
        throw new Error(`lease ${key} asks for ${lease.acceleratorsPerNode} accelerator(s) per node but pool ${lease.poolName} has none`);
      }
      // A folder without run.json is what a start that failed half-way leaves behind.
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { mode: 0o700 });
      created = true;

      const where = "here (the agent's host, which must share it with the compute nodes)";
      const user = this.#isolation === 'users' ? await this.#users.ensure(lease.tenant) : null;
      const workdir = user ? await prepareUserWorkdir(lease, user, this.#stateDir, where) : await prepareWorkdir(lease, this.#stateDir, where);
      const outDir = user ? await this.#userOutDir(key, user) : dir;
      const script = batchScript(lease, join(outDir, 'exit'));
      await writeFile(join(dir, 'job.sh'), script, { mode: 0o700 });
      const environment = user ? userEnvironment(runEnvironment(lease), lease, user, workdir) : runEnvironment(lease);
      const spec: SlurmJobSpec = {
        name: jobNameOf(lease),
        comment: `suanwang job ${lease.jobId} attempt ${lease.attempt} (${lease.name})`.slice(0, 200),
        script,
        partition: target.partition,
        workdir,
        stdoutPath: join(outDir, 'stdout'),
        stderrPath: join(outDir, 'stderr'),
        environment,
        nodes: Math.max(1, lease.nodes),
        cpusPerNode: Math.max(1, lease.coresPerNode),
        memoryMiBPerNode: Math.max(0, lease.memoryMiBPerNode),
        gresPerNode: lease.acceleratorsPerNode > 0 && target.gres !== null ? `${target.gres}:${lease.acceleratorsPerNode}` : null,
        constraint: lease.acceleratorsPerNode > 0 ? target.feature : null,
        timeLimitMinutes: timeLimitMinutes(lease.walltimeSeconds),
        user: user?.name ?? null,
      };

      // Write-ahead: the intent (with the job's unique name) is on disk before Slurm hears of the job.
      record = { lease, jobName: spec.name, workdir, phase: 'intent', slurmJobId: null, intentAt: Date.now(), submittedAt: null, user, outDir };
      await writeRecord(dir, record);
      const id = await this.#submit(spec);
      record = { ...record, phase: 'submitted', slurmJobId: id, submittedAt: Date.now() };
      await writeRecord(dir, record);
      this.#nextPollAt = 0;
      // A cancel that came while the job was being submitted (if this fails, the next poll sends it).
      if (await readStop(dir).catch(() => null)) await this.#sendCancel(key, id).catch(() => undefined);
    } catch (error) {
      if (record?.phase === 'intent') {
        if (isSlurmApiError(error) && error.retryable) {
          // Slurm may have the job after all: keep the intent so a later poll finds it by name and cancels it.
          await writeRecord(dir, { ...record, phase: 'abandoned' }).catch(() => undefined);
          throw new Error(`center-unavailable: could not submit ${key} to Slurm within ${this.#startTimeoutMs} ms: ${error.message}`, { cause: error });
        }
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      } else if (record === null && created) {
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }
      if (isSlurmApiError(error) && error.retryable) {
        throw new Error(`center-unavailable: ${error.message}`, { cause: error });
      }
      throw error;
    } finally {
      this.#starting.delete(key);
    }
  }

  /** The run's lease, workdir (on the shared file system) and user, from its record; null for an unknown run. */
  async runInfo(run: RunRef): Promise<RunInfo | null> {
    checkRef(run);
    const record = await readRecord(this.#runDir(run));
    return record ? { lease: record.lease, workdir: record.workdir, user: record.user ?? null } : null;
  }

  /**
   * Stops a run: marks it stopped, then cancels the Slurm job (DELETE, which kills all its processes on
   * every node). Resolves once that is asked; when Slurm does not answer, the next polls ask again.
   * A no-op for unknown runs and runs known to have ended.
   */
  async cancel(run: RunRef): Promise<void> {
    checkRef(run);
    const key = runKey(run);
    const dir = this.#runDir(run);
    const record = await readRecord(dir);
    if (!record || record.phase === 'abandoned') return;
    const last = await this.#lastOf(dir, key);
    if (last && last.status.state !== 'running') return;
    await writeStop(dir, 'cancelled');
    this.#nextPollAt = 0;
    if (record.phase !== 'submitted' || record.slurmJobId === null) return; // start() or the next poll cancels it
    // The control plane repeats a kill until the run has ended, which in Slurm takes seconds (KillWait,
    // COMPLETING): one cancel per RECANCEL_MS is enough, and the polls ask again while it runs.
    if (Date.now() - (this.#lastCancel.get(key) ?? Number.NEGATIVE_INFINITY) < RECANCEL_MS) return;
    try {
      await this.#sendCancel(key, record.slurmJobId);
    } catch (error) {
      if (!isSlurmApiError(error) || !error.retryable) throw error;
      this.#degrade(error);
    }
  }

  /**
   * Every run Slurm has (or had) for us, as last seen; asks Slurm first when pollIntervalMs has passed
   * (waiting at most pollWaitMs for the answer). Never rejects for an outage.
   */
  async runs(): Promise<RunStatus[]> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#maybePoll(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#pollWaitMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    const statuses: RunStatus[] = [];
    for (const name of await this.#runNames()) {
      const dir = join(this.#runsDir, name);
      const record = await readRecord(dir);
      if (!record || record.phase !== 'submitted') continue;
      const key = runKey(record.lease);
      const last = await this.#lastOf(dir, key);
      statuses.push(last?.status ?? runningSince(record));
    }
    return statuses;
  }

  /**
   * Up to `maxBytes` of a stream from byte `offset`, cut back to a whole UTF-8 character. Reads the
   * files Slurm writes in the run folder (shared with the compute nodes). Rejects for an unknown run.
   */
  async readOutput(run: RunRef, stream: LogStream, offset: number, maxBytes: number): Promise<{ data: string; nextOffset: number }> {
    checkRef(run);
    if (!STREAMS.includes(stream)) throw new RangeError(`unknown stream '${String(stream)}'`);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be a whole number >= 0, got ${offset}`);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a whole number >= 1, got ${maxBytes}`);
    const dir = this.#runDir(run);
    const record = await readRecord(dir);
    const chunk = await readTextChunk(join(record?.outDir ?? dir, stream), offset, maxBytes);
    if (chunk) return chunk;
    if (!record) throw new Error(`unknown run ${runKey(run)}`);
    return { data: '', nextOffset: offset }; // not started yet: Slurm makes the file when the job starts
  }

  /** Deletes a finished run's folder (not its workdir, not the Slurm job record). Rejects while it runs. */
  async forget(run: RunRef): Promise<void> {
    checkRef(run);
    const key = runKey(run);
    if (this.#starting.has(key)) throw new Error(`run ${key} is being started`);
    const dir = this.#runDir(run);
    const record = await readRecord(dir);
    if (!record) return;
    const last = await this.#lastOf(dir, key);
    if (record.phase === 'submitted' && (!last || last.status.state === 'running')) {
      throw new Error(`run ${key} is still running: cancel it and wait for it to end before forgetting it`);
    }
    await this.#remove(dir, key);
  }

  /** Aborts requests in flight; Slurm jobs keep going and a later instance over the same stateDir finds them. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort(new Error('connector closed'));
    await this.#polling?.catch(() => undefined);
  }

  /**
   * Whether Slurm can be reached now. Degraded while slurmrestd or slurmctld do not answer (runs() then
   * reports the last states seen), or when the token has expired. Not part of the Connector interface:
   * the agent reads it where the connector is a SlurmConnector.
   */
  health(): SlurmHealth {
    const notes = this.#pools?.skipped ?? [];
    const base = { pendingRuns: this.#pendingRuns, notes, ...(this.#apiVersion ? { apiVersion: this.#apiVersion } : {}) };
    if (this.#tokenExpiresAt !== null && Date.now() >= this.#tokenExpiresAt) {
      return { ...base, degraded: true, reason: `the Slurm token expired at ${new Date(this.#tokenExpiresAt).toISOString()}: issue a new one (scontrol token)`, since: this.#tokenExpiresAt };
    }
    if (this.#degraded) return { ...base, degraded: true, reason: this.#degraded.reason, since: this.#degraded.since };
    return { ...base, degraded: false };
  }

  /** Free capacity of each pool now (idle nodes, free cores, accelerators, memory). Rejects when Slurm does not answer. */
  async capacity(): Promise<PoolCapacity[]> {
    const api = await this.#getApi();
    const nodes = await api.listNodes();
    const mapped = this.#pools ?? (await this.#loadPools());
    return poolCapacity(mapped.pools, nodes, this.#acceleratorGres);
  }

  // ---- Slurm -----------------------------------------------------------------------------------

  #getApi(): Promise<SlurmApi> {
    if (this.#api) return this.#api;
    const detecting = detectSlurmApi(this.#http).then((api) => {
      this.#apiVersion = api.version;
      return api;
    });
    this.#api = detecting;
    detecting.catch(() => {
      if (this.#api === detecting) this.#api = null; // detect again next time
    });
    return detecting;
  }

  async #loadPools(): Promise<MappedPools> {
    const api = await this.#getApi();
    const [nodes, partitions] = await Promise.all([api.listNodes(), api.listPartitions()]);
    const mapped = mapPools(nodes, partitions, { ...(this.#partitions ? { partitions: this.#partitions } : {}), acceleratorGres: this.#acceleratorGres });
    this.#pools = mapped;
    const file: PoolsFile = { pools: mapped.pools, skipped: mapped.skipped, at: Date.now() };
    await mkdir(this.#stateDir, { recursive: true });
    writeAtomic(join(this.#stateDir, 'pools.json'), JSON.stringify(file, null, 2));
    return mapped;
  }

  /** Pools from Slurm, or (when it does not answer) the ones last seen, with the outage recorded. */
  async #currentPools(): Promise<MappedPools> {
    try {
      const mapped = await this.#loadPools();
      this.#recovered();
      return mapped;
    } catch (error) {
      if (!isSlurmApiError(error) || !error.retryable) throw error;
      this.#degrade(error);
      const cached = this.#pools ?? (await this.#readPoolsFile());
      if (cached) {
        this.#pools = cached;
        return cached;
      }
      throw error;
    }
  }

  async #target(poolName: string): Promise<SlurmPool['target']> {
    let found = this.#pools?.pools.find((p) => p.pool.name === poolName);
    if (!found) found = (await this.#currentPools()).pools.find((p) => p.pool.name === poolName);
    if (!found) {
      const offered = this.#pools?.pools.map((p) => p.pool.name).join(', ') || 'none';
      throw new Error(`pool '${poolName}' is not offered by the Slurm cluster at ${this.#http.url} (it offers: ${offered})`);
    }
    return found.target;
  }

  async #readPoolsFile(): Promise<MappedPools | null> {
    try {
      const file = JSON.parse(await readFile(join(this.#stateDir, 'pools.json'), 'utf8')) as PoolsFile;
      return { pools: file.pools, skipped: file.skipped };
    } catch {
      return null;
    }
  }

  /**
   * Submits, retrying through an outage for up to startTimeoutMs. Before each retry it looks for the
   * job by its name: a submission whose answer was lost must not become two jobs.
   */
  async #submit(spec: SlurmJobSpec): Promise<number> {
    const deadline = Date.now() + this.#startTimeoutMs;
    let delay = BACKOFF_START_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const api = await this.#getApi();
        if (attempt > 0) {
          const existing = newestByName(await api.listJobs()).get(spec.name);
          if (existing) return existing.id;
        }
        const id = await api.submit(spec);
        this.#recovered();
        return id;
      } catch (error) {
        if (!isSlurmApiError(error) || !error.retryable || this.#closed) throw error;
        this.#degrade(error);
        if (Date.now() + delay > deadline) throw error;
        await sleep(delay);
        delay = Math.min(delay * 2, this.#maxBackoffMs);
      }
    }
  }

  async #sendCancel(key: string, slurmJobId: number): Promise<void> {
    this.#lastCancel.set(key, Date.now());
    const api = await this.#getApi();
    try {
      await api.cancel(slurmJobId);
    } catch (error) {
      if (isSlurmApiError(error, 'not-found')) return; // already gone from Slurm
      throw error;
    }
  }

  // ---- polling ---------------------------------------------------------------------------------

  /** Polls Slurm when one is due; never rejects (an outage is recorded in health()). */
  #maybePoll(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#polling) return this.#polling;
    if (Date.now() < this.#nextPollAt) return Promise.resolve();
    const polling = this.#poll().then(
      () => {
        this.#recovered();
        this.#backoffMs = 0;
        this.#nextPollAt = Date.now() + this.#pollIntervalMs;
      },
      (error: unknown) => {
        if (this.#closed) return;
        this.#degrade(error);
        this.#backoffMs = Math.min(Math.max(this.#backoffMs * 2, BACKOFF_START_MS * 2), this.#maxBackoffMs);
        this.#nextPollAt = Date.now() + this.#backoffMs;
      },
    );
    this.#polling = polling.finally(() => {
      this.#polling = null;
    });
    return this.#polling;
  }

  async #poll(): Promise<void> {
    const api = await this.#getApi();
    const jobs = await api.listJobs();
    const byId = new Map(jobs.map((j) => [j.id, j]));
    const byName = newestByName(jobs);
    let pending = 0;
    for (const name of await this.#runNames()) {
      const dir = join(this.#runsDir, name);
      const record = await readRecord(dir);
      if (!record) continue;
      const key = runKey(record.lease);
      if (record.phase === 'submitted') {
        const listed = record.slurmJobId === null ? undefined : byId.get(record.slurmJobId);
        const last = await this.#observe(api, dir, key, record, listed);
        if (last?.slurmState === 'PENDING') pending++;
      } else if (!this.#starting.has(key)) {
        await this.#settleIntent(api, dir, key, record, byName.get(record.jobName));
      }
    }
    this.#pendingRuns = pending;
  }

  /** Updates what is known of one submitted run; a run seen ended stays as it ended. */
  async #observe(api: SlurmApi, dir: string, key: string, record: RunRecord, listed: SlurmJob | undefined): Promise<LastKnown | null> {
    const previous = await this.#lastOf(dir, key);
    if (previous && previous.status.state !== 'running') return previous;
    let job = listed?.name === record.jobName ? listed : undefined;
    if (!job && record.slurmJobId !== null) {
      // Not in the list: ask for it alone before believing slurmctld has forgotten it.
      const alone = await api.getJob(record.slurmJobId);
      job = alone?.name === record.jobName ? alone : undefined;
    }
    const now = Date.now();
    const stop = await readStop(dir);
    const { jobId, attempt } = record.lease;
    let status: RunStatus;
    let slurmState: string | null;
    if (job) {
      const outcome = mapSlurmState(job, stop?.value ?? null);
      // Slurm's times are whole seconds, cut down: a job that starts within the second it was submitted
      // would seem to start before its submission, and end before the start reported while it was
      // pending (the submission time). So a start is never put before the submission.
      const submittedAt = record.submittedAt ?? record.intentAt;
      const startedAt = !outcome.pending && job.startTime !== null ? Math.max(job.startTime * 1000, submittedAt) : submittedAt;
      const finishedAt = outcome.state === 'running' ? null : Math.max(startedAt, job.endTime !== null ? job.endTime * 1000 : now);
      status = { jobId, attempt, state: outcome.state, exitCode: outcome.exitCode, reason: outcome.reason, startedAt, finishedAt };
      slurmState = job.state;
      if (outcome.state === 'running') await this.#enforce(dir, key, record, job, stop, now);
      if (outcome.requeuedBySlurm) await this.#sendCancel(key, job.id).catch(() => undefined);
    } else {
      // slurmctld has forgotten the job (MinJobAge passed while nobody looked): the exit file tells how it ended.
      const exit = await readExit(record.outDir ?? dir);
      const exitFirst = exit !== null && (stop === null || exit.at <= stop.at);
      const outcome = mapVanished(exit?.value ?? null, exitFirst ? null : (stop?.value ?? null));
      const startedAt = previous?.status.startedAt ?? record.submittedAt ?? record.intentAt;
      status = { jobId, attempt, state: outcome.state, exitCode: outcome.exitCode, reason: outcome.reason, startedAt, finishedAt: Math.max(startedAt, exit?.at ?? now) };
      slurmState = null;
    }
    const last: LastKnown = { status, slurmState, seenAt: now };
    if (!previous || JSON.stringify(previous.status) !== JSON.stringify(status) || previous.slurmState !== slurmState) {
      await writeLast(dir, last);
    }
    this.#last.set(key, last);
    return last;
  }

  /** Stops a run over its walltime, and asks again for a stop Slurm has not carried out yet. */
  async #enforce(dir: string, key: string, record: RunRecord, job: SlurmJob, stop: Marker<StopReason> | null, now: number): Promise<void> {
    if (stop) {
      if (now - (this.#lastCancel.get(key) ?? 0) >= RECANCEL_MS) await this.#sendCancel(key, job.id).catch(() => undefined);
      return;
    }
    const walltime = record.lease.walltimeSeconds;
    if (job.state !== 'RUNNING' || job.startTime === null || !Number.isFinite(walltime) || walltime <= 0) return;
    // Slurm's start time is whole seconds: the extra second makes sure no run is stopped early.
    const deadline = job.startTime * 1000 + 1000 + walltime * 1000 + this.#walltimeGraceMs;
    if (now < deadline) return;
    await writeStop(dir, 'walltime-exceeded');
    await this.#sendCancel(key, job.id).catch(() => undefined); // asked again by the next polls if this one was lost
    this.#nextPollAt = 0;
  }

  /**
   * An intent left by an agent that died while submitting (or by a start() that gave up in an outage):
   * found by its job name, it is adopted (intent) or cancelled (abandoned); not found after the grace
   * period, it never reached Slurm and is dropped, unless its files show it ran.
   */
  async #settleIntent(api: SlurmApi, dir: string, key: string, record: RunRecord, found: SlurmJob | undefined): Promise<void> {
    const old = Date.now() - record.intentAt >= INTENT_GRACE_MS;
    if (record.phase === 'intent') {
      if (found) {
        await writeRecord(dir, { ...record, phase: 'submitted', slurmJobId: found.id, submittedAt: found.submitTime !== null ? found.submitTime * 1000 : record.intentAt });
        return;
      }
      if (!old) return;
      const outDir = record.outDir ?? dir;
      if ((await exists(join(outDir, 'exit'))) || (await exists(join(outDir, 'stdout')))) {
        await writeRecord(dir, { ...record, phase: 'submitted', slurmJobId: null, submittedAt: record.intentAt });
        return;
      }
      await this.#remove(dir, key);
      return;
    }
    if (found) {
      try {
        await api.cancel(found.id);
      } catch (error) {
        if (!isSlurmApiError(error, 'not-found')) throw error;
      }
      await this.#remove(dir, key);
      return;
    }
    if (old) await this.#remove(dir, key);
  }

  // ---- bookkeeping -----------------------------------------------------------------------------

  #runDir(run: RunRef): string {
    return join(this.#runsDir, runKey(run));
  }

  async #runNames(): Promise<string[]> {
    try {
      return (await readdir(this.#runsDir)).filter((n) => !n.startsWith('.')).sort(); // `.forget-…`: being deleted
    } catch (error) {
      if (isCode(error, 'ENOENT')) return [];
      throw error;
    }
  }

  async #lastOf(dir: string, key: string): Promise<LastKnown | null> {
    const cached = this.#last.get(key);
    if (cached) return cached;
    const last = await readLast(dir);
    if (last) this.#last.set(key, last);
    return last;
  }

  async #remove(dir: string, key: string): Promise<void> {
    this.#last.delete(key);
    this.#lastCancel.delete(key);
    const record = await readRecord(dir);
    if (record?.user && record.outDir && record.outDir !== dir) await removeUserFolder(record.outDir, record.user);
    await removeRunDir(this.#runsDir, dir, key);
  }

  /** A fresh `out/<key>` of the org's user, for the files the job writes (what a crashed start left is emptied). */
  async #userOutDir(key: string, user: OrgUser): Promise<string> {
    const { dir: outDir, created } = await ensureUserFolder(join(this.#stateDir, 'out'), key, user);
    if (created) return outDir;
    const emptied = await runAsUser(user, 'rm -rf -- "$1"/* "$1"/.[!.]*', [outDir]);
    if (emptied.code !== 0) throw new Error(`could not empty ${outDir} as ${user.name}: ${emptied.stderr.trim()}`);
    return outDir;
  }

  #degrade(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.#degraded = { reason, since: this.#degraded?.since ?? Date.now() };
  }

  #recovered(): void {
    this.#degraded = null;
  }
}

function runKey(run: RunRef): string {
  return `${run.jobId}.${run.attempt}`;
}

/**
 * Deletes a folder of an org's user: its content as that user (a link planted inside cannot make the
 * agent delete anything else), then the folder itself, which only the agent may remove from `out/`.
 */
async function removeUserFolder(dir: string, user: OrgUser): Promise<void> {
  await runAsUser(user, 'rm -rf -- "$1"/* "$1"/.[!.]*', [dir]);
  await rmdir(dir).catch(() => undefined);
}

function checkRef(run: RunRef): void {
  if (typeof run.jobId !== 'string' || !SAFE_JOB_ID.test(run.jobId)) {
    throw new RangeError(`jobId '${String(run.jobId)}' is not usable as a folder or job name (letters, digits, '_', '-', '.')`);
  }
  if (!Number.isSafeInteger(run.attempt) || run.attempt < 0) {
    throw new RangeError(`attempt must be a whole number >= 0, got ${String(run.attempt)}`);
  }
}

/** What a submitted run is reported as before Slurm has been asked about it. */
function runningSince(record: RunRecord): RunStatus {
  const { jobId, attempt } = record.lease;
  return { jobId, attempt, state: 'running', exitCode: null, reason: null, startedAt: record.submittedAt ?? record.intentAt, finishedAt: null };
}

/** Our jobs by name; when a name occurs twice (a resubmission), the newest id. */
function newestByName(jobs: readonly SlurmJob[]): Map<string, SlurmJob> {
  const byName = new Map<string, SlurmJob>();
  for (const job of jobs) {
    if (!job.name.startsWith(JOB_NAME_PREFIX)) continue;
    const seen = byName.get(job.name);
    if (!seen || job.id > seen.id) byName.set(job.name, job);
  }
  return byName;
}

/** The `exp` claim of a JWT, in epoch ms; null when the token is not a JWT or has none. */
function tokenExpiry(token: string): number | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
