import { createHash } from 'node:crypto';
import { acceleratorByKey } from '../core/accelerators.js';
import { SuanwangError } from '../core/errors.js';
import { MAX_ARRAY_ELEMENTS, parseArraySpec } from '../core/job-array.js';
import { isTerminal } from '../core/job-state.js';
import { checkJobOutputs, type JobOutput } from '../data/index.js';
import type { Objective } from '../scheduler/types.js';
import { checkFeasible, schedule } from '../scheduler/index.js';
import { DEFAULT_POLICY, type Explanation } from '../scheduler/types.js';
import { listCenters, listPools } from '../store/centers.js';
import type { CenterRow, JobRow } from '../store/schema.js';
import {
  findIdempotentJob,
  getJob,
  insertIdempotencyKey,
  insertJob,
  insertJobs,
  jobsOfBatch,
  listJobEvents,
  listJobs,
  listPlacements,
  lockJob,
  transitionJob,
  updateJob,
} from '../store/jobs.js';
import { readLogChunks } from '../store/job-logs.js';
import { listDatasets, listLinks } from '../store/datasets.js';
import { inTransaction } from '../store/transaction.js';
import type { Principal } from './accounts.js';
import type { EngineContext } from './context.js';
import { centerViews, datasetViews, loadSnapshot, pendingJob, queuedRow } from './snapshot.js';
import { visibleDatasets } from './datasets.js';
import { admitSubmission, settleJobs, settingsOf } from './billing/index.js';

/** A job as submitted: the API validates the shape; this module checks it against the network. */
export interface JobSpec {
  readonly name?: string | undefined;
  /** The org's project it counts against (budgets, usage); none: the org only. */
  readonly project?: string | undefined;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workdir?: string | undefined;
  readonly nodes: number;
  readonly acceleratorsPerNode: number;
  readonly coresPerNode: number;
  readonly memoryMiBPerNode: number;
  readonly walltimeSeconds: number;
  /** Accelerator models the job may run on; empty means any (when it asks for accelerators). */
  readonly accelerators: readonly string[];
  readonly objective: Objective | { readonly weights: ObjectiveWeights };
  readonly priority: number;
  /** How many times it may be started in all when its center fails under it (not when it fails by itself). */
  readonly maxAttempts: number;
  /** Expected run time on `referenceAccelerator` (or on CPU cores); the scheduler scales it per chip. */
  readonly runtimeSeconds?: number | undefined;
  readonly referenceAccelerator?: string | undefined;
  readonly forbidAccelerators: readonly string[];
  /** Data residency: the regions it may run in (empty: anywhere). */
  readonly regions: readonly string[];
  /** ISO time it must finish by. */
  readonly deadline?: string | undefined;
  readonly budgetFen?: number | undefined;
  /** Datasets (ids or names of the caller's org) to stage in. */
  readonly inputs: readonly string[];
  /**
   * Datasets its files become when it succeeds (docs/data.md, "Outputs"): `dir` relative to its
   * workdir, `outputs/<dataset>` when absent. A missing dataset of the org is made, an existing one
   * gets a new version.
   */
  readonly outputs?: readonly { readonly dataset: string; readonly dir?: string | undefined }[] | undefined;
  /** Set by a store launch: the app version, its checked parameters, one command per family, its files and adaptation. */
  readonly app?: {
    readonly versionId: string;
    readonly params: Readonly<Record<string, unknown>>;
    readonly variants: Readonly<Record<string, { readonly command: readonly string[]; readonly env: Readonly<Record<string, string>> }>>;
    readonly files: Readonly<Record<string, string>>;
    readonly adaptation: Readonly<Record<string, number>> | null;
    readonly speedMetric: 'fp16' | 'fp32';
  } | undefined;
}

export interface ObjectiveWeights {
  readonly cost: number;
  readonly time: number;
  readonly carbon: number;
}

type User = Extract<Principal, { kind: 'user' }>;

/** A spec of a batch may carry a job array (`"1-1000"`, `"0-99:2"`): one job per index. */
export type BatchJobSpec = JobSpec & { readonly array?: string | undefined };

