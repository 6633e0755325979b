import { replicaKey } from '../data/index.js';
import { latestSealed } from '../store/data-plane.js';
import { inTransaction } from '../store/transaction.js';
import type { EngineContext } from './context.js';
import { rulePins } from './replication-rules.js';

/*
 * Eviction at a center's quota (docs/data.md): the agent asks which of the replicas it holds it may
 * drop, runs src/data/eviction.ts's plan over them, and tells which it dropped.
 */

export interface HeldReplicaView {
  readonly versionId: string;
  readonly lastUsedAt: number;
  /** Kept: a live rule counts on it, a placed or running job at this center reads it, or it is the last copy. */
  readonly pinned: boolean;
  readonly why: string | null;
}

/** The replicas complete at a center, each with whether it may be evicted. */
export async function centerReplicas(ctx: EngineContext, centerId: string): Promise<HeldReplicaView[]> {
  const q = ctx.store.db;
  const rows = await q.selectFrom('version_replicas').select(['version_id', 'last_used_at']).where('center_id', '=', centerId).where('state', '=', 'complete').orderBy('version_id').execute();
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.version_id);
  const copies = new Map<string, number>();
  for (const r of await q.selectFrom('version_replicas').select('version_id').where('version_id', 'in', ids).where('state', '=', 'complete').execute()) copies.set(r.version_id, (copies.get(r.version_id) ?? 0) + 1);
  const jobs = await q.selectFrom('jobs').select('inputs').where('center_id', '=', centerId).where('state', 'in', ['placed', 'running']).execute();
  const read = await latestSealed(q, [...new Set(jobs.flatMap((j) => j.inputs))]);
  const inUse = new Set([...read.values()].map((v) => v.id));
  const pins = await rulePins(q, ctx.now());
  return rows.map((r) => {
    const why = pins.has(replicaKey(r.version_id, centerId)) ? 'a replication rule counts on it' : inUse.has(r.version_id) ? 'a job at this center reads it' : (copies.get(r.version_id) ?? 0) <= 1 ? 'the last copy' : null;
    return { versionId: r.version_id, lastUsedAt: r.last_used_at.getTime(), pinned: why !== null, why };
  });
}

/**
 * The agent dropped these replicas: they are no longer held at its center (nor listed there for the
 * scheduler). Only versions held at this center are touched; returns the ones recorded.
 */
export async function droppedReplicas(ctx: EngineContext, centerId: string, versionIds: readonly string[]): Promise<string[]> {
  if (versionIds.length === 0) return [];
  return inTransaction(ctx.store.db, async (trx) => {
    const gone = await trx.deleteFrom('version_replicas').where('center_id', '=', centerId).where('version_id', 'in', [...versionIds]).returning('version_id').execute();
    if (gone.length === 0) return [];
    const versions = await trx.selectFrom('dataset_versions').select(['id', 'dataset_id']).where('id', 'in', gone.map((g) => g.version_id)).execute();
    const latest = await latestSealed(trx, [...new Set(versions.map((v) => v.dataset_id))]);
    for (const v of versions) {
      if (latest.get(v.dataset_id)?.id === v.id) await trx.deleteFrom('dataset_replicas').where('dataset_id', '=', v.dataset_id).where('center_id', '=', centerId).execute();
    }
    return gone.map((g) => g.version_id);
  });
}
