// The ledger's seeded simulation on both databases (see simulation.ts): a few thousand random
// operations checked one by one against an independent reference ledger, then every invariant.
// A failure names its seed; SUANWANG_LEDGER_SEED=<seed> replays it (SUANWANG_LEDGER_OPS sets the size).
import { describe, it } from 'node:test';
import { openStore } from '../../src/store/open-database.js';
import { testDatabases } from '../support/databases.js';
import { simulate, simulationSeed } from './simulation.js';

const SEED = simulationSeed(20261204);
const OPS = Number(process.env.SUANWANG_LEDGER_OPS ?? 4000);

for (const target of await testDatabases()) {
  describe(`ledger simulation on ${target.name}`, { skip: target.skip }, () => {
    it(`${OPS} random operations (seed ${SEED}) agree with the reference ledger and keep every invariant`, { timeout: 180_000 }, async () => {
      const { databaseUrl, drop } = await target.fresh();
      try {
        const store = await openStore({ databaseUrl });
        try {
          const report = await simulate(store, { seed: SEED, ops: OPS });
          console.log(`# ${target.name}: ${JSON.stringify(report)}`);
        } catch (error) {
          console.log(`# ledger simulation FAILED on ${target.name}: replay with SUANWANG_LEDGER_SEED=${SEED}`);
          throw error;
        } finally {
          await store.close();
        }
      } finally {
        await drop();
      }
    });
  });
}
