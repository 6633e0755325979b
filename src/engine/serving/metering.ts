// Endpoint calls into the ledger (billing on): each pass of the leader's serving controller charges
// every priced endpoint whose counters are ahead of what was charged, in one transaction for the
// whole pass. A charge is a linked chain: the org's granted credit, then its paid credit, to the
// provider's earnings, then the operator's fee from the provider's earnings; the endpoint's billed
// counters move in the same transaction, and the transfers' ids name the counters they start
// from, so a retried or repeated pass (a restart, a second leader) never charges twice and a
// failed one loses nothing. Usage the wallet cannot cover is left unbilled until it can; the
// gateway refuses the org's calls meanwhile (402).
import { SuanwangError } from '../../core/errors.js';
import type { TransferInput } from '../../ledger/index.js';
import { isPriced, servingCharge, servingPayment, type ServingPrice } from '../../ledger/serving.js';
import { insertEndpointCharges, markBilled, unbilledEndpoints, type EndpointChargeRow, type EndpointRow } from '../../store/endpoints.js';
import { inTransaction } from '../../store/transaction.js';
import type { Queryable } from '../../store/transaction.js';
import { applied, OPERATOR_FEES, orgGranted, orgPaid, providerEarnings, transfer } from '../billing/accounts.js';
import { walletOf, yuan } from '../billing/wallet.js';
import type { EngineContext } from '../context.js';

export const priceOf = (row: Pick<EndpointRow, 'fen_per_request' | 'fen_per_1k_tokens'>): ServingPrice => ({ fenPerRequest: row.fen_per_request, fenPer1kTokens: row.fen_per_1k_tokens });

/** The billable reading of an endpoint's counters: answered requests (failed ones are free) and tokens. */
export const billableOf = (row: Pick<EndpointRow, 'requests' | 'failed_requests' | 'tokens'>) => ({ requests: row.requests - row.failed_requests, tokens: row.tokens });

/** What an endpoint's metered calls cost that the ledger has not charged yet. */
export function unbilledFen(row: EndpointRow): number {
  return servingCharge(priceOf(row), { requests: row.billed_requests, tokens: row.billed_tokens }, billableOf(row));
}

/** Charges every priced endpoint's unbilled calls in one transaction; returns the charges made. */
export async function chargeEndpoints(ctx: EngineContext): Promise<EndpointChargeRow[]> {
  if (ctx.config.billing !== 'on') return [];
  const now = ctx.now();
  return inTransaction(ctx.store.db, async (trx) => {
    const rows = (await unbilledEndpoints(trx)).filter((r) => r.provider_org_id !== null && isPriced(priceOf(r)));
    const credit = new Map<string, { granted: number; paid: number }>();
    const batch: TransferInput[] = [];
    const accounts = new Set<string>();
    const planned: { row: EndpointRow; charge: EndpointChargeRow; from: number; to: number }[] = [];
    for (const row of rows) {
      const from = { requests: row.billed_requests, tokens: row.billed_tokens };
      const to = billableOf(row);
      const amount = servingCharge(priceOf(row), from, to);
      if (amount === 0) {
        await markBilled(trx, row.id, from, to); // usage below a fen so far: nothing to charge yet, keep the reading
        continue;
      }
      let left = credit.get(row.org_id);
      if (!left) {
        const w = await walletOf(trx, row.org_id, now.getTime());
        const granted = Math.max(0, w.granted - w.heldGranted);
        left = { granted, paid: Math.max(0, w.available - granted) };
        credit.set(row.org_id, left);
      }
      const pay = servingPayment(amount, left.granted, left.paid, ctx.config.operatorFeeBps);
      if (!pay) continue; // not covered: left unbilled, the gateway refuses calls until it is
      left.granted -= pay.fromGranted;
      left.paid -= pay.fromPaid;
      const id = `serve:${row.id}:${from.requests}:${from.tokens}`;
      const provider = providerEarnings(row.provider_org_id!);
      const chain: TransferInput[] = [];
      if (pay.fromGranted > 0) chain.push({ id: `${id}:granted`, debitAccountId: orgGranted(row.org_id), creditAccountId: provider, amount: pay.fromGranted, code: 'serving', userData: row.id });
      if (pay.fromPaid > 0) chain.push({ id: `${id}:paid`, debitAccountId: orgPaid(row.org_id), creditAccountId: provider, amount: pay.fromPaid, code: 'serving', userData: row.id });
      if (pay.operatorFee > 0) chain.push({ id: `${id}:fee`, debitAccountId: provider, creditAccountId: OPERATOR_FEES, amount: pay.operatorFee, code: 'serving', userData: row.id });
      const start = batch.length;
      chain.forEach((t, i) => batch.push(i < chain.length - 1 ? { ...t, flags: { linked: true } } : t));
      for (const t of chain) accounts.add(t.debitAccountId!).add(t.creditAccountId!);
      planned.push({
        row,
        from: start,
        to: batch.length,
        charge: {
          id,
          endpoint_id: row.id,
          endpoint_name: row.name,
          org_id: row.org_id,
          provider_org_id: row.provider_org_id!,
          requests: to.requests - from.requests,
          tokens: to.tokens - from.tokens,
          amount,
          from_granted: pay.fromGranted,
          from_paid: pay.fromPaid,
          operator_fee: pay.operatorFee,
          charged_at: now,
        },
      });
    }
    if (batch.length === 0) return [];
    const results = await transfer(trx, now, batch, [...accounts]);
    const charged: EndpointChargeRow[] = [];
    for (const p of planned) {
      // A chain that did not apply (credit spent meanwhile by a placement) stays unbilled for the next pass.
      if (!results.slice(p.from, p.to).every(applied)) continue;
      const to = billableOf(p.row);
      if (!(await markBilled(trx, p.row.id, { requests: p.row.billed_requests, tokens: p.row.billed_tokens }, to))) {
        throw new Error(`endpoint ${p.row.id} was charged by another process meanwhile`); // rolls the pass back
      }
      charged.push(p.charge);
    }
    await insertEndpointCharges(trx, charged);
    return charged;
  });
}

/**
 * Orgs whose calls the gateway refuses now (billing on): those with a priced endpoint whose
 * unbilled calls are not less than the wallet's available credit (nothing left for the next call).
 * The refusal is the 402 the gateway answers.
 */
export async function refusedOrgs(ctx: EngineContext, q: Queryable, endpoints: readonly EndpointRow[]): Promise<Map<string, SuanwangError>> {
  const refused = new Map<string, SuanwangError>();
  if (ctx.config.billing !== 'on') return refused;
  const owed = new Map<string, number>();
  for (const e of endpoints) if (isPriced(priceOf(e))) owed.set(e.org_id, (owed.get(e.org_id) ?? 0) + unbilledFen(e));
  for (const [orgId, unbilled] of owed) {
    const w = await walletOf(q, orgId, ctx.clock.now());
    if (w.available > unbilled) continue;
    refused.set(
      orgId,
      new SuanwangError('insufficient_funds', `calls to this endpoint are charged, but the wallet has ${yuan(w.available)} available (${yuan(w.paid)} paid, ${yuan(w.granted)} granted, ${yuan(w.held)} held) and ${yuan(unbilled)} of calls are not charged yet`, {
        field: 'wallet',
        hint: 'see `suanwang wallet`; ask an admin to top up the wallet or grant credit',
      }),
    );
  }
  return refused;
}

