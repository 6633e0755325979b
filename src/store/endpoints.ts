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
  fen_per_request: Defaulted<number>;
  fen_per_1k_tokens: Defaulted<number>;
  /** The product's provider (whom calls are paid to); null for an endpoint made before 0018. */
  provider_org_id: Defaulted<string | null>;
  billed_requests: Defaulted<number>;
  billed_tokens: Defaulted<number>;
}

export interface EndpointChargesTable {
  id: string;
  endpoint_id: string;
  endpoint_name: string;
  org_id: string;
  provider_org_id: string;
  requests: number;
  tokens: number;
  amount: number;
  from_granted: number;
  from_paid: number;
  operator_fee: number;
  charged_at: Date;
}

export interface EndpointTrafficTable {
  endpoint_id: string;
  process_id: string;
  at: Date;
  peak: number;
  arrivals: number;
  held: number;
  elapsed_ms: number;
  last_activity_at: Date;
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
type EndpointTables = { endpoints: EndpointsTable; endpoint_replicas: EndpointReplicasTable; endpoint_charges: EndpointChargesTable; endpoint_traffic: EndpointTrafficTable };

function tables(q: Queryable): Kysely<Database & EndpointTables> {
  return q.withTables<EndpointTables>();
}

export type EndpointRow = {
  readonly [K in keyof EndpointsTable]: EndpointsTable[K] extends ColumnType<infer S, unknown, unknown> ? S : EndpointsTable[K];
};
export type ReplicaRow = {
  readonly [K in keyof EndpointReplicasTable]: EndpointReplicasTable[K] extends ColumnType<infer S, unknown, unknown> ? S : EndpointReplicasTable[K];
};

type Priced = 'fen_per_request' | 'fen_per_1k_tokens' | 'provider_org_id';
export type NewEndpoint = Omit<EndpointRow, 'requests' | 'failed_requests' | 'tokens' | 'cold_starts' | 'params' | 'billed_requests' | 'billed_tokens' | Priced> & {
  readonly params: Readonly<Record<string, string | number | boolean>>;
} & Partial<Pick<EndpointRow, Priced>>;
export type EndpointChargeRow = Readonly<EndpointChargesTable>;
export type EndpointTrafficRow = Readonly<EndpointTrafficTable>;

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

// ---- metering into the ledger (0018) ----

/** Priced endpoints whose counters are ahead of what was charged, locked until the transaction ends. */
export async function unbilledEndpoints(q: Queryable): Promise<EndpointRow[]> {
  return (await tables(q)
    .selectFrom('endpoints')
    .selectAll()
    .where((eb) => eb.or([eb('fen_per_request', '>', 0), eb('fen_per_1k_tokens', '>', 0)]))
    .where((eb) => eb.or([eb(eb('requests', '-', eb.ref('failed_requests')), '>', eb.ref('billed_requests')), eb('tokens', '>', eb.ref('billed_tokens'))]))
    .orderBy('id')
    .forUpdate()
    .execute()) as EndpointRow[];
}

/** Moves an endpoint's billed counters from `from` to `to`; false when they were not at `from` (charged meanwhile). */
export async function markBilled(q: Queryable, id: string, from: { requests: number; tokens: number }, to: { requests: number; tokens: number }): Promise<boolean> {
  const r = await tables(q)
    .updateTable('endpoints')
    .set({ billed_requests: to.requests, billed_tokens: to.tokens })
    .where('id', '=', id)
    .where('billed_requests', '=', from.requests)
    .where('billed_tokens', '=', from.tokens)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function insertEndpointCharges(q: Queryable, rows: readonly EndpointChargeRow[]): Promise<void> {
  if (rows.length > 0) await tables(q).insertInto('endpoint_charges').values([...rows]).execute();
}

/** An org's endpoint charges in [from, to), oldest first. */
export async function listEndpointCharges(q: Queryable, orgId: string, from: Date, to: Date): Promise<EndpointChargeRow[]> {
  return tables(q).selectFrom('endpoint_charges').selectAll().where('org_id', '=', orgId).where('charged_at', '>=', from).where('charged_at', '<', to).orderBy('charged_at').orderBy('id').execute();
}

// ---- traffic per control-plane process (0018) ----

/** Writes what this process saw of each endpoint over its last pass (one row per endpoint and process, replaced). */
export async function writeTraffic(q: Queryable, rows: readonly EndpointTrafficRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tables(q)
    .insertInto('endpoint_traffic')
    .values([...rows])
    .onConflict((oc) =>
      oc.columns(['endpoint_id', 'process_id']).doUpdateSet((eb) => ({
        at: eb.ref('excluded.at'),
        peak: eb.ref('excluded.peak'),
        arrivals: eb.ref('excluded.arrivals'),
        held: eb.ref('excluded.held'),
        elapsed_ms: eb.ref('excluded.elapsed_ms'),
        last_activity_at: eb.ref('excluded.last_activity_at'),
      })),
    )
    .execute();
}

/** Every process's traffic rows written at or after `since`. */
export async function recentTraffic(q: Queryable, since: Date): Promise<EndpointTrafficRow[]> {
  return tables(q).selectFrom('endpoint_traffic').selectAll().where('at', '>=', since).orderBy('endpoint_id').orderBy('process_id').execute();
}
