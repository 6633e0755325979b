import { clientFor, parse, printJson, UsageError, wholeFlag, type Command } from '../command.js';
import { table, yuan } from '../format.js';
import { fenOfYuan, walletText, type WalletView } from './wallet.js';

const USAGE = `suanwang billing ACTION [options]      (admins, except statement and app-price; --json for machine output)

  top-up ORG AMOUNT [--reference REF]       paid credit (AMOUNT in yuan: 100 or 99.50); a repeated REF changes nothing
  payout (center NAME | provider ORG | operator) AMOUNT [--reference REF]
                                            pay out earnings (never more than earned and not yet paid)
  refund ORG AMOUNT [--reference REF]       give back part of an org's paid credit (not what is held)
  grant ORG AMOUNT [--priority N] [--expires ISO-TIME]   granted credit, spent before paid credit (lower priority first)
  price-book CENTER POOL --acc FEN --core FEN [--gib FEN] [--from ISO-TIME]
                                            the pool's next price version (fen per accelerator-, core-, GiB-hour)
  program create NAME --co-pay PERCENT --until ISO-TIME [--pool AMOUNT | --face AMOUNT] [--domestic]
                  [--region R ...] [--category C ...] [--cap AMOUNT] [--by-code]   a voucher program (算力券);
                                            --by-code: it pays only orgs that redeem one of its codes
  program codes NAME --count N              issue N voucher codes of a by-code program (shown once)
  app-price PRODUCT (--free | --per-run AMOUNT | --per-hour AMOUNT) --split PROVIDER/CENTER/OPERATOR
                                            an app's price and split in percent (its provider, or admins)
  budget ORG AMOUNT [--thresholds 80,100] [--stop] [--project P]   a monthly budget (UTC+8), of the org or one
                                            project: alerts at the thresholds (percent),
                                            submissions past it refused (422); --stop: stop running jobs at the limit
  statement ORG MONTH                       the org's statement for MONTH (YYYY-MM, UTC+8)`;

const FLAGS = {
  reference: { type: 'string' },
  priority: { type: 'string' },
  expires: { type: 'string' },
  acc: { type: 'string' },
  core: { type: 'string' },
  gib: { type: 'string' },
  from: { type: 'string' },
  'co-pay': { type: 'string' },
  until: { type: 'string' },
  pool: { type: 'string' },
  face: { type: 'string' },
  domestic: { type: 'boolean', default: false },
  region: { type: 'string', multiple: true },
  category: { type: 'string', multiple: true },
  cap: { type: 'string' },
  free: { type: 'boolean', default: false },
  'per-run': { type: 'string' },
  'per-hour': { type: 'string' },
  split: { type: 'string' },
  thresholds: { type: 'string' },
  stop: { type: 'boolean', default: false },
  'by-code': { type: 'boolean', default: false },
  project: { type: 'string' },
  count: { type: 'string' },
} as const;

/** "70/20/10" → basis points adding to 10,000. */
function splitOf(text: string | undefined): { providerBps: number; centerBps: number; operatorBps: number } {
  const m = text ? /^(\d{1,3})\/(\d{1,3})\/(\d{1,3})$/.exec(text) : null;
  if (!m) throw new UsageError('--split takes provider/center/operator percent, e.g. 70/20/10');
  return { providerBps: Number(m[1]) * 100, centerBps: Number(m[2]) * 100, operatorBps: Number(m[3]) * 100 };
}

