import type { SuanwangClient } from '../../api/client/client.js';
import { table, yuan } from '../format.js';

/** One attempt's charge as GET /v1/jobs/:id/charges answers it. */
export interface ChargeView {
  readonly attempt: number;
  readonly state: 'held' | 'settled';
  readonly computeHold: number;
  readonly appFeeHold: number;
  readonly outcome: string | null;
  readonly bill: number;
  readonly voucher: number;
  readonly appFee: number;
  readonly userPaid: number;
}

/** The job's charges (empty when billing never touched it, or the server predates billing). */
export async function jobCharges(client: SuanwangClient, jobId: string): Promise<ChargeView[]> {
  try {
    return (await client.request<{ items: ChargeView[] }>('GET', `/v1/jobs/${encodeURIComponent(jobId)}/charges`)).items;
  } catch {
    return [];
  }
}

/** The BILLING section of `show`: per attempt, what was held, the price, the voucher share and what the user pays. */
export function renderCharges(charges: readonly ChargeView[]): string {
  if (charges.length === 0) return '';
  const rows = charges.map((c) =>
    c.state === 'held'
      ? [String(c.attempt), 'held', yuan(c.computeHold + c.appFeeHold), '-', '-', '-', '-']
      : [String(c.attempt), c.outcome ?? '', yuan(c.computeHold + c.appFeeHold), yuan(c.bill), yuan(c.voucher), yuan(c.appFee), yuan(c.userPaid)],
  );
  return ['', 'BILLING', table(['attempt', 'outcome', 'held', 'price', 'voucher', 'app fee', 'you pay'], rows).replace(/^/gm, '  ')].join('\n') + '\n';
}
