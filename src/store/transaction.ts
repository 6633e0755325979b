import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** Either the database or an open transaction: repository functions take this and work in both. */
export type Queryable = Kysely<Database> | Transaction<Database>;

/** Runs `fn` in a transaction (committed when it resolves, rolled back when it throws). */
export function inTransaction<T>(db: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(fn);
}
