import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fen } from '../../core/money.js';
import { insertOrg } from '../../store/accounts.js';
import { insertRedemption, insertVoucherProgram } from '../../store/billing.js';
import { openStore } from '../../store/open-database.js';
import { vouchersFor } from './reports.js';

describe('vouchersFor', () => {
  it('counts an org against a program’s annual cap by calendar year (in the program’s time zone), its face value over all time', { timeout: 60_000 }, async () => {
    const store = await openStore({ databaseUrl: undefined });
    try {
      const at = new Date(Date.parse('2025-01-01T00:00:00Z'));
      await insertOrg(store.db, { id: 'org_a', name: 'acme', at });
      await insertVoucherProgram(
        store.db,
        {
          id: 'prog_1',
          name: 'Compute voucher',
          funding: { kind: 'per-voucher', faceValue: fen(10_000) },
          coPayBps: 3000,
          coPayBpsByCategory: {},
          scope: { domesticOnly: false, categories: [], regions: [], centers: [] },
          validFrom: Date.parse('2025-01-01T00:00:00+08:00'),
          validUntil: Date.parse('2028-01-01T00:00:00+08:00'),
          orgAnnualCap: fen(1_000),
          utcOffsetHours: 8,
      enrolment: 'open',
        },
        at,
      );
      // 600 redeemed late in 2025 (Beijing time), 300 in 2026.
      await insertRedemption(store.db, { id: 'r1', programId: 'prog_1', orgId: 'org_a', jobId: 'job_1', amount: fen(600), at: Date.parse('2025-12-31T23:00:00+08:00'), evidence: {} });
      await insertRedemption(store.db, { id: 'r2', programId: 'prog_1', orgId: 'org_a', jobId: 'job_2', amount: fen(300), at: Date.parse('2026-03-01T00:00:00+08:00'), evidence: {} });
      const [view] = await vouchersFor(store.db, 'org_a', Date.parse('2026-06-01T00:00:00+08:00'));
      assert.equal(view!.redeemed, 900, 'redeemed over all time');
      assert.equal(view!.remaining, 700, 'the 2026 cap has 1,000 − 300 left (the face value has 9,100)');
    } finally {
      await store.close();
    }
  });
});
