import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../command.js';
import { renderCharges } from './charges.js';
import { usageCsv } from './usage.js';
import { fenOfYuan, walletText } from './wallet.js';

describe('billing CLI helpers', { timeout: 5_000 }, () => {
  it('reads yuan amounts exactly into fen, and refuses anything else', () => {
    assert.equal(fenOfYuan('100'), 10_000);
    assert.equal(fenOfYuan('99.5'), 9_950);
    assert.equal(fenOfYuan('¥1,000.25'), 100_025);
    assert.equal(fenOfYuan('0.07'), 7);
    for (const bad of ['', '1.234', '-5', '1e3', 'ten', '1,00']) assert.throws(() => fenOfYuan(bad), UsageError, bad);
  });
  it('prints the wallet, usage as CSV and the BILLING section of show', () => {
    const text = walletText({ org: 'acme', paidFen: 9_370, grantedFen: 100, heldFen: 500, availableFen: 8_970, grants: [{ id: 'g1', amount: 200, remaining: 100, priority: 1, expiresAt: null, expired: false }] });
    assert.match(text, /available\s+¥89\.70/);
    assert.match(text, /g1\s+¥2\.00\s+¥1\.00\s+1\s+never/);
    assert.equal(usageCsv('chip', [{ key: 'a,b', jobs: 1, acceleratorHours: 0.5, billingUnitHours: 0, bill: 250, voucher: 0, appFee: 0, userPaid: 250 }]), 'chip,jobs,accelerator_hours,billing_unit_hours,bill_fen,voucher_fen,app_fee_fen,user_paid_fen\n"a,b",1,0.5,0,250,0,0,250\n');
    assert.equal(renderCharges([]), '');
    const shown = renderCharges([{ attempt: 1, state: 'settled', computeHold: 600, appFeeHold: 0, outcome: 'succeeded', bill: 300, voucher: 90, appFee: 0, userPaid: 210 }]);
    assert.match(shown, /BILLING/);
    assert.match(shown, /1\s+succeeded\s+¥6\.00\s+¥3\.00\s+¥0\.90\s+¥0\.00\s+¥2\.10/);
  });
});
