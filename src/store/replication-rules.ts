import type { Queryable } from './transaction.js';
import type { ReplicationRulesTable, RuleScope } from './schema.js';

/** Replication rules (migration 0016, docs/data.md). */

export interface RuleRow {
  readonly id: string;
  readonly orgId: string;
  readonly datasetId: string;
  readonly copies: number;
  readonly scope: RuleScope;
  readonly state: ReplicationRulesTable['state'];
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
  readonly endedAt: Date | null;
}

type Raw = { id: string; org_id: string; dataset_id: string; copies: number; scope: RuleScope; state: RuleRow['state']; expires_at: Date | null; created_at: Date; ended_at: Date | null };
const toRule = (r: Raw): RuleRow => ({ id: r.id, orgId: r.org_id, datasetId: r.dataset_id, copies: r.copies, scope: r.scope, state: r.state, expiresAt: r.expires_at, createdAt: r.created_at, endedAt: r.ended_at });

export async function insertRule(q: Queryable, r: Omit<RuleRow, 'state' | 'endedAt'>): Promise<void> {
  await q
    .insertInto('replication_rules')
    .values({ id: r.id, org_id: r.orgId, dataset_id: r.datasetId, copies: r.copies, scope: JSON.stringify(r.scope), state: 'active', expires_at: r.expiresAt, created_at: r.createdAt, ended_at: null })
    .execute();
}

export async function getRule(q: Queryable, id: string): Promise<RuleRow | undefined> {
  const r = await q.selectFrom('replication_rules').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toRule(r);
}

/** A dataset's rules, newest first (ended ones too: they say when they ended). */
export async function rulesOfDataset(q: Queryable, datasetId: string): Promise<RuleRow[]> {
  const rows = await q.selectFrom('replication_rules').selectAll().where('dataset_id', '=', datasetId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  return rows.map(toRule);
}

/** Every active rule, oldest first (the order the planner serves them in). */
export async function activeRules(q: Queryable): Promise<RuleRow[]> {
  const rows = await q.selectFrom('replication_rules').selectAll().where('state', '=', 'active').orderBy('created_at').orderBy('id').execute();
  return rows.map(toRule);
}

/** Ends an active rule (`expired` or `deleted`); returns whether it was active. */
export async function endRule(q: Queryable, id: string, state: 'expired' | 'deleted', at: Date): Promise<boolean> {
  const r = await q.updateTable('replication_rules').set({ state, ended_at: at }).where('id', '=', id).where('state', '=', 'active').executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Ends every active rule whose time is up; returns their ids. */
export async function expireRules(q: Queryable, at: Date): Promise<string[]> {
  const rows = await q
    .updateTable('replication_rules')
    .set({ state: 'expired', ended_at: at })
    .where('state', '=', 'active')
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', at)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}