/** The most jobs one batch may create, counting every array element. */
export const MAX_BATCH_JOBS = MAX_ARRAY_ELEMENTS;

/**
 * Accepts a job: checks that some center could ever run it (else 422 with every center's reason),
 * records it `submitted` and wakes the control loop. With an idempotency key, a retried request
 * returns the first job (`created: false`); the same key with another body is a 409.
 */
export async function submitJob(
  ctx: EngineContext,
  user: User,
  spec: JobSpec,
  idempotencyKey?: string,
): Promise<{ job: JobRow; created: boolean }> {
  const requestHash = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
  if (idempotencyKey) {
    const earlier = await findIdempotentJob(ctx.store.db, user.orgId, idempotencyKey);
    if (earlier) return { job: await sameRequest(ctx, earlier, requestHash, idempotencyKey), created: false };
  }
  const now = ctx.now();
  const id = ctx.newId('job');
  const row = await newJobRow(ctx, user, spec, id, now);
  await assertRunnableSomewhere(ctx, asRow(row));
  const bills = await admitSubmission(ctx, user.orgId, () => [asRow(row)]); // billing: 402/422 before anything is written
  if (bills) row.max_bill_fen = bills[0]!;
  try {
    await inTransaction(ctx.store.db, async (trx) => {
      await insertJob(trx, row, `submitted by ${user.name}`);
      if (idempotencyKey) await insertIdempotencyKey(trx, { orgId: user.orgId, key: idempotencyKey, requestHash, jobId: id, at: now });
    });
  } catch (error) {
    // Two requests with one key raced: the loser answers with the winner's job.
    const earlier = idempotencyKey ? await findIdempotentJob(ctx.store.db, user.orgId, idempotencyKey) : undefined;
    if (earlier) return { job: await sameRequest(ctx, earlier, requestHash, idempotencyKey!), created: false };
    throw error;
  }
  ctx.signals.wake('tick');
  // The row as written (no read back): nothing else can have changed it yet that the caller needs.
  return { job: asRow(row), created: true };
}

/**
 * Accepts a batch of jobs, all or nothing: every spec is checked (names, array, feasibility) before
 * anything is written, and an error names `jobs[i].field`. Array specs expand to one job per index,
 * with SUANWANG_ARRAY_INDEX and SUANWANG_ARRAY_ID (the first element's id) in their environment. The
 * jobs are written with multi-row statements in one transaction. With an idempotency key, a retry
 * answers with the same jobs (`created: false`).
 */
