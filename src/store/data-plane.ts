import { sql } from 'kysely';
import type { Queryable } from './transaction.js';
import type { TransferKind, TransferRow, TransferState } from './schema.js';

/** The data plane's rows (migration 0011): data ports, dataset versions, their replicas, transfers. */

export async function upsertDataPort(q: Queryable, centerId: string, url: string, key: string, at: Date): Promise<void> {
  await q
    .insertInto('center_data_ports')
    .values({ center_id: centerId, url, grant_key: key, updated_at: at })
    .onConflict((oc) => oc.column('center_id').doUpdateSet({ url, grant_key: key, updated_at: at }))
    .execute();
}

export async function dataPorts(q: Queryable, centerIds: readonly string[]): Promise<Map<string, { url: string; key: string }>> {
  if (centerIds.length === 0) return new Map();
  const rows = await q.selectFrom('center_data_ports').selectAll().where('center_id', 'in', [...centerIds]).execute();
  return new Map(rows.map((r) => [r.center_id, { url: r.url, key: r.grant_key }]));
}

export interface VersionRow {
  readonly id: string;
  readonly datasetId: string;
  readonly version: number;
  readonly state: 'open' | 'sealed';
  readonly digest: string;
  readonly manifest: { chunkBytes: number; files: { path: string; bytes: number; chunks: string[] }[] };
  readonly bytes: number;
  readonly centerId: string;
}

type RawVersion = { id: string; dataset_id: string; version: number; state: 'open' | 'sealed'; digest: string; manifest: VersionRow['manifest']; bytes: number; center_id: string };
const toVersion = (r: RawVersion): VersionRow => ({ id: r.id, datasetId: r.dataset_id, version: r.version, state: r.state, digest: r.digest, manifest: r.manifest, bytes: r.bytes, centerId: r.center_id });

export async function insertVersion(q: Queryable, v: VersionRow & { at: Date }): Promise<void> {
  await q
    .insertInto('dataset_versions')
    .values({ id: v.id, dataset_id: v.datasetId, version: v.version, state: v.state, digest: v.digest, manifest: JSON.stringify(v.manifest), bytes: v.bytes, center_id: v.centerId, created_at: v.at, sealed_at: null })
    .execute();
}

export async function getVersion(q: Queryable, id: string): Promise<VersionRow | undefined> {
  const r = await q.selectFrom('dataset_versions').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toVersion(r);
}

/** A dataset's versions, newest first. */
export async function versionsOf(q: Queryable, datasetId: string): Promise<VersionRow[]> {
  const rows = await q.selectFrom('dataset_versions').selectAll().where('dataset_id', '=', datasetId).orderBy('version', 'desc').execute();
  return rows.map(toVersion);
}

/** The newest sealed version of each of these datasets. */
export async function latestSealed(q: Queryable, datasetIds: readonly string[]): Promise<Map<string, VersionRow>> {
  if (datasetIds.length === 0) return new Map();
  const rows = await q
    .selectFrom('dataset_versions')
    .selectAll()
    .where('dataset_id', 'in', [...datasetIds])
    .where('state', '=', 'sealed')
    .orderBy('version', 'desc')
    .execute();
  const out = new Map<string, VersionRow>();
  for (const r of rows) if (!out.has(r.dataset_id)) out.set(r.dataset_id, toVersion(r));
  return out;
}

/**
 * Seals a version once its center holds it complete, and makes it the dataset's current content:
 * the dataset's size and the scheduler's replica list (`dataset_replicas`) follow it.
 */
export async function sealVersion(q: Queryable, versionId: string, at: Date): Promise<void> {
  const v = await q.updateTable('dataset_versions').set({ state: 'sealed', sealed_at: at }).where('id', '=', versionId).where('state', '=', 'open').returningAll().executeTakeFirst();
  if (!v) return;
  await q.updateTable('datasets').set({ bytes: v.bytes }).where('id', '=', v.dataset_id).execute();
  await q.deleteFrom('dataset_replicas').where('dataset_id', '=', v.dataset_id).execute();
}