export const billing: Command = {
  summary: 'administer billing: top-ups, grants, price books, voucher programs, app prices, statements',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parse(argv, FLAGS);
    const [action, ...args] = positionals;
    const want = (n: number, what: string) => {
      if (args.length !== n) throw new UsageError(`billing ${action} takes ${what}`);
    };
    const client = () => clientFor(values);
    const out = (value: unknown, text: string) => {
      if (values.json) printJson(value);
      else process.stdout.write(text + '\n');
      return 0;
    };
    switch (action === 'program' ? `program ${args.shift() ?? ''}` : (action ?? '')) {
      case 'top-up': {
        want(2, 'ORG AMOUNT');
        const w = await client().request<WalletView>('POST', '/v1/top-ups', { org: args[0], amountFen: fenOfYuan(args[1]!), ...(values.reference ? { reference: values.reference } : {}) });
        return out(w, walletText(w));
      }
      case 'payout': {
        const kind = args[0];
        const payee = kind === 'operator' ? { kind } : kind === 'center' || kind === 'provider' ? { kind, name: args[1] } : undefined;
        if (!payee || args.length !== (kind === 'operator' ? 2 : 3)) throw new UsageError('billing payout takes center NAME AMOUNT, provider ORG AMOUNT or operator AMOUNT');
        const r = await client().request<{ amount: number; balance: number; transferId: string }>('POST', '/v1/payouts', { payee, amountFen: fenOfYuan(args[args.length - 1]!), ...(values.reference ? { reference: values.reference } : {}) });
        return out(r, `paid out ${yuan(r.amount)}; ${yuan(r.balance)} left to pay (${r.transferId})`);
      }
      case 'refund': {
        want(2, 'ORG AMOUNT');
        const r = await client().request<{ amount: number; balance: number; transferId: string }>('POST', '/v1/refunds', { org: args[0], amountFen: fenOfYuan(args[1]!), ...(values.reference ? { reference: values.reference } : {}) });
        return out(r, `refunded ${yuan(r.amount)}; ${yuan(r.balance)} of paid credit left (${r.transferId})`);
      }
      case 'grant': {
        want(2, 'ORG AMOUNT');
        const w = await client().request<WalletView>('POST', '/v1/grants', {
          org: args[0],
          amountFen: fenOfYuan(args[1]!),
          ...(values.priority ? { priority: wholeFlag('priority', values.priority) } : {}),
          ...(values.expires ? { expiresAt: values.expires } : {}),
        });
        return out(w, walletText(w));
      }
      case 'price-book': {
        want(2, 'CENTER POOL');
        if (values.acc === undefined || values.core === undefined) throw new UsageError('price-book needs --acc and --core (fen per hour)');
        const r = await client().request<{ pool: string; version: number; effectiveFrom: string }>('POST', '/v1/price-books', {
          center: args[0],
          pool: args[1],
          rates: { fenPerAcceleratorHour: wholeFlag('acc', values.acc), fenPerCoreHour: wholeFlag('core', values.core), fenPerGiBHour: wholeFlag('gib', values.gib) ?? 0 },
          ...(values.from ? { effectiveFrom: values.from } : {}),
        });
        return out(r, `${r.pool}: version ${r.version} from ${r.effectiveFrom}`);
      }
      case 'program create': {
        want(1, 'NAME');
        const coPay = values['co-pay'] ? Number(values['co-pay']) : NaN;
        if (!(coPay >= 0 && coPay <= 100) || !values.until) throw new UsageError('program create needs --co-pay PERCENT (0-100) and --until ISO-TIME');
        const funding = values.face ? { kind: 'per-voucher', faceValue: fenOfYuan(values.face) } : { kind: 'pool', total: fenOfYuan(values.pool ?? '0') };
        const r = await client().request<{ id: string; name: string }>('POST', '/v1/voucher-programs', {
          name: args[0],
          funding,
          coPayBps: Math.round(coPay * 100),
          scope: { domesticOnly: values.domestic, regions: values.region ?? [], categories: values.category ?? [] },
          validUntil: values.until,
          ...(values.cap ? { orgAnnualCap: fenOfYuan(values.cap) } : {}),
          ...(values['by-code'] ? { enrolment: 'by-code' } : {}),
        });
        return out(r, `voucher program ${r.name} (${r.id})${values['by-code'] ? '; issue its codes with `suanwang billing program codes ' + r.name + ' --count N`' : ''}`);
      }
      case 'program codes': {
        want(1, 'NAME');
        const count = wholeFlag('count', values.count);
        if (count === undefined) throw new UsageError('program codes needs --count N');
        const r = await client().request<{ program: string; codes: string[] }>('POST', `/v1/voucher-programs/${encodeURIComponent(args[0]!)}/codes`, { count });
        return out(r, r.codes.join('\n'));
      }
      case 'app-price': {
        want(1, 'PRODUCT');
        const price = values.free ? { kind: 'free' } : values['per-run'] ? { kind: 'per-run', fen: fenOfYuan(values['per-run']) } : values['per-hour'] ? { kind: 'per-hour', fenPerHour: fenOfYuan(values['per-hour']) } : undefined;
        if (!price) throw new UsageError('app-price needs --free, --per-run AMOUNT or --per-hour AMOUNT');
        const r = await client().request('POST', `/v1/products/${encodeURIComponent(args[0]!)}/price`, { price, shares: splitOf(values.split) });
        return out(r, `${args[0]}: priced`);
      }
      case 'budget': {
        want(2, 'ORG AMOUNT');
        const thresholds = values.thresholds?.split(',').map((t) => wholeFlag('thresholds', t.trim())! * 100);
        const r = await client().request<{ id: string; org: string; limitFen: number }>('POST', '/v1/budgets', {
          org: args[0],
          limitFen: fenOfYuan(args[1]!),
          ...(thresholds ? { thresholdsBps: thresholds } : {}),
          onExhaustion: values.stop ? 'stop-at-limit' : 'finish',
          ...(values.project ? { project: values.project } : {}),
        });
        return out(r, `budget ${r.id}: ${yuan(r.limitFen)} a month for ${r.org}${values.project ? ` project ${values.project}` : ''}`);
      }
      case 'statement': {
        want(2, 'ORG MONTH');
        const s = await client().request<{
          org: string;
          month: string;
          jobs: { jobId: string; center: string; accelerator: string | null; product: string | null; bill: number; voucher: number; appFee: number; userPaid: number }[];
          endpoints: { endpoint: string; requests: number; tokens: number; charged: number }[];
          totals: { bills: number; vouchers: number; appFees: number; userPaid: number; credited: number; endpointCalls: number };
        }>('GET', `/v1/statements/${encodeURIComponent(args[0]!)}/${encodeURIComponent(args[1]!)}`);
        return out(
          s,
          [
            `statement of ${s.org} for ${s.month}`,
            table(['job', 'center', 'chip', 'app', 'bill', 'voucher', 'app fee', 'paid'], s.jobs.map((j) => [j.jobId, j.center, j.accelerator ?? 'cpu', j.product ?? '-', yuan(j.bill), yuan(j.voucher), yuan(j.appFee), yuan(j.userPaid)])),
            ...(s.endpoints.length > 0 ? [table(['endpoint', 'requests', 'tokens', 'charged'], s.endpoints.map((e) => [e.endpoint, String(e.requests), String(e.tokens), yuan(e.charged)]))] : []),
            `bills ${yuan(s.totals.bills)}, vouchers ${yuan(s.totals.vouchers)}, app fees ${yuan(s.totals.appFees)}, paid ${yuan(s.totals.userPaid)}, endpoint calls ${yuan(s.totals.endpointCalls)}; credited ${yuan(s.totals.credited)}`,
          ].join('\n'),
        );
      }
      default:
        throw new UsageError(`unknown billing action "${[action, ...args].join(' ')}"`);
    }
  },
};
