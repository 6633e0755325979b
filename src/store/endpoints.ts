// The endpoints and endpoint_replicas tables (0012): inference endpoints and their replica jobs.
// Kept in a file of their own; repositories reach them with `withTables`.
import type { ColumnType, Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Queryable } from './transaction.js';

type Json<T> = ColumnType<T, string, string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface EndpointsTable {
  id: string;
  org_id: string;
  user_id: string;
  name: string;
  app: string;
  version: string;
  params: Json<Record<string, string | number | boolean>>;
  accelerators_per_node: number;
  region: string;
  min_replicas: number;
  max_replicas: number;
  target_concurrency: number;
  idle_to_zero_ms: number | null;
  created_at: Date;
  updated_at: Date;
  requests: Defaulted<number>;
  failed_requests: Defaulted<number>;
  tokens: Defaulted<number>;
  cold_starts: Defaulted<number>;
}

export interface EndpointReplicasTable {
  job_id: string;
  endpoint_id: string;
  version: string;
  region: string;
  explanation: Json<unknown>;
  address: string | null;
  created_at: Date;
  draining_since: Date | null;
}

// A type, not an interface: Kysely's withTables<T>() needs T's implicit index signature.
type EndpointTables = { endpoints: EndpointsTable; endpoint_replicas: EndpointReplicasTable };

function tables(q: Queryable): Kysely<Database & EndpointTables> {
  return q.withTables<EndpointTables>();
}

export type EndpointRow = {
  readonly [K in keyof EndpointsTable]: EndpointsTable[K] extends ColumnType<infer S, unknown, unknown> ? S : EndpointsTable[K];
};
export type ReplicaRow = {
  readonly [K in keyof EndpointReplicasTable]: EndpointReplicasTable[K] extends ColumnType<infer S, unknown, unknown> ? S : EndpointReplicasTable[K];
};

export type NewEndpoint = Omit<EndpointRow, 'requests' | 'failed_requests' | 'tokens' | 'cold_starts' | 'params'> & { readonly params: Readonly<Record<string, string | number | boolean>> };

/** Inserts an endpoint; false when its org already has one of that name (nothing written). */
export async function insertEndpoint(q: Queryable, e: NewEndpoint): Promise<boolean> {
  const result = await tables(q)
    .insertInto('endpoints')
    .values({ ...e, params: JSON.stringify(e.params) })
    .onConflict((oc) => oc.columns(['org_id', 'name']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function findEndpoint(q: Queryable, orgId: string, name: string): Promise<EndpointRow | undefined> {
  return (await tables(q).selectFrom('endpoints').selectAll().where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst()) as EndpointRow | undefined;
}

/** An org's endpoints by name; every org's with `orgId` null. */
export async function listEndpoints(q: Queryable, orgId: string | null): Promise<EndpointRow[]> {
  let query = tables(q).selectFrom('endpoints').selectAll().orderBy('name').orderBy('id');
  if (orgId !== null) query = query.where('org_id', '=', orgId);
  return (await query.execute()) as EndpointRow[];
}

export async function updateEndpoint(
  q: Queryable,
  id: string,
  changes: Partial<Pick<EndpointRow, 'version' | 'min_replicas' | 'max_replicas' | 'idle_to_zero_ms' | 'target_concurrency'>>,
  at: Date,
): Promise<void> {
  await tables(q).updateTable('endpoints').set({ ...changes, updated_at: at }).where('id', '=', id).execute();
}

/** Adds to an endpoint's metering counters. */
export async function addEndpointUsage(q: Queryable, id: string, d: { requests: number; failed: number; tokens: number; coldStarts: number }): Promise<void> {
  await tables(q)
    .updateTable('endpoints')
    .set((eb) => ({
      requests: eb('requests', '+', d.requests),
      failed_requests: eb('failed_requests', '+', d.failed),
      tokens: eb('tokens', '+', d.tokens),
      cold_starts: eb('cold_starts', '+', d.coldStarts),
    }))
    .where('id', '=', id)
    .execute();
}

export async function deleteEndpointRow(q: Queryable, id: string): Promise<void> {
  await tables(q).deleteFrom('endpoint_replicas').where('endpoint_id', '=', id).execute();
  await tables(q).deleteFrom('endpoints').where('id', '=', id).execute();
}

export async function insertReplica(q: Queryable, r: Omit<ReplicaRow, 'explanation'> & { readonly explanation: unknown }): Promise<void> {
  await tables(q).insertInto('endpoint_replicas').values({ ...r, explanation: JSON.stringify(r.explanation) }).execute();
}

/** The replicas of some endpoints (all when `endpointIds` is null), oldest first. */
export async function listReplicas(q: Queryable, endpointIds: readonly string[] | null): Promise<ReplicaRow[]> {
  if (endpointIds !== null && endpointIds.length === 0) return [];
  let query = tables(q).selectFrom('endpoint_replicas').selectAll().orderBy('created_at').orderBy('job_id');
  if (endpointIds !== null) query = query.where('endpoint_id', 'in', endpointIds);
  return (await query.execute()) as ReplicaRow[];
}

export async function setReplicaAddress(q: Queryable, jobId: string, address: string | null): Promise<void> {
  await tables(q).updateTable('endpoint_replicas').set({ address }).where('job_id', '=', jobId).execute();
}

export async function drainReplica(q: Queryable, jobId: string, at: Date): Promise<void> {
  await tables(q).updateTable('endpoint_replicas').set({ draining_since: at }).where('job_id', '=', jobId).where('draining_since', 'is', null).execute();
}

export async function deleteReplica(q: Queryable, jobId: string): Promise<void> {
  await tables(q).deleteFrom('endpoint_replicas').where('job_id', '=', jobId).execute();
}
