import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { servingCharge, servingPayment, servingTotal } from './serving.js';

describe('serving charges', () => {
  it('charges per request and per 1,000 tokens, tokens rounded down once', () => {
    assert.equal(servingTotal({ fenPerRequest: 2, fenPer1kTokens: 5 }, { requests: 9, tokens: 900 }), 22);
    assert.equal(servingCharge({ fenPerRequest: 2, fenPer1kTokens: 5 }, { requests: 9, tokens: 900 }, { requests: 9, tokens: 1000 }), 1);
    assert.throws(() => servingCharge({ fenPerRequest: 1, fenPer1kTokens: 1 }, { requests: 2, tokens: 0 }, { requests: 1, tokens: 0 }), /went back/);
  });

  it('however usage is cut into passes, the charges add up to the price of the total', () => {
    fc.assert(
      fc.property(
        fc.record({ fenPerRequest: fc.nat(1000), fenPer1kTokens: fc.nat(1000) }),
        fc.array(fc.record({ requests: fc.nat(50), tokens: fc.nat(5000) }), { maxLength: 30 }),
        (price, passes) => {
          let at = { requests: 0, tokens: 0 };
          let charged = 0;
          for (const p of passes) {
            const next = { requests: at.requests + p.requests, tokens: at.tokens + p.tokens };
            const c = servingCharge(price, at, next);
            assert.ok(Number.isSafeInteger(c) && c >= 0);
            charged += c;
            at = next;
          }
          assert.equal(charged, at.requests * price.fenPerRequest + Math.floor((at.tokens * price.fenPer1kTokens) / 1000));
        },
      ),
    );
  });

  it('pays from granted credit first, refuses what the two do not cover, and splits the fee exactly', () => {
    assert.deepEqual(servingPayment(22 as never, 10, 100, 1000), { fromGranted: 10, fromPaid: 12, operatorFee: 2, provider: 20 });
    assert.equal(servingPayment(22 as never, 10, 11, 1000), null);
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.nat(1_000_000), fc.nat(1_000_000), fc.nat(10_000), (amount, granted, paid, bps) => {
        const p = servingPayment(amount as never, granted, paid, bps);
        if (amount > granted + paid) return assert.equal(p, null);
        assert.ok(p);
        assert.equal(p.fromGranted + p.fromPaid, amount);
        assert.equal(p.fromGranted, Math.min(amount, granted));
        assert.equal(p.operatorFee + p.provider, amount);
      }),
    );
  });
});
