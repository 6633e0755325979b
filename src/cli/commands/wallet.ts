import { clientFor, parse, printJson, UsageError, type Command } from '../command.js';
import { table, yuan } from '../format.js';

/** The wallet as GET /v1/wallet answers it. */
export interface WalletView {
  readonly org: string;
  readonly paidFen: number;
  readonly grantedFen: number;
  readonly heldFen: number;
  readonly availableFen: number;
  readonly grants: readonly { id: string; amount: number; remaining: number; priority: number; expiresAt: string | null; expired: boolean }[];
}

/** "100", "100.5", "¥1,000.25" → fen, exactly (string arithmetic, never floating point); UsageError otherwise. */
export function fenOfYuan(text: string): number {
  const m = /^¥?(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) throw new UsageError(`"${text}" is not an amount in yuan (e.g. 100, 99.50)`);
  return Number(m[1]!.replaceAll(',', '')) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}

/** The wallet as text: balances, then the grants. */
export function walletText(w: WalletView): string {
  const lines = [
    `org ${w.org}`,
    table(['credit', 'amount'], [
      ['paid', yuan(w.paidFen)],
      ['granted', yuan(w.grantedFen)],
      ['held for placed jobs', yuan(w.heldFen)],
      ['available', yuan(w.availableFen)],
    ]),
  ];
  if (w.grants.length > 0) {
    lines.push('', table(['grant', 'amount', 'remaining', 'priority', 'expires'], w.grants.map((g) => [g.id, yuan(g.amount), yuan(g.remaining), String(g.priority), g.expiresAt ? `${g.expiresAt}${g.expired ? ' (expired)' : ''}` : 'never'])));
  }
  return lines.join('\n');
}

export const wallet: Command = {
  summary: "your org's wallet: paid and granted credit, what placed jobs hold, what is available",
  usage: `suanwang wallet [--org ORG] [--json]

Paid credit (top-ups), granted credit (grants not yet expired; spent first), what placed jobs hold
(their maximum bill, released or charged when they end) and what a new job may still use. A job
whose maximum bill exceeds "available" is refused at submission (402 insufficient_funds).
--org: another org's wallet (admins).`,
  async run(argv) {
    const { values, positionals } = parse(argv, { org: { type: 'string' } });
    if (positionals.length > 0) throw new UsageError('wallet takes no arguments');
    const w = await clientFor(values).request<WalletView>('GET', `/v1/wallet${values.org ? `?org=${encodeURIComponent(values.org)}` : ''}`);
    if (values.json) printJson(w);
    else process.stdout.write(walletText(w) + '\n');
    return 0;
  },
};
