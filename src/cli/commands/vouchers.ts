import { clientFor, parse, printJson, UsageError, type Command } from '../command.js';
import { table, yuan } from '../format.js';

export const vouchers: Command = {
  summary: 'voucher programs (算力券) valid now: co-pay share, scope, what your org redeemed and has left',
  usage: `suanwang vouchers [--json]
       suanwang vouchers redeem CODE [--json]

A program pays its co-pay share of an eligible bill (e.g. 30% on domestic chips) when a job is
settled, at most one program per job; the redemption is recorded with the job's usage and bill.
Some programs pay only orgs that redeemed one of their codes (算力券 handed to approved applicants):
\`vouchers redeem CODE\` enrols your org; the list shows the programs that pay your org.
Admins create programs with \`suanwang billing program create\`.`,
  async run(argv) {
    const { values, positionals } = parse(argv, {});
    if (positionals[0] === 'redeem') {
      if (positionals.length !== 2) throw new UsageError('usage: suanwang vouchers redeem CODE');
      const r = await clientFor(values).request<{ program: string; coPayBps: number; validUntil: string }>('POST', '/v1/vouchers/redeem', { code: positionals[1] });
      if (values.json) printJson(r);
      else process.stdout.write(`redeemed: ${r.program} now pays ${r.coPayBps / 100}% of your org's eligible bills until ${r.validUntil}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`vouchers takes no arguments, or redeem CODE; got "${positionals.join(' ')}"`);
    const r = await clientFor(values).request<{ items: { id: string; name: string; coPayBps: number; scope: unknown; validUntil: string; redeemed: number; remaining: number | null }[] }>('GET', '/v1/vouchers');
    if (values.json) printJson(r);
    else process.stdout.write(table(['program', 'co-pay', 'scope', 'valid until', 'redeemed', 'remaining'], r.items.map((v) => [v.name, `${v.coPayBps / 100}%`, JSON.stringify(v.scope), v.validUntil, yuan(v.redeemed), v.remaining === null ? '-' : yuan(v.remaining)])) + '\n');
    return 0;
  },
};
