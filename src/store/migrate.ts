import { readdirSync, readFileSync } from 'node:fs';
import type { ScriptRunner } from './open-database.js';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
// Any constant works; it only has to be the same in every control-plane process.
const MIGRATION_LOCK = 7261001;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The numbered `NNNN_name.sql` files beside this module, in order. */
export function listMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8'),
    }));
}

/**
 * Applies the migrations not yet applied, all in one transaction. Several control-plane processes
 * may start at once against one PostgreSQL: a transaction-scoped advisory lock makes them take turns,
 * and the later ones find nothing left to do. `withScriptRunner` keeps every statement on one connection.
 */
export async function migrate(withScriptRunner: ScriptRunner): Promise<number[]> {
  return withScriptRunner((run) => migrateOn(run));
}

async function migrateOn(runScript: (sql: string) => Promise<unknown[][]>): Promise<number[]> {
  const migrations = listMigrations();
  const applied: number[] = [];
  await runScript('BEGIN');
  try {
    await runScript(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK});
      CREATE TABLE IF NOT EXISTS suanwang_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const results = await runScript('SELECT version FROM suanwang_migrations');
    const done = new Set((results.at(-1) ?? []).map((row) => (row as { version: number }).version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await runScript(m.sql);
      await runScript(`INSERT INTO suanwang_migrations (version, name) VALUES (${m.version}, '${m.name}')`);
      applied.push(m.version);
    }
    await runScript('COMMIT');
  } catch (error) {
    await runScript('ROLLBACK').catch(() => {});
    throw error;
  }
  return applied;
}
