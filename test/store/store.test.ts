// The store contract on every database: embedded PGlite always, PostgreSQL when a server answers
// (otherwise its suite shows as skipped, with the reason).
import { describe } from 'node:test';
import { testDatabases } from '../support/databases.js';
import { storeContract } from './store-contract.js';

for (const db of await testDatabases()) {
  describe(db.name, { skip: db.skip }, () => storeContract(db));
}
