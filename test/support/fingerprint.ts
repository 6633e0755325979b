import { sql } from 'kysely';
import type { Store } from '../../src/store/open-database.js';

/**
 * Columns that legitimately change on a read (e.g. a token's last-used time) and so are left out of
 * the fingerprint: `table → columns`. Add one line here when such a column is introduced.
 */
export const VOLATILE_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  api_tokens: ['last_used_at'],
};
/** Tables that are bookkeeping of requests themselves (rate-limit counters), not state: left out. */
export const VOLATILE_TABLES: ReadonlySet<string> = new Set(['rate_limits', 'rate_limit_buckets']);

/** Row count and an md5 of every row's text, per table of the public schema. */
export type Fingerprint = Readonly<Record<string, { readonly rows: number; readonly md5: string }>>;

/**
 * The whole database's fingerprint: every table of the public schema (found at run time, so new
 * tables are covered without a change here), each as a row count and a checksum of all its rows.
 */
export async function fingerprint(store: Store): Promise<Fingerprint> {
  const tables = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(store.db);
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const { table_name: table } of tables.rows) {
    if (VOLATILE_TABLES.has(table)) continue;
    const drop = (VOLATILE_COLUMNS[table] ?? []).map((c) => sql` - ${c}::text`);
    const row = await sql<{ n: string | number; h: string | null }>`
      SELECT count(*) AS n, md5(coalesce(string_agg(x.j, '|' ORDER BY x.j), '')) AS h
      FROM (SELECT (to_jsonb(t)${sql.join(drop, sql``)})::text AS j FROM ${sql.table(table)} t) x`.execute(store.db);
    out[table] = { rows: Number(row.rows[0]!.n), md5: row.rows[0]!.h ?? '' };
  }
  return out;
}

/** The tables whose fingerprint differs between `a` and `b` (added or dropped tables count). */
export function changedTables(a: Fingerprint, b: Fingerprint): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((t) => a[t]?.rows !== b[t]?.rows || a[t]?.md5 !== b[t]?.md5).sort();
}
