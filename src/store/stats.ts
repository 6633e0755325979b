import { sql } from 'kysely';
import type { Queryable } from './transaction.js';

/**
 * What /metrics and /readyz read from the store at scrape time: a few small aggregate queries, each
 * one statement, never a row per job.
 */

/** Jobs per state, in one GROUP BY (states with no job are absent). */
export async function countJobsByState(q: Queryable): Promise<Map<string, number>> {
  const rows = await q
    .selectFrom('jobs')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return new Map(rows.map((r) => [r.state, Number(r.n)]));
}

export interface CenterLiveness {
  readonly name: string;
  readonly state: 'online' | 'draining' | 'offline';
  readonly lastHeartbeatAt: Date | null;
}

/** Every center's state and last heartbeat (one row per center: tens, not millions). */
export async function centerLiveness(q: Queryable): Promise<CenterLiveness[]> {
  const rows = await q.selectFrom('centers').select(['name', 'state', 'last_heartbeat_at']).orderBy('name').execute();
  return rows.map((r) => ({ name: r.name, state: r.state, lastHeartbeatAt: r.last_heartbeat_at }));
}

/** The highest migration version applied (0 when none), for /readyz to compare with the code's. */
export async function appliedMigrationVersion(q: Queryable): Promise<number> {
  const r = await sql<{ v: number | null }>`SELECT max(version) AS v FROM suanwang_migrations`.execute(q);
  return Number(r.rows[0]?.v ?? 0);
}

/** `SELECT 1`: the store answers. */
export async function ping(q: Queryable): Promise<void> {
  await sql`SELECT 1`.execute(q);
}