export async function submitBatch(
  ctx: EngineContext,
  user: User,
  specs: readonly BatchJobSpec[],
  idempotencyKey?: string,
): Promise<{ jobs: JobRow[]; created: boolean }> {
  const requestHash = createHash('sha256').update(JSON.stringify({ batch: specs })).digest('hex');
  if (idempotencyKey) {
    const earlier = await findIdempotentJob(ctx.store.db, user.orgId, idempotencyKey);
    if (earlier) return { jobs: await sameBatch(ctx, earlier, requestHash, idempotencyKey), created: false };
  }
  const expanded = specs.map((spec, i) => ({ spec, indices: arrayIndices(spec, i) }));
  const total = expanded.reduce((n, e) => n + (e.indices?.length ?? 1), 0);
  if (total > MAX_BATCH_JOBS) {
    throw new SuanwangError('invalid_field', `this batch would create ${total} jobs, more than ${MAX_BATCH_JOBS}`, {
      field: 'jobs',
      hint: `split it into batches of at most ${MAX_BATCH_JOBS} jobs (array elements count one each)`,
    });
  }
  const now = ctx.now();
  // Ids sorted so that id order (the queue's age order, and list order) is the batch's order.
  const ids = Array.from({ length: total }, () => ctx.newId('job')).sort();
  const rows: NewRow[] = [];
  for (const [i, { spec, indices }] of expanded.entries()) {
    const base = await inField(`jobs[${i}]`, () => newJobRow(ctx, user, spec, '', now));
    await inField(`jobs[${i}]`, () => assertRunnableSomewhere(ctx, asRow(base)));
    if (!indices) {
      rows.push({ ...base, id: ids[rows.length]! });
      continue;
    }
    const arrayId = ids[rows.length]!;
    for (const index of indices) {
      const env = { ...spec.env, SUANWANG_ARRAY_ID: arrayId, SUANWANG_ARRAY_INDEX: String(index) };
      rows.push({ ...base, id: ids[rows.length]!, name: `${base.name}[${index}]`.slice(0, 128), env: JSON.stringify(env), array_id: arrayId, array_index: index });
    }
  }
  const batchId = ids[0]!;
  for (const row of rows) row.batch_id = batchId;
  const bills = await admitSubmission(ctx, user.orgId, () => rows.map((r) => asRow(r))); // billing: the whole batch's maximum bill
  if (bills) rows.forEach((r, i) => (r.max_bill_fen = bills[i]!));

  try {
    await inTransaction(ctx.store.db, async (trx) => {
      await insertJobs(trx, rows, `submitted by ${user.name}`);
      if (idempotencyKey) await insertIdempotencyKey(trx, { orgId: user.orgId, key: idempotencyKey, requestHash, jobId: batchId, at: now, batch: true });
    });
  } catch (error) {
    const earlier = idempotencyKey ? await findIdempotentJob(ctx.store.db, user.orgId, idempotencyKey) : undefined;
    if (earlier) return { jobs: await sameBatch(ctx, earlier, requestHash, idempotencyKey!), created: false };
    throw error;
  }
  ctx.signals.wake('tick');
  return { jobs: rows.map((r) => asRow(r)), created: true };
}

type NewRow = Awaited<ReturnType<typeof newJobRow>>;

/** The indices of a spec's array, or undefined for a plain job; a bad array is a 400 naming `jobs[i].array`. */
function arrayIndices(spec: BatchJobSpec, i: number): readonly number[] | undefined {
  if (spec.array === undefined) return undefined;
  const parsed = parseArraySpec(spec.array);
  if ('error' in parsed) {
    throw new SuanwangError('invalid_field', `jobs[${i}].array "${spec.array.slice(0, 40)}" ${parsed.error}`, {
      field: `jobs[${i}].array`,
      hint: 'give indices as sbatch --array does: "1-1000", "0-99:2" or "1,3,5-7"',
    });
  }
  return parsed.indices;
}

/** Runs `fn`; an error it throws that names a field gets `prefix.` in front (or `prefix` when none). */
async function inField<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof SuanwangError)) throw error;
    const field = error.field ? `${prefix}.${error.field}` : prefix;
    throw new SuanwangError(error.code, `${prefix}: ${error.message}`, { field, ...(error.hint ? { hint: error.hint } : {}) });
  }
}

async function sameBatch(ctx: EngineContext, earlier: { job_id: string; request_hash: string; batch: boolean }, requestHash: string, key: string): Promise<JobRow[]> {
  if (!earlier.batch || earlier.request_hash !== requestHash) {
    throw new SuanwangError('idempotency_key_reused', `Idempotency-Key "${key}" was used for a different request (${earlier.job_id})`, {
      field: 'Idempotency-Key',
      hint: 'use a new key for a new batch; reuse a key only to retry the very same request',
    });
  }
  return jobsOfBatch(ctx.store.db, earlier.job_id);
}

async function sameRequest(
  ctx: EngineContext,
  earlier: { job_id: string; request_hash: string },
  requestHash: string,
  key: string,
): Promise<JobRow> {
  if (earlier.request_hash !== requestHash) {
    throw new SuanwangError('idempotency_key_reused', `Idempotency-Key "${key}" was used for a different job (${earlier.job_id})`, {
      field: 'Idempotency-Key',
      hint: 'use a new key for a new job; reuse a key only to retry the very same request',
    });
  }
  return (await getJob(ctx.store.db, earlier.job_id))!;
}

