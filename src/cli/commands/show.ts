import type { ExplanationResource, JobDetailResource } from '../../api/client/schemas.js';
import { clientFor, parse, printJson, UsageError, type Command } from '../command.js';
import { duration, table, yuan } from '../format.js';
import { jobCharges, renderCharges } from './charges.js';

export const show: Command = {
  summary: 'show a job: where it runs and why, and what happened to it',
  usage: 'suanwang show JOB_ID [--json]',
  async run(argv) {
    const { values, positionals } = parse(argv, {});
    const id = positionals[0];
    if (!id) throw new UsageError('which job? give its id');
    const client = clientFor(values);
    const detail = await client.job(id);
    const charges = await jobCharges(client, id); // billing: price, voucher share, what the user pays
    if (values.json) printJson(charges.length > 0 ? { ...detail, charges } : detail);
    else process.stdout.write(renderJob(detail) + renderCharges(charges));
    return 0;
  },
};

/** The job as a person reads it: a header, the placement decision as a table, then its history. */
export function renderJob(d: JobDetailResource): string {
  const j = d.job;
  const out: string[] = [];
  out.push(`${j.id}  ${j.name}  ${j.state.toUpperCase()}${j.exitCode !== null ? ` (exit ${j.exitCode})` : ''}`);
  if (j.reason) out.push(`  reason:    ${j.reason}`);
  out.push(`  command:   ${j.command.map((a) => (/[\s"'$]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  out.push(
    `  asks:      ${j.nodes} node(s) × ${j.acceleratorsPerNode} accelerator(s), ${j.coresPerNode} core(s), ${j.memoryMiBPerNode} MiB; walltime ${duration(j.walltimeSeconds)}; ${objectiveText(j.objective)}` +
      (j.accelerators.length ? `; only ${j.accelerators.join(', ')}` : ''),
  );
  const limits = [
    j.runtimeSeconds !== null ? `runtime ${duration(j.runtimeSeconds)} on ${j.referenceAccelerator ?? 'the reference chip'}` : '',
    j.deadline ? `deadline ${j.deadline.replace('T', ' ').slice(0, 16)}` : '',
    j.budgetFen !== null ? `budget ${yuan(j.budgetFen)}` : '',
    j.regions.length ? `regions ${j.regions.join(', ')}` : '',
    j.forbidAccelerators.length ? `never ${j.forbidAccelerators.join(', ')}` : '',
    j.inputs.length ? `inputs ${j.inputs.join(', ')}` : '',
  ].filter(Boolean);
  if (limits.length) out.push(`  limits:    ${limits.join('; ')}`);
  if (j.outputs?.length) {
    const when = j.state === 'succeeded' ? 'registered: see EVENTS' : j.state === 'failed' || j.state === 'cancelled' ? 'nothing registered' : 'registered if it succeeds';
    out.push(`  outputs:   ${j.outputs.map((o) => `${o.dir}/ → dataset ${o.dataset}`).join('; ')}  (${when})`);
  }
  out.push(`  where:     ${j.center ? `${j.center}/${j.pool}` : '-'}   attempt ${j.attempt} of ${j.maxAttempts}`);
  out.push(`  owner:     ${j.user} (${j.org})`);
  const last = d.placements.at(-1);
  const explanation = j.waiting ?? last?.explanation;
  if (explanation) {
    out.push('', j.waiting ? 'WHY IT WAITS' : `WHY ${last!.center}/${last!.pool}`, `  ${explanation.summary}`);
    out.push(indent(optionsTable(explanation)));
  }
  out.push('', 'EVENTS');
  out.push(indent(table(['time', 'attempt', 'event'], d.events.map((e) => [e.at.replace('T', ' ').slice(0, 19), String(e.attempt), e.message])))); 
  return out.join('\n') + '\n';
}

/** The chosen option, the alternatives and the infeasible ones, one row each. */
export function optionsTable(e: ExplanationResource): string {
  const rows: string[][] = [];
  const opt = (mark: string, o: NonNullable<ExplanationResource['chosen']>) => [
    mark,
    `${o.centerName}/${o.poolName}`,
    o.accelerator ?? 'cpu',
    duration(o.runSeconds),
    yuan(o.costFen),
    `${o.energyKwh.toFixed(2)} kWh`,
    `${o.carbonKg.toFixed(2)} kg`,
    '',
  ];
  if (e.chosen) rows.push(opt('✓', e.chosen));
  for (const a of e.alternatives) rows.push(opt(' ', a));
  for (const i of e.infeasible) rows.push(['✗', `${i.centerName}${i.poolName ? '/' + i.poolName : ''}`, '', '', '', '', '', `${i.reason}: ${i.detail}`]);
  return table(['', 'option', 'chip', 'run', 'cost', 'energy', 'carbon', 'why not'], rows);
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function objectiveText(o: JobDetailResource['job']['objective']): string {
  return typeof o === 'string' ? o : `weights cost ${o.weights.cost}, time ${o.weights.time}, carbon ${o.weights.carbon}`;
}
