import { clientFor, parse, printJson, UsageError, type Command } from '../command.js';
import { table, yuan } from '../format.js';

export const vouchers: Command = {
  summary: 'voucher programs (算力券) valid now: co-pay share, scope, what your org redeemed and has left',
  usage: `suanwang vouchers [--json]

A program pays its co-pay share of an eligible bill (e.g. 30% on domestic chips) when a job is
settled, at most one program per job; the redemption is recorded with the job's usage and bill.
Admins create programs with \`suanwang billing program create\`.`,
  async run(argv) {
    const { values, positionals } = parse(argv, {});
    if (positionals.length > 0) throw new UsageError('vouchers takes no arguments');
    const r = await clientFor(values).request<{ items: { id: string; name: string; coPayBps: number; scope: unknown; validUntil: string; redeemed: number; remaining: number | null }[] }>('GET', '/v1/vouchers');
    if (values.json) printJson(r);
    else process.stdout.write(table(['program', 'co-pay', 'scope', 'valid until', 'redeemed', 'remaining'], r.items.map((v) => [v.name, `${v.coPayBps / 100}%`, JSON.stringify(v.scope), v.validUntil, yuan(v.redeemed), v.remaining === null ? '-' : yuan(v.remaining)])) + '\n');
    return 0;
  },
};