/** A job row from a checked spec (names resolved), not yet written. */
async function newJobRow(ctx: EngineContext, user: User, spec: JobSpec, id: string, now: Date) {
  const checked = await checkReferences(ctx, user, spec, now);
  return {
    id,
    org_id: user.orgId,
    user_id: user.userId,
    name: spec.name ?? defaultName(spec.command),
    state: 'submitted' as const,
    command: JSON.stringify(spec.command),
    env: JSON.stringify(spec.env),
    workdir: spec.workdir ?? null,
    nodes: spec.nodes,
    accelerators_per_node: spec.acceleratorsPerNode,
    cores_per_node: spec.coresPerNode,
    memory_mib_per_node: spec.memoryMiBPerNode,
    walltime_seconds: spec.walltimeSeconds,
    allowed_accelerators: JSON.stringify(spec.accelerators),
    objective: typeof spec.objective === 'string' ? spec.objective : 'weights',
    objective_weights: JSON.stringify(typeof spec.objective === 'string' ? null : spec.objective.weights),
    runtime_seconds: spec.runtimeSeconds ?? null,
    reference_accelerator: spec.referenceAccelerator ?? null,
    forbidden_accelerators: JSON.stringify(spec.forbidAccelerators),
    allowed_regions: JSON.stringify(spec.regions),
    deadline: checked.deadline,
    budget_fen: spec.budgetFen ?? null,
    inputs: JSON.stringify(checked.inputs),
    outputs: JSON.stringify(checked.outputs),
    app_version_id: spec.app?.versionId ?? null,
    speed_metric: spec.app?.speedMetric ?? 'fp16',
    app_params: JSON.stringify(spec.app?.params ?? null),
    command_variants: JSON.stringify(spec.app?.variants ?? null),
    files: JSON.stringify(spec.app?.files ?? {}),
    adaptation: JSON.stringify(spec.app?.adaptation ?? null),
    priority: spec.priority,
    max_attempts: spec.maxAttempts,
    node_indices: JSON.stringify(null),
    waiting_explanation: JSON.stringify(null),
    array_id: null as string | null,
    array_index: null as number | null,
    batch_id: null as string | null,
    max_bill_fen: null as number | null,
    project: spec.project ?? null,
    submitted_at: now,
    updated_at: now,
  };
}

/**
 * What the scheduler would do with this job now, without submitting it: the current snapshot plus
 * the job, one scheduling pass in memory, and the job's explanation (options, costs, reasons).
 */
export async function quoteJob(ctx: EngineContext, user: User, spec: JobSpec): Promise<Explanation> {
  const now = ctx.now();
  const id = ctx.newId('job');
  const row = asRow(await newJobRow(ctx, user, spec, id, now));
  await assertRunnableSomewhere(ctx, row);
  const [{ snapshot }, inputs, centers] = await Promise.all([
    loadSnapshot(ctx.store.db, now.getTime()),
    listDatasets(ctx.store.db, row.inputs),
    listCenters(ctx.store.db),
  ]);
  // The snapshot holds the datasets of queued jobs only: add this job's own inputs.
  const known = new Set(snapshot.datasets.map((d) => d.id));
  const datasets = [...snapshot.datasets, ...datasetViews(inputs.filter((d) => !known.has(d.id)), centers)];
  const result = schedule({ ...snapshot, datasets, jobs: [...snapshot.jobs, pendingJob(queuedRow(row))] }, DEFAULT_POLICY);
  const placed = result.placements.find((p) => p.jobId === id);
  return placed ? placed.explanation : result.waiting.find((w) => w.jobId === id)!.explanation;
}

/** The row as it will read back (jsonb columns parsed), for checks made before it is written. */
function asRow(row: Record<string, unknown>): JobRow {
  const parsed: Record<string, unknown> = { ...row, attempt: 0, center_id: null, pool_id: null, exit_code: null, reason: null, cancel_requested_at: null, placed_at: null, started_at: null, finished_at: null };
  for (const key of ['command', 'env', 'allowed_accelerators', 'node_indices', 'waiting_explanation', 'objective_weights', 'forbidden_accelerators', 'allowed_regions', 'inputs', 'outputs', 'app_params', 'command_variants', 'files', 'adaptation']) {
    parsed[key] = JSON.parse(row[key] as string);
  }
  return parsed as unknown as JobRow;
}

