import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The databases every store-backed suite runs against: embedded PGlite always, and PostgreSQL when a
 * server answers at SUANWANG_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 * Without one the PostgreSQL suites are skipped and say so; with SUANWANG_REQUIRE_PG=1 (as in CI)
 * a missing server fails the run instead.
 */
export const PG_ADMIN_URL = process.env.SUANWANG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const PG_REQUIRED = process.env.SUANWANG_REQUIRE_PG === '1';

export interface TestDatabase {
  readonly name: 'pglite' | 'postgres';
  /** A skip message when this database cannot be used here; undefined when it can. */
  readonly skip: string | undefined;
  /** A fresh, empty database: its URL (undefined for in-memory PGlite) and a function that drops it. */
  fresh(): Promise<{ databaseUrl: string | undefined; drop(): Promise<void> }>;
}

let pgAvailable: Promise<string | undefined> | undefined;

/** undefined when PostgreSQL answers; otherwise why not. Throws when it is required but absent. */
async function postgresProblem(): Promise<string | undefined> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      const why = `PostgreSQL suite SKIPPED: no server at ${PG_ADMIN_URL} (${(error as Error).message}); set SUANWANG_TEST_PG_URL to run it`;
      if (PG_REQUIRED) throw new Error(`SUANWANG_REQUIRE_PG=1 but ${why}`);
      return why;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return pgAvailable;
}

/** Both databases, with PostgreSQL's availability already probed. */
export async function testDatabases(): Promise<TestDatabase[]> {
  const problem = await postgresProblem();
  if (problem) console.log(`# ${problem}`);
  return [
    { name: 'pglite', skip: undefined, fresh: async () => ({ databaseUrl: undefined, drop: async () => {} }) },
    { name: 'postgres', skip: problem, fresh: freshPostgres },
  ];
}

/** Creates a database of its own for one test (a fresh schema, no leftovers), dropped afterwards. */
async function freshPostgres(): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const name = `sw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
