import type { Queryable } from './transaction.js';

/** Datasets, their replicas (which centers hold a copy) and the links between regions. */

export async function insertDataset(
  q: Queryable,
  d: { id: string; orgId: string; name: string; bytes: number; centerIds: readonly string[]; at: Date },
): Promise<void> {
  await q.insertInto('datasets').values({ id: d.id, org_id: d.orgId, name: d.name, bytes: d.bytes, created_at: d.at }).execute();
  for (const centerId of d.centerIds) {
    await q.insertInto('dataset_replicas').values({ dataset_id: d.id, center_id: centerId, created_at: d.at }).execute();
  }
}

export interface DatasetWithReplicas {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
  readonly bytes: number;
  readonly centerIds: readonly string[];
}

/** Datasets with the centers holding them; all of them, or those with the given ids. */
export async function listDatasets(q: Queryable, ids?: readonly string[]): Promise<DatasetWithReplicas[]> {
  if (ids && ids.length === 0) return [];
  let sel = q.selectFrom('datasets').selectAll().orderBy('name');
  if (ids) sel = sel.where('id', 'in', [...ids]);
  const rows = await sel.execute();
  if (rows.length === 0) return [];
  const replicas = await q.selectFrom('dataset_replicas').select(['dataset_id', 'center_id']).where('dataset_id', 'in', rows.map((r) => r.id)).orderBy('center_id').execute();
  return rows.map((r) => ({
    id: r.id,
    orgId: r.org_id,
    name: r.name,
    bytes: r.bytes,
    centerIds: replicas.filter((x) => x.dataset_id === r.id).map((x) => x.center_id),
  }));
}

export async function findDatasetByName(q: Queryable, orgId: string, name: string) {
  return q.selectFrom('datasets').selectAll().where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();
}

export interface RegionLink {
  readonly fromRegion: string;
  readonly toRegion: string;
  readonly bandwidthMbps: number;
  readonly latencyMs: number;
  readonly egressFenPerGB: number;
}

/** Adds or replaces the link from one region to another. */
export async function upsertLink(q: Queryable, l: RegionLink): Promise<void> {
  const values = { bandwidth_mbps: l.bandwidthMbps, latency_ms: l.latencyMs, egress_fen_per_gb: l.egressFenPerGB };
  await q
    .insertInto('region_links')
    .values({ from_region: l.fromRegion, to_region: l.toRegion, ...values })
    .onConflict((oc) => oc.columns(['from_region', 'to_region']).doUpdateSet(values))
    .execute();
}

export async function listLinks(q: Queryable): Promise<RegionLink[]> {
  const rows = await q.selectFrom('region_links').selectAll().orderBy('from_region').orderBy('to_region').execute();
  return rows.map((r) => ({ fromRegion: r.from_region, toRegion: r.to_region, bandwidthMbps: r.bandwidth_mbps, latencyMs: r.latency_ms, egressFenPerGB: r.egress_fen_per_gb }));
}
