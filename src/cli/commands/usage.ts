import { clientFor, parse, printJson, UsageError, type Command } from '../command.js';
import { table, yuan } from '../format.js';

const GROUPS = ['period', 'center', 'chip', 'user', 'project'] as const;

interface UsageRow {
  readonly key: string;
  readonly jobs: number;
  readonly acceleratorHours: number;
  readonly billingUnitHours: number;
  readonly bill: number;
  readonly voucher: number;
  readonly appFee: number;
  readonly userPaid: number;
}

/** The rows as CSV, the same columns as GET /v1/usage?format=csv (amounts in fen). */
export function usageCsv(by: string, rows: readonly UsageRow[]): string {
  const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return [`${by},jobs,accelerator_hours,billing_unit_hours,bill_fen,voucher_fen,app_fee_fen,user_paid_fen`, ...rows.map((r) => [esc(r.key), r.jobs, r.acceleratorHours, r.billingUnitHours, r.bill, r.voucher, r.appFee, r.userPaid].join(','))].join('\n') + '\n';
}

export const usage: Command = {
  summary: 'settled usage and charges, like sreport: by period, center, chip, user or project',
  usage: `suanwang usage [--by period|center|chip|user|project] [--from TIME] [--to TIME] [--json|--csv] [--all]

Jobs settled in [from, to) (default: this month, UTC+8), grouped: jobs, accelerator-hours, billing
unit-hours, the bill, the voucher share, app fees and what your org paid. TIME is ISO 8601
(2026-06-01T00:00:00+08:00). --all: every org (admins).`,
  async run(argv) {
    const { values, positionals } = parse(argv, { by: { type: 'string', default: 'center' }, from: { type: 'string' }, to: { type: 'string' }, csv: { type: 'boolean', default: false }, all: { type: 'boolean', default: false } });
    if (positionals.length > 0) throw new UsageError('usage takes no arguments');
    if (!(GROUPS as readonly string[]).includes(values.by!)) throw new UsageError(`--by takes one of ${GROUPS.join(', ')}`);
    const q = new URLSearchParams({ by: values.by! });
    if (values.from) q.set('from', values.from);
    if (values.to) q.set('to', values.to);
    if (values.all) q.set('all', 'true');
    const r = await clientFor(values).request<{ by: string; from: string; to: string; rows: UsageRow[] }>('GET', `/v1/usage?${q}`);
    if (values.json) printJson(r);
    else if (values.csv) process.stdout.write(usageCsv(r.by, r.rows));
    else {
      process.stdout.write(`${r.from} — ${r.to}\n`);
      process.stdout.write(table([r.by, 'jobs', 'acc-hours', 'bill', 'voucher', 'app fees', 'paid'], r.rows.map((x) => [x.key, String(x.jobs), String(x.acceleratorHours), yuan(x.bill), yuan(x.voucher), yuan(x.appFee), yuan(x.userPaid)])) + '\n');
    }
    return 0;
  },
};
