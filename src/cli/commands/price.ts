import type { SuanwangClient } from '../../api/client/client.js';
import type { JobSubmissionInput } from '../../api/client/schemas.js';
import { table, yuan } from '../format.js';

interface PoolPrice {
  readonly center: string;
  readonly pool: string;
  readonly accelerator: string | null;
  readonly fenPerAcceleratorHour: number;
  readonly maxBill: number;
  readonly voucherShare: number;
  readonly voucherProgram: string | null;
  readonly appFeeAtMost?: number;
  readonly youPayAtMost: number;
}

/** The PRICE section of `quote`: per pool, the most the walltime costs, the voucher share, what you pay at most. */
export async function priceText(client: SuanwangClient, job: JobSubmissionInput): Promise<string> {
  let r: { billing: 'off' | 'on'; pools: PoolPrice[] };
  try {
    r = await client.request('POST', '/v1/price-quote', job);
  } catch {
    return ''; // a server without billing: the quote above is all there is
  }
  if (r.pools.length === 0) return '';
  const rows = r.pools.map((p) => [`${p.center}/${p.pool}`, p.accelerator ?? 'cpu', `${yuan(p.fenPerAcceleratorHour)}/acc-h`, yuan(p.maxBill), p.voucherShare > 0 ? `${yuan(p.voucherShare)} (${p.voucherProgram})` : '-', yuan(p.youPayAtMost)]);
  const note = r.billing === 'on' ? 'held at placement, charged for the time used' : 'billing is off on this network: nothing is charged';
  return `\nPRICE (walltime at most; ${note})\n${table(['pool', 'chip', 'rate', 'price', 'voucher', 'you pay'], rows).replace(/^/gm, '  ')}\n`;
}
