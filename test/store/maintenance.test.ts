// The leader's vacuum of the tables that churn (src/engine/maintenance.ts), on both databases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openStore } from '../../src/store/open-database.js';
import { CHURNING_TABLES, databaseVacuumsItself, vacuumChurningTables } from '../../src/engine/maintenance.js';
import { testDatabases } from '../support/databases.js';

for (const database of await testDatabases()) {
  describe(`maintenance on ${database.name}`, { skip: database.skip, timeout: 120_000 }, () => {
    it('vacuums every churning table when the database does not, and nothing when its autovacuum runs', async () => {
      const { databaseUrl, drop } = await database.fresh();
      const store = await openStore(databaseUrl ? { databaseUrl } : {});
      try {
        const vacuumsItself = await databaseVacuumsItself(store);
        if (database.name === 'pglite') assert.equal(vacuumsItself, false, 'PGlite has no autovacuum worker');
        const tables = await vacuumChurningTables(store);
        if (vacuumsItself) {
          assert.deepEqual(tables, [], 'autovacuum on: the control loop leaves it to the database');
          return;
        }
        assert.deepEqual(tables, CHURNING_TABLES);
        // Each table's last vacuum is recorded by the database (so every name is a real table too).
        await sql`SELECT pg_stat_clear_snapshot()`.execute(store.db);
        const { rows } = await sql<{ relname: string; vacuumed: boolean }>`
          SELECT relname, (last_vacuum IS NOT NULL) AS vacuumed FROM pg_stat_user_tables WHERE relname IN (${sql.join(CHURNING_TABLES)})`.execute(store.db);
        assert.deepEqual(
          rows.filter((r) => r.vacuumed).map((r) => r.relname).sort(),
          [...CHURNING_TABLES].sort(),
        );
      } finally {
        await store.close();
        await drop();
      }
    });
  });
}
