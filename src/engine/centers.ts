import { invalidateNetworkView } from './jobs.js';
import { SuanwangError } from '../core/errors.js';
import type { EnergyJson } from '../store/schema.js';
import { findCenterByName, insertCenter, setPoolPrice, syncPools, type PoolSpec } from '../store/centers.js';
import { inTransaction } from '../store/transaction.js';
import { createCenterToken, ensureOrg } from './accounts.js';
import type { EngineContext } from './context.js';

export interface CenterDefinition {
  readonly name: string;
  readonly displayName: string;
  readonly region: string;
  readonly operatorOrg: string;
  readonly energy: EnergyJson;
  /** Pool name → price (fen per accelerator-hour and per core-hour). */
  readonly prices: Readonly<Record<string, { fenPerAcceleratorHour: number; fenPerCoreHour: number }>>;
  /** Pools known before the agent first reports (the agent's report then wins on shape). */
  readonly pools?: readonly PoolSpec[];
}

/**
 * Adds a center (offline until its agent registers) and returns its id and a fresh agent token
 * (shown once). A center of that name must not exist yet.
 */
export async function createCenter(ctx: EngineContext, def: CenterDefinition): Promise<{ centerId: string; agentToken: string }> {
  if (await findCenterByName(ctx.store.db, def.name)) {
    throw new SuanwangError('conflict', `a center named ${def.name} exists already`, { field: 'name', hint: 'pick another name, or create a token for it' });
  }
  const orgId = await ensureOrg(ctx, def.operatorOrg);
  const centerId = ctx.newId('center');
  const now = ctx.now();
  await inTransaction(ctx.store.db, async (trx) => {
    await insertCenter(trx, { id: centerId, name: def.name, displayName: def.displayName, region: def.region, operatorOrgId: orgId, energy: def.energy, at: now });
    if (def.pools) await syncPools(trx, centerId, def.pools, () => ctx.newId('pool'), now);
    for (const [pool, price] of Object.entries(def.prices)) await setPoolPrice(trx, centerId, pool, price);
  });
  invalidateNetworkView(ctx);
  return { centerId, agentToken: await createCenterToken(ctx, centerId, `agent of ${def.name}`) };
}

/** A new agent token for an existing center, by name. */
export async function newAgentToken(ctx: EngineContext, centerName: string): Promise<string> {
  const center = await findCenterByName(ctx.store.db, centerName);
  if (!center) throw new SuanwangError('center_not_found', `no center named ${centerName}`, { field: 'name', hint: '`suanwang centers` lists them' });
  return createCenterToken(ctx, center.id, `agent of ${center.name}`);
}