/** Checks the names a job refers to (accelerator models, datasets, the deadline, its outputs) and resolves them. */
async function checkReferences(ctx: EngineContext, user: User, spec: JobSpec, now: Date): Promise<{ inputs: string[]; outputs: JobOutput[]; deadline: Date | null }> {
  const models: [string, readonly string[]][] = [
    ['accelerators', spec.accelerators],
    ['forbidAccelerators', spec.forbidAccelerators],
    ['referenceAccelerator', spec.referenceAccelerator ? [spec.referenceAccelerator] : []],
  ];
  for (const [field, keys] of models) {
    keys.forEach((key, i) => {
      if (!acceleratorByKey(key)) {
        throw new SuanwangError('invalid_field', `unknown accelerator model "${key}"`, {
          field: field === 'referenceAccelerator' ? field : `${field}[${i}]`,
          hint: 'use a key from GET /v1/accelerators, such as nvidia-a100 or ascend-910b',
        });
      }
    });
  }
  let deadline: Date | null = null;
  if (spec.deadline) {
    deadline = new Date(spec.deadline);
    if (deadline.getTime() <= now.getTime()) {
      throw new SuanwangError('invalid_field', `deadline ${spec.deadline} has already passed`, { field: 'deadline', hint: 'give a time in the future' });
    }
  }
  const datasets = spec.inputs.length > 0 ? await visibleDatasets(ctx, user) : [];
  const inputs = spec.inputs.map((ref, i) => {
    const d = datasets.find((x) => x.id === ref || x.name === ref);
    if (!d) throw new SuanwangError('invalid_field', `no dataset "${ref}" in your org`, { field: `inputs[${i}]`, hint: '`suanwang datasets` lists them' });
    return d.id;
  });
  // An output names a dataset of the caller's org by name: made when the job's files are sealed if
  // it does not exist yet, so only the name and the dir are checked here.
  const outputs = checkJobOutputs(spec.outputs ?? []);
  return { inputs, outputs, deadline };
}

