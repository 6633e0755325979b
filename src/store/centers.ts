import { sql } from 'kysely';
import type { AgentPool } from '../core/agent-protocol.js';
import type { Queryable } from './transaction.js';
import type { CenterRow, EnergyJson, PoolRow } from './schema.js';

/** Centers and their pools; an agent's session and heartbeat live on its center's row. */

export interface NewCenter {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly region: string;
  readonly operatorOrgId: string;
  readonly energy: EnergyJson;
  readonly at: Date;
}

/** Creates the center offline (it comes online when its agent registers). */
export async function insertCenter(q: Queryable, c: NewCenter): Promise<void> {
  await q
    .insertInto('centers')
    .values({
      id: c.id,
      name: c.name,
      display_name: c.displayName,
      region: c.region,
      operator_org_id: c.operatorOrgId,
      energy: JSON.stringify(c.energy),
      state: 'offline',
      state_reason: 'no agent has connected yet',
      commands: JSON.stringify(null),
      created_at: c.at,
    })
    .execute();
}

export async function findCenterByName(q: Queryable, name: string): Promise<CenterRow | undefined> {
  return q.selectFrom('centers').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function getCenter(q: Queryable, id: string): Promise<CenterRow | undefined> {
  return q.selectFrom('centers').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Locks the center row for the rest of the transaction: agent calls for one center take turns, so a
 * registration and a concurrent expiry of the same agent cannot interleave.
 */
export async function lockCenter(q: Queryable, id: string): Promise<CenterRow | undefined> {
  return q.selectFrom('centers').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function listCenters(q: Queryable): Promise<CenterRow[]> {
  return q.selectFrom('centers').selectAll().orderBy('name').execute();
}

export async function listPools(q: Queryable, centerId?: string): Promise<PoolRow[]> {
  let query = q.selectFrom('pools').selectAll().orderBy('center_id').orderBy('name');
  if (centerId) query = query.where('center_id', '=', centerId);
  return query.execute();
}

export async function updateCenter(
  q: Queryable,
  id: string,
  set: Partial<{
    state: CenterRow['state'];
    state_reason: string | null;
    connector: string | null;
    commands: string;
    agent_session: string | null;
    agent_version: string | null;
    last_heartbeat_at: Date | null;
    degraded_since: Date | null;
  }>,
): Promise<void> {
  await q.updateTable('centers').set(set).where('id', '=', id).execute();
}

/** Online centers whose agent has been silent since before `cutoff`. */
export async function centersSilentSince(q: Queryable, cutoff: Date): Promise<CenterRow[]> {
  return q
    .selectFrom('centers')
    .selectAll()
    .where('state', '!=', 'offline')
    .where('last_heartbeat_at', '<', cutoff)
    .execute();
}

/** A pool as an agent declares it (the same shape as the agent protocol's). */
export type PoolSpec = AgentPool;

/**
 * Brings the center's pools in line with what its agent reports: new pools are added, known ones
 * updated (shape and node count). Prices are the operator's, not the agent's, so they are kept.
 * A pool the agent no longer reports keeps its row (jobs refer to it) with zero nodes.
 */
export async function syncPools(
  q: Queryable,
  centerId: string,
  specs: readonly PoolSpec[],
  newPoolId: () => string,
  at: Date,
): Promise<void> {
  const existing = new Map((await listPools(q, centerId)).map((p) => [p.name, p]));
  const book = (await q.selectFrom('centers').select('pool_prices').where('id', '=', centerId).executeTakeFirst())?.pool_prices ?? {};
  for (const spec of specs) {
    const values = {
      accelerator: spec.accelerator,
      accelerators_per_node: spec.acceleratorsPerNode,
      cores_per_node: spec.coresPerNode,
      memory_mib_per_node: spec.memoryMiBPerNode,
      nodes: spec.nodes,
    };
    const row = existing.get(spec.name);
    if (row) await q.updateTable('pools').set(values).where('id', '=', row.id).execute();
    else
      await q
        .insertInto('pools')
        .values({
          id: newPoolId(),
          center_id: centerId,
          name: spec.name,
          ...values,
          fen_per_accelerator_hour: book[spec.name]?.fenPerAcceleratorHour ?? 0,
          fen_per_core_hour: book[spec.name]?.fenPerCoreHour ?? 0,
          created_at: at,
        })
        .execute();
    existing.delete(spec.name);
  }
  for (const gone of existing.values()) await q.updateTable('pools').set({ nodes: 0 }).where('id', '=', gone.id).execute();
}

/** Sets a pool's prices (the operator's decision), in the center's price book and on the pool if it exists. */
export async function setPoolPrice(
  q: Queryable,
  centerId: string,
  poolName: string,
  price: { fenPerAcceleratorHour: number; fenPerCoreHour: number },
): Promise<void> {
  await q
    .updateTable('centers')
    .set({ pool_prices: sql`pool_prices || jsonb_build_object(${poolName}::text, ${JSON.stringify(price)}::jsonb)` })
    .where('id', '=', centerId)
    .execute();
  await q
    .updateTable('pools')
    .set({ fen_per_accelerator_hour: price.fenPerAcceleratorHour, fen_per_core_hour: price.fenPerCoreHour })
    .where('center_id', '=', centerId)
    .where('name', '=', poolName)
    .execute();
}

/** Drained centers degraded since before `cutoff` that still hold jobs' capacity. */
export async function centersDegradedSince(q: Queryable, cutoff: Date): Promise<CenterRow[]> {
  return q.selectFrom('centers').selectAll().where('state', '=', 'draining').where('degraded_since', '<', cutoff).execute();
}
