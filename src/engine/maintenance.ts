// Vacuuming the tables that churn, when the database does not do it itself.
//
// A job row is updated four or five times in its life (submitted → queued → placed → running →
// ended), and each update leaves a dead row version and a dead entry in the small partial indexes
// the control loop reads every pass (`jobs_pending`, `jobs_active_center`, `jobs_placed_lease`).
// PostgreSQL's autovacuum clears them. Without it (PGlite has no background workers; a server may
// run with `autovacuum = off`) the dead entries pile up with history: after 20,000 trivial jobs a
// pass's read of the queued jobs visited 41,804 dead index entries and 4,500 pages for no live row
// (32 ms, every pass), and submit→running p99 grew past a second. So the leader vacuums these
// tables itself, every `vacuumEveryMs`, while the database's own autovacuum is not running. VACUUM
// skips the pages that did not change (the visibility map), so a turn costs little more than what
// changed since the last one. docs/operations.md still says to keep autovacuum on.
import { sql } from 'kysely';
import type { Store } from '../store/open-database.js';

/** Tables whose rows are updated or deleted in the course of normal work (not only inserted). */
export const CHURNING_TABLES = [
  'jobs',
  'centers',
  'pools',
  'job_charges',
  'ledger_accounts',
  'ledger_transfers',
  'transfers',
  'version_replicas',
  'endpoints',
  'endpoint_replicas',
  'product_facet_cells',
  'product_provider_cells',
  'job_logs',
] as const;

/** Whether the database vacuums by itself: PostgreSQL with `autovacuum` on; PGlite never does. */
export async function databaseVacuumsItself(store: Store): Promise<boolean> {
  if (store.kind === 'pglite') return false;
  const { rows } = await sql<{ on: string }>`SELECT current_setting('autovacuum') AS on`.execute(store.db);
  return rows[0]?.on === 'on';
}

/**
 * One maintenance turn: vacuums the churning tables (with fresh planner statistics) unless the
 * database does it itself. Returns the tables vacuumed (none when autovacuum runs).
 */
export async function vacuumChurningTables(store: Store): Promise<readonly string[]> {
  if (await databaseVacuumsItself(store)) return [];
  // VACUUM cannot run inside a transaction; each statement runs on its own (pooled) connection.
  for (const table of CHURNING_TABLES) await sql`VACUUM (ANALYZE) ${sql.table(table)}`.execute(store.db);
  return CHURNING_TABLES;
}