function defaultName(command: readonly string[]): string {
  const program = (command[0] ?? 'job').split('/').pop() ?? 'job';
  // A name is shown in terminals: control characters (ESC…) from the program's path become '?'.
  return program.slice(0, 64).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** The network as a submission checks it against: centers, their pools as empty views, links. */
interface NetworkView {
  readonly at: number;
  readonly centers: CenterRow[];
  readonly views: ReturnType<typeof centerViews>;
  readonly links: Awaited<ReturnType<typeof listLinks>>;
}

/** How long a cached network view answers submissions before it is read again. */
const NETWORK_VIEW_TTL_MS = 2_000;
const networkViews = new WeakMap<EngineContext, Promise<NetworkView>>();

/**
 * The network view of this control plane, read at most every NETWORK_VIEW_TTL_MS (or when `fresh`):
 * a stream of submissions costs no whole-network reads. A stale view can only wrongly *accept* a job
 * (the scheduler then explains why it waits); a rejection is always re-checked on a fresh view.
 */
async function networkView(ctx: EngineContext, fresh: boolean): Promise<NetworkView> {
  const cached = networkViews.get(ctx);
  if (cached && !fresh) {
    const view = await cached.catch(() => undefined);
    if (view && ctx.clock.now() - view.at < NETWORK_VIEW_TTL_MS) return view;
  }
  const loading = (async () => {
    const at = ctx.clock.now();
    const [centers, pools, links] = await Promise.all([listCenters(ctx.store.db), listPools(ctx.store.db), listLinks(ctx.store.db)]);
    return { at, centers, views: centerViews(centers, pools, []), links };
  })();
  networkViews.set(ctx, loading);
  return loading;
}

/** Drops the cached network view (a center joined, changed its pools or left), so the next submission reads it again. */
export function invalidateNetworkView(ctx: EngineContext): void {
  networkViews.delete(ctx);
}

/** Rejects a job that no center could run even when empty, naming each center's reason. */
async function assertRunnableSomewhere(ctx: EngineContext, job: JobRow): Promise<void> {
  const datasets = job.inputs.length > 0 ? await listDatasets(ctx.store.db, job.inputs) : [];
  const pending = pendingJob(queuedRow(job));
  const cached = await networkView(ctx, false);
  const quick = checkFeasible(pending, cached.views, { now: ctx.clock.now(), links: cached.links, datasets: datasetViews(datasets, cached.centers) });
  if (quick.feasible) return;
  const { centers, views, links } = await networkView(ctx, true);
  if (centers.length === 0) {
    throw new SuanwangError('unsatisfiable', 'no compute center has joined this network yet', {
      hint: 'start one with `suanwang up` (embedded) or connect an agent',
    });
  }
  const check = checkFeasible(pending, views, { now: ctx.clock.now(), links, datasets: datasetViews(datasets, centers) });
  if (check.feasible) return;
  if (check.infeasible.length > 0 && check.infeasible.every((r) => r.reason === 'command-not-found')) {
    throw new SuanwangError('command_not_found', `program "${pending.program}" is not installed at any center`, {
      field: 'command[0]',
      hint: `check the spelling, install "${pending.program}" at a center, or give a path to it (absolute, or relative to the job's folder like ./run.sh); centers searched: ${centers.map((c) => c.name).join(', ')}`,
    });
  }
  const reasons = [...new Set(check.infeasible.map((r) => `${r.centerName}${r.poolName ? '/' + r.poolName : ''}: ${r.detail}`))];
  throw new SuanwangError('unsatisfiable', `no center can ever run this job as asked: ${reasons.slice(0, 6).join('; ')}`, {
    hint: unsatisfiableHint(new Set(check.infeasible.map((r) => r.reason)), pending.program),
  });
}

/** What to change, for the causes that kept every pool from the job (most specific first). */
function unsatisfiableHint(reasons: ReadonlySet<string>, program: string): string {
  const hints: string[] = [];
  if (reasons.has('command-not-found')) hints.push(`install "${program}" at a center, or give a path to it (absolute, or relative to the job's folder like ./run.sh)`);
  if (reasons.has('exceeds-walltime')) hints.push('raise --time (walltime) above the expected run time, or lower --runtime');
  if (reasons.has('misses-deadline')) hints.push('move --deadline later or ask for faster chips');
  if (reasons.has('over-budget')) hints.push('raise --budget or choose --objective cheapest');
  if (reasons.has('residency-forbids')) hints.push('allow more --region values (`suanwang centers` lists the regions)');
  if (reasons.has('data-unreachable')) hints.push('add a replica of the input where it can be read (`suanwang datasets`)');
  if (reasons.has('no-adapted-accelerator') || reasons.has('forbidden-accelerator')) {
    hints.push('allow other accelerator models');
  }
  if (reasons.has('node-too-small') || reasons.has('gang-does-not-fit')) hints.push('ask for fewer resources per node or fewer nodes');
  if (hints.length === 0) hints.push('`suanwang centers` lists what exists');
  return hints.join('; ');
}

/** A job of the caller's org (admins see every org), or `job_not_found` (also for other orgs' jobs). */
export async function getVisibleJob(ctx: EngineContext, user: User, jobId: string): Promise<JobRow> {
  const job = await getJob(ctx.store.db, jobId);
  if (!job || (job.org_id !== user.orgId && user.role !== 'admin')) {
    throw new SuanwangError('job_not_found', `no job ${jobId} in your org`, {
      field: 'id',
      hint: '`suanwang jobs` lists your jobs',
    });
  }
  return job;
}

/** A job with its placements (explanations) and event history. */
export async function jobDetail(ctx: EngineContext, user: User, jobId: string) {
  const job = await getVisibleJob(ctx, user, jobId);
  const [placements, events] = await Promise.all([listPlacements(ctx.store.db, jobId), listJobEvents(ctx.store.db, jobId)]);
  return { job, placements, events };
}

/** The caller's jobs (every org's for admins with `allOrgs`), newest first, a page at a time. */
export async function listVisibleJobs(
  ctx: EngineContext,
  user: User,
  query: { states?: JobRow['state'][]; cursor?: string; limit: number; allOrgs?: boolean },
): Promise<{ jobs: JobRow[]; nextCursor: string | null }> {
  const orgId = query.allOrgs && user.role === 'admin' ? null : user.orgId;
  const jobs = await listJobs(ctx.store.db, {
    orgId,
    limit: query.limit + 1,
    ...(query.states ? { states: query.states } : {}),
    ...(query.cursor ? { before: query.cursor } : {}),
  });
  const page = jobs.slice(0, query.limit);
  return { jobs: page, nextCursor: jobs.length > query.limit ? page.at(-1)!.id : null };
}

/**
 * Cancels a job. One not yet started ends `cancelled` at once; a running one is marked and its agent
 * told to stop it (the job ends `cancelled` when the agent reports the process group gone).
 */
export async function cancelJob(ctx: EngineContext, user: User, jobId: string): Promise<JobRow> {
  await getVisibleJob(ctx, user, jobId);
  const now = ctx.now();
  const job = await inTransaction(ctx.store.db, async (trx) => {
    const job = (await lockJob(trx, jobId))!;
    if (isTerminal(job.state)) {
      throw new SuanwangError('job_already_finished', `job ${jobId} has already ${job.state}`, { field: 'id' });
    }
    if (job.state === 'running') {
      if (!job.cancel_requested_at) {
        await updateJob(trx, jobId, { cancel_requested_at: now }, now);
      }
      return (await getJob(trx, jobId))!;
    }
    const cancelled = (await transitionJob(trx, jobId, 'cancelled', { cancel_requested_at: now, finished_at: now, reason: `cancelled by ${user.name}` }, {
      at: now,
      message: `cancelled by ${user.name}`,
    }))!;
    await settleJobs(trx, [jobId], now, settingsOf(ctx)); // billing: cancelled before it started: the hold is released
    return cancelled;
  });
  if (job.center_id) ctx.signals.wake(`center:${job.center_id}`);
  ctx.signals.wake(`job:${jobId}`);
  return job;
}

/**
 * Output after `afterSeq`. With `waitMs`, waits that long for more when there is none yet and the job
 * has not ended. `done` is true once the job has ended and everything it printed has been read.
 */
export async function readJobLogs(
  ctx: EngineContext,
  user: User,
  jobId: string,
  afterSeq: number,
  waitMs: number,
  signal?: AbortSignal,
): Promise<{ chunks: Awaited<ReturnType<typeof readLogChunks>>['chunks']; next: number; done: boolean }> {
  await getVisibleJob(ctx, user, jobId);
  const deadline = Date.now() + Math.min(waitMs, ctx.config.maxWaitMs);
  for (;;) {
    // Armed before the reads, so output or an end committed while they run still wakes this
    // follow (here or from another control-plane process); no re-check loop, the deadline is the net.
    const wake = ctx.signals.arm(`job:${jobId}`, Math.max(0, deadline - Date.now()), signal);
    try {
      // Read the state before the chunks: if it is terminal, no chunk can arrive after this read.
      const state = (await getJob(ctx.store.db, jobId))!.state;
      // Pages are bounded in bytes too: one read never carries a whole huge output.
      const { chunks, more } = await readLogChunks(ctx.store.db, jobId, afterSeq, 1000, ctx.config.maxLogPageBytes);
      const next = chunks.at(-1)?.seq ?? afterSeq;
      const done = isTerminal(state) && !more;
      const left = deadline - Date.now();
      if (chunks.length > 0 || done || left <= 0 || signal?.aborted) return { chunks, next, done };
      await wake.woken;
    } finally {
      wake.cancel();
    }
  }
}
