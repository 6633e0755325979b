import { SuanwangError } from '../../core/errors.js';
import { isTerminal } from '../../core/job-state.js';
import { listCenters } from '../../store/centers.js';
import { deleteEndpointRow, findEndpoint, insertEndpoint, listEndpoints, listReplicas, updateEndpoint, type EndpointRow, type ReplicaRow } from '../../store/endpoints.js';
import { getAppPrice } from '../../store/billing.js';
import { findProductByName } from '../../store/products.js';
import { getJobs } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import { inTransaction } from '../../store/transaction.js';
import type { Principal } from '../accounts.js';
import type { AppManifest } from '../../catalog/index.js';
import { appJobSpec, productDetail } from '../catalog.js';
import type { EngineContext } from '../context.js';
import { cancelJob } from '../jobs.js';
import { chargeEndpoints } from './metering.js';

type User = Extract<Principal, { kind: 'user' }>;

/** What `suanwang serve` asks for. */
export interface EndpointSpec {
  readonly name?: string | undefined;
  readonly app: string;
  readonly version?: string | undefined;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly acceleratorsPerNode: number;
  /** The callers' region: a region name (`shanghai`), or a center's name or its first word (`east` for east-shanghai). */
  readonly region: string;
  readonly min: number;
  readonly max: number;
  readonly targetConcurrency: number;
  /** Scale to zero after this long without a request; null never. */
  readonly idleToZeroSeconds: number | null;
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Creates an endpoint of the caller's org after checking everything a replica needs: the app is
 * listed and servable (it has a `serve` parameter with `on`), its parameters pass, the region is
 * known, and min ≤ max. Replicas are started by the serving controller, not here.
 */
export async function createEndpoint(ctx: EngineContext, user: User, spec: EndpointSpec): Promise<EndpointRow> {
  const name = spec.name ?? spec.app;
  if (!NAME.test(name)) {
    throw new SuanwangError('invalid_field', `endpoint name "${name.slice(0, 70)}" is not 1–63 lower-case letters, digits or dashes starting with a letter`, { field: 'name', hint: 'e.g. textgen-east' });
  }
  if (spec.min > spec.max) {
    throw new SuanwangError('invalid_field', `min ${spec.min} is above max ${spec.max}`, { field: 'min', hint: 'min replicas must be at most max' });
  }
  const region = await resolveRegion(ctx, spec.region);
  // Servable before anything else is checked: its other parameters only matter if it is.
  const listed = (await productDetail(ctx, user, spec.app)).versions.filter((v) => v.status === 'listed');
  const asked = spec.version ? listed.find((v) => v.version === spec.version) : listed[0];
  if (asked) {
    const serve = (asked.manifest as AppManifest).app?.parameters?.properties?.serve as { enum?: unknown[] } | undefined;
    if (!serve?.enum?.includes('on')) {
      throw new SuanwangError('not_runnable', `${spec.app}@${asked.version} cannot be served: its manifest has no "serve" parameter with the value "on"`, {
        field: 'app',
        hint: 'an app is servable when it runs an HTTP server with serve=on (see docs/serving.md); textgen-mini is',
      });
    }
  }
  const { version } = await appJobSpec(ctx, user, spec.app, replicaLaunch(spec.params, spec.version, spec.acceleratorsPerNode, 'probe'));
  // The product's serving terms as they are now: the endpoint keeps them (a later change of the product's price does not apply to it).
  const product = await findProductByName(ctx.store.db, spec.app);
  const terms = product ? (await getAppPrice(ctx.store.db, product.id))?.serving : undefined;
  const now = ctx.now();
  const row = {
    id: ctx.newId('endpoint'),
    org_id: user.orgId,
    user_id: user.userId,
    name,
    app: spec.app,
    version,
    params: { ...spec.params },
    accelerators_per_node: spec.acceleratorsPerNode,
    region,
    min_replicas: spec.min,
    max_replicas: spec.max,
    target_concurrency: spec.targetConcurrency,
    idle_to_zero_ms: spec.idleToZeroSeconds === null ? null : spec.idleToZeroSeconds * 1000,
    fen_per_request: terms?.fenPerRequest ?? 0,
    fen_per_1k_tokens: terms?.fenPer1kTokens ?? 0,
    provider_org_id: product?.provider_org_id ?? null,
    created_at: now,
    updated_at: now,
  };
  if (!(await insertEndpoint(ctx.store.db, row))) {
    throw new SuanwangError('conflict', `your org already has an endpoint named "${name}"`, { field: 'name', hint: 'pick another --name, or `suanwang endpoints delete` the old one' });
  }
  ctx.signals.wake('serving');
  return (await findEndpoint(ctx.store.db, user.orgId, name))!;
}

/** The launch of one replica: the endpoint's parameters with serve=on, a long walltime, any region (the controller narrows it). */
export function replicaLaunch(params: Readonly<Record<string, string | number | boolean>>, version: string | undefined, acceleratorsPerNode: number, name: string) {
  return {
    version,
    params: { ...params, serve: 'on' },
    resources: { acceleratorsPerNode, walltimeSeconds: REPLICA_WALLTIME_SECONDS },
    // Estimated as an hour of work, so a placement's cost and carbon read per hour of serving.
    job: { objective: 'balanced' as const, priority: 0, maxAttempts: 3, forbidAccelerators: [], regions: [], inputs: [], name, runtimeSeconds: 3600 },
  };
}

/** A replica job's walltime: a week; the controller starts a new replica when one ends. */
export const REPLICA_WALLTIME_SECONDS = 7 * 24 * 3600;

/** `shanghai` as is; `east` or `east-shanghai` → that center's region. */
export async function resolveRegion(ctx: EngineContext, asked: string): Promise<string> {
  const centers = await listCenters(ctx.store.db);
  if (centers.some((c) => c.region === asked)) return asked;
  const byName = centers.filter((c) => c.name === asked || c.name.split('-')[0] === asked);
  const regions = [...new Set(byName.map((c) => c.region))];
  if (regions.length === 1) return regions[0]!;
  throw new SuanwangError('invalid_field', `region "${asked.slice(0, 60)}" ${regions.length > 1 ? `is ambiguous (${regions.join(', ')})` : 'is not a region of any center'}`, {
    field: 'region',
    hint: `regions: ${[...new Set(centers.map((c) => c.region))].sort().join(', ')} (or a center name, or its first word: ${[...new Set(centers.map((c) => c.name.split('-')[0]))].sort().join(', ')})`,
  });
}

/** The caller's org's endpoint of that name, or a 404 that never tells whether another org has one. */
export async function visibleEndpoint(ctx: EngineContext, user: User, name: string): Promise<EndpointRow> {
  const row = await findEndpoint(ctx.store.db, user.orgId, name);
  if (!row) throw new SuanwangError('endpoint_not_found', `no endpoint "${name.slice(0, 70)}" in your org`, { field: 'name', hint: 'list yours with `suanwang endpoints`' });
  return row;
}

export async function listVisibleEndpoints(ctx: EngineContext, user: User, all: boolean): Promise<EndpointRow[]> {
  if (all && user.role !== 'admin') throw new SuanwangError('forbidden', 'only admins list every org\'s endpoints', { field: 'all' });
  return listEndpoints(ctx.store.db, all ? null : user.orgId);
}

/** An endpoint's replicas with their jobs. */
export async function endpointReplicas(ctx: EngineContext, endpointIds: readonly string[]): Promise<{ replica: ReplicaRow; job: JobRow | undefined }[]> {
  const replicas = await listReplicas(ctx.store.db, endpointIds);
  const jobs = new Map((await getJobs(ctx.store.db, replicas.map((r) => r.job_id))).map((j) => [j.id, j]));
  return replicas.map((replica) => ({ replica, job: jobs.get(replica.job_id) }));
}

/**
 * Changes an endpoint's settings; a new `version` starts a rolling update (new replicas start, and
 * each old one is drained once a new one is ready).
 */
export async function changeEndpoint(
  ctx: EngineContext,
  user: User,
  name: string,
  changes: { readonly version?: string | undefined; readonly min?: number | undefined; readonly max?: number | undefined; readonly idleToZeroSeconds?: number | null | undefined },
): Promise<EndpointRow> {
  const row = await visibleEndpoint(ctx, user, name);
  const min = changes.min ?? row.min_replicas;
  const max = changes.max ?? row.max_replicas;
  if (min > max) throw new SuanwangError('invalid_field', `min ${min} is above max ${max}`, { field: changes.min !== undefined ? 'min' : 'max', hint: 'min replicas must be at most max' });
  let version = row.version;
  if (changes.version !== undefined) version = (await appJobSpec(ctx, user, row.app, replicaLaunch(row.params, changes.version, row.accelerators_per_node, 'probe'))).version;
  await updateEndpoint(
    ctx.store.db,
    row.id,
    {
      version,
      min_replicas: min,
      max_replicas: max,
      ...(changes.idleToZeroSeconds !== undefined ? { idle_to_zero_ms: changes.idleToZeroSeconds === null ? null : changes.idleToZeroSeconds * 1000 } : {}),
    },
    ctx.now(),
  );
  ctx.signals.wake('serving');
  return (await findEndpoint(ctx.store.db, user.orgId, name))!;
}

/** Deletes an endpoint: its replica jobs are cancelled, its row and replica rows removed. */
export async function deleteEndpoint(ctx: EngineContext, user: User, name: string): Promise<EndpointRow> {
  const row = await visibleEndpoint(ctx, user, name);
  for (const { job } of await endpointReplicas(ctx, [row.id])) {
    if (job && !isTerminal(job.state)) await cancelJob(ctx, user, job.id).catch(() => undefined); // ended meanwhile
  }
  await chargeEndpoints(ctx); // its calls counted so far are charged before its counters go
  await inTransaction(ctx.store.db, (trx) => deleteEndpointRow(trx, row.id));
  ctx.signals.wake('serving');
  return row;
}
