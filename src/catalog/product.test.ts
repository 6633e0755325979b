import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionsFrom, applyAction, canTransition, describePrice, isEditable, isRunnableCategory, PRODUCT_CATEGORIES, PRODUCT_STATUSES, providerCharge, type ProductStatus } from './product.js';

describe('product status machine', () => {
  const ALLOWED: readonly [ProductStatus, ProductStatus][] = [
    ['draft', 'in-review'],
    ['in-review', 'listed'],
    ['in-review', 'draft'],
    ['listed', 'delisted'],
    ['delisted', 'listed'],
  ];
  it('allows exactly the five transitions of the machine', () => {
    for (const from of PRODUCT_STATUSES) {
      for (const to of PRODUCT_STATUSES) {
        const expected = ALLOWED.some(([f, t]) => f === from && t === to);
        assert.equal(canTransition(from, to), expected, `${from} → ${to}`);
      }
    }
  });
  it('applies actions and explains the ones that do not apply', () => {
    assert.deepEqual(applyAction('draft', 'submit'), { ok: true, status: 'in-review' });
    assert.deepEqual(applyAction('in-review', 'reject'), { ok: true, status: 'draft' });
    assert.deepEqual(applyAction('delisted', 'relist'), { ok: true, status: 'listed' });
    const bad = applyAction('listed', 'approve');
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.message === 'cannot approve: the version is listed, and only a version that is in-review can be approved');
    assert.ok(!bad.ok && bad.hint === 'from listed you can: delist');
    assert.deepEqual(actionsFrom('in-review'), ['approve', 'reject']);
  });
  it('lets only drafts change', () => {
    assert.deepEqual(PRODUCT_STATUSES.filter(isEditable), ['draft']);
  });
});

describe('categories and price terms', () => {
  it('has the seven categories, three of them runnable', () => {
    assert.equal(PRODUCT_CATEGORIES.length, 7);
    assert.deepEqual(PRODUCT_CATEGORIES.filter(isRunnableCategory), ['software', 'model', 'code']);
  });
  it('charges in whole fen', () => {
    assert.equal(providerCharge({ kind: 'free' }, 3), 0);
    assert.equal(providerCharge({ kind: 'per-run', fen: 120 }, 3), 120);
    assert.equal(providerCharge({ kind: 'per-hour', fenPerHour: 50 }, 1.5), 75);
    assert.equal(providerCharge({ kind: 'per-hour', fenPerHour: 50 }, 0.01), 1); // 0.5 fen rounds half up
    assert.equal(describePrice({ kind: 'per-hour', fenPerHour: 50 }), '¥0.50 per hour');
    assert.equal(describePrice({ kind: 'per-run', fen: 100 }), '¥1.00 per run');
  });
});