/** Marks a version complete at a center and lists it as a replica of its dataset for the scheduler. */
export async function completeReplica(q: Queryable, versionId: string, centerId: string, at: Date): Promise<void> {
  await q
    .insertInto('version_replicas')
    .values({ version_id: versionId, center_id: centerId, state: 'complete', created_at: at, last_used_at: at })
    .onConflict((oc) => oc.columns(['version_id', 'center_id']).doUpdateSet({ state: 'complete', last_used_at: at }))
    .execute();
  const v = await q.selectFrom('dataset_versions').select(['dataset_id', 'state']).where('id', '=', versionId).executeTakeFirst();
  if (v?.state !== 'sealed') return;
  const latest = await latestSealed(q, [v.dataset_id]);
  if (latest.get(v.dataset_id)?.id !== versionId) return;
  await q
    .insertInto('dataset_replicas')
    .values({ dataset_id: v.dataset_id, center_id: centerId, created_at: at })
    .onConflict((oc) => oc.columns(['dataset_id', 'center_id']).doNothing())
    .execute();
}

export async function touchReplica(q: Queryable, versionId: string, centerId: string, at: Date): Promise<void> {
  await q.updateTable('version_replicas').set({ last_used_at: at }).where('version_id', '=', versionId).where('center_id', '=', centerId).execute();
}

/** Centers holding a version complete. */
export async function completeReplicas(q: Queryable, versionId: string): Promise<string[]> {
  const rows = await q.selectFrom('version_replicas').select('center_id').where('version_id', '=', versionId).where('state', '=', 'complete').orderBy('center_id').execute();
  return rows.map((r) => r.center_id);
}

export async function insertTransfer(
  q: Queryable,
  t: { id: string; orgId: string; versionId: string; kind: TransferKind; toCenterId: string; jobId: string | null; bytesTotal: number; at: Date },
): Promise<void> {
  await q
    .insertInto('transfers')
    .values({ id: t.id, org_id: t.orgId, version_id: t.versionId, kind: t.kind, to_center_id: t.toCenterId, job_id: t.jobId, state: 'queued', bytes_total: t.bytesTotal, error: null, created_at: t.at, started_at: null, finished_at: null })
    .execute();
}

/** The queued or running transfer of a version into a center, if there is one. */
export async function activeTransfer(q: Queryable, versionId: string, centerId: string): Promise<TransferRow | undefined> {
  return q.selectFrom('transfers').selectAll().where('version_id', '=', versionId).where('to_center_id', '=', centerId).where('state', 'in', ['queued', 'running']).orderBy('created_at').executeTakeFirst();
}

export async function activeTransfersTo(q: Queryable, centerId: string, limit = 100): Promise<TransferRow[]> {
  return q.selectFrom('transfers').selectAll().where('to_center_id', '=', centerId).where('state', 'in', ['queued', 'running']).orderBy('created_at').limit(limit).execute();
}

export async function getTransfer(q: Queryable, id: string): Promise<TransferRow | undefined> {
  return q.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function transfersOfOrg(q: Queryable, orgId: string | null, limit: number): Promise<TransferRow[]> {
  let sel = q.selectFrom('transfers').selectAll().orderBy('created_at', 'desc').limit(limit);
  if (orgId !== null) sel = sel.where('org_id', '=', orgId);
  return sel.execute();
}

/** Moves a transfer on; a transfer that ended is never changed again. Returns the row when it changed. */
export async function updateTransfer(
  q: Queryable,
  id: string,
  change: { state: TransferState; bytesMoved: number; error: string | null },
  at: Date,
): Promise<TransferRow | undefined> {
  return q
    .updateTable('transfers')
    .set({
      state: change.state,
      bytes_moved: sql<number>`GREATEST(bytes_moved, ${change.bytesMoved})`,
      error: change.error,
      started_at: sql<Date>`COALESCE(started_at, ${at})`,
      finished_at: change.state === 'done' || change.state === 'failed' ? at : null,
    })
    .where('id', '=', id)
    .where('state', 'in', ['queued', 'running'])
    .returningAll()
    .executeTakeFirst();
}

/**
 * The newest transfer of kind `output` of a job into a center for a dataset, not failed, with its
 * version's digest: an agent opening the same output again (a retry, a restart) finds it here.
 */
export async function outputTransferOf(q: Queryable, jobId: string, centerId: string, datasetId: string): Promise<(TransferRow & { digest: string }) | undefined> {
  return q
    .selectFrom('transfers')
    .innerJoin('dataset_versions', 'dataset_versions.id', 'transfers.version_id')
    .selectAll('transfers')
    .select('dataset_versions.digest')
    .where('transfers.job_id', '=', jobId)
    .where('transfers.kind', '=', 'output')
    .where('transfers.to_center_id', '=', centerId)
    .where('transfers.state', '!=', 'failed')
    .where('dataset_versions.dataset_id', '=', datasetId)
    .orderBy('transfers.created_at', 'desc')
    .executeTakeFirst();
}
