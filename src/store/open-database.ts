import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { PGliteDialect } from './pglite-dialect.js';
import { migrate } from './migrate.js';
import { openDedicatedConnection, type DedicatedConnection } from './dedicated-connection.js';

/** An open store: Kysely for queries, plus what the migrator and tests need underneath. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly kind: 'pglite' | 'postgres';
  /** Where it lives: a data folder, ':memory:', or the PostgreSQL URL without its password. */
  readonly location: string;
  /**
   * A connection of its own outside the pool (PostgreSQL only: session advisory locks, LISTEN);
   * undefined on PGlite, which is one connection in one process anyway.
   */
  readonly dedicated?: (() => Promise<DedicatedConnection>) | undefined;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** A PostgreSQL URL (`postgres://…`); when absent, embedded PGlite is used. */
  readonly databaseUrl?: string | undefined;
  /** PGlite's data folder; omitted or ':memory:' keeps it in memory (tests). */
  readonly dataDir?: string | undefined;
  /** Apply pending migrations (default true). */
  readonly migrate?: boolean;
}

// bigint columns (counts, fen, byte offsets) stay far below 2^53: read them as numbers.
const INT8_OID = 20;
const parseInt8 = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${value} is beyond a safe JavaScript number`);
  return n;
};

/** Opens PostgreSQL when `databaseUrl` is given, PGlite otherwise, and applies migrations. */
export async function openStore(options: OpenOptions = {}): Promise<Store> {
  const store = options.databaseUrl ? await openPostgres(options.databaseUrl) : await openPGlite(options.dataDir);
  if (options.migrate !== false) {
    try {
      await migrate(store.withScriptRunner);
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

/** Runs multi-statement SQL; every call given to one `fn` goes to the same connection. */
export type ScriptRunner = <T>(fn: (run: (sql: string) => Promise<unknown[][]>) => Promise<T>) => Promise<T>;

/** A store with its script runner, as the migrator needs it. */
export type ScriptStore = Store & { readonly withScriptRunner: ScriptRunner };

async function openPGlite(dataDir: string | undefined): Promise<ScriptStore> {
  const inMemory = dataDir === undefined || dataDir === ':memory:';
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(inMemory ? undefined : dataDir, { parsers: { [INT8_OID]: parseInt8 }, extensions: { pg_trgm } });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    location: inMemory ? ':memory:' : dataDir,
    // PGlite is one connection already; the Kysely driver is idle while the store opens.
    withScriptRunner: (fn) => fn(async (sql) => (await pglite.exec(sql)).map((r) => r.rows as unknown[])),
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}

async function openPostgres(url: string): Promise<ScriptStore> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that dies (server restart, terminated backend, a database dropped WITH FORCE)
  // is already dropped by the pool, and the next query opens another; unheard, the pool's 'error'
  // event would crash the process.
  pool.on('error', () => {});
  // Fail now with a clear message rather than on the first query.
  const client = await pool.connect().catch(async (error: Error) => {
    await pool.end();
    throw new Error(`cannot connect to PostgreSQL at ${redact(url)}: ${error.message}`);
  });
  client.release();
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    location: redact(url),
    dedicated: () => openDedicatedConnection(url),
    withScriptRunner: async (fn) => {
      // One dedicated connection for the whole script run, so BEGIN … COMMIT stays on it.
      const c = await pool.connect();
      try {
        return await fn(async (sql) => {
          const result = (await c.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
          return (Array.isArray(result) ? result : [result]).map((r) => r.rows as unknown[]);
        });
      } finally {
        c.release();
      }
    },
    close: async () => {
      await db.destroy(); // ends the pool too, once Kysely has run a query
      // Kysely's destroy() skips a driver it never initialized: end the pool ourselves then.
      if (!pool.ended) await pool.end();
    },
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
