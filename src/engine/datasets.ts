import { SuanwangError } from '../core/errors.js';
import { listCenters } from '../store/centers.js';
import { findDatasetByName, insertDataset, listDatasets, type DatasetWithReplicas } from '../store/datasets.js';
import { inTransaction } from '../store/transaction.js';
import type { Principal } from './accounts.js';
import type { EngineContext } from './context.js';

type User = Extract<Principal, { kind: 'user' }>;

/**
 * Registers a dataset of the caller's org and the centers that hold a replica. (The bytes move
 * through the centers' own storage; the platform tracks where they are, to stage inputs from the
 * nearest copy and price the transfer.)
 */
export async function registerDataset(
  ctx: EngineContext,
  user: User,
  input: { name: string; bytes: number; centers: readonly string[] },
): Promise<DatasetWithReplicas> {
  if (await findDatasetByName(ctx.store.db, user.orgId, input.name)) {
    throw new SuanwangError('conflict', `your org has a dataset named ${input.name} already`, { field: 'name', hint: 'pick another name' });
  }
  const centers = new Map((await listCenters(ctx.store.db)).map((c) => [c.name, c.id]));
  const centerIds = input.centers.map((name, i) => {
    const id = centers.get(name);
    if (!id) throw new SuanwangError('center_not_found', `no center named ${name}`, { field: `centers[${i}]`, hint: '`suanwang centers` lists them' });
    return id;
  });
  const id = ctx.newId('dataset');
  await inTransaction(ctx.store.db, (trx) => insertDataset(trx, { id, orgId: user.orgId, name: input.name, bytes: input.bytes, centerIds, at: ctx.now() }));
  return (await listDatasets(ctx.store.db, [id]))[0]!;
}

/** Datasets a user may use as inputs: their org's own (admins: all). */
export async function visibleDatasets(ctx: EngineContext, user: User): Promise<DatasetWithReplicas[]> {
  const all = await listDatasets(ctx.store.db);
  return user.role === 'admin' ? all : all.filter((d) => d.orgId === user.orgId);
}
