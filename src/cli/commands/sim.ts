import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  compareSection,
  formatSeconds,
  isPolicyName,
  metricsTable,
  POLICIES,
  POLICY_NAMES,
  progressLine,
  renderReport,
  summarize,
  type PolicyName,
  type ReportRun,
} from '../../sim/index.js';
import { prepareTrace, runPolicy, writeFiles, type PolicyRun } from '../../sim/io/index.js';
import { parse, UsageError, type Command } from '../command.js';

const POOLED = 'pooledBound';

export const sim: Command = {
  summary: 'replay a job trace against a network with the production scheduler and compare policies',
  usage: `suanwang sim --trace FILE --policy P [options]

Replays a trace (SWF, .swf.gz, an ElasticFlow clusterNN.csv or their folder, an Alibaba pod list)
on a simulated clock, the production scheduler deciding every pass, and reports waits, completion,
slowdown, utilisation, cost, energy, carbon, bytes moved and unplaceable jobs.

  --trace FILE            the trace (required)
  --policy P              ${POLICY_NAMES.join(', ')},
                          ${POOLED} (all capacity as one center), a comma list, or all (default balanced)
  --network FILE          a network file (YAML or JSON, docs/sim-network.md), or china-hubs;
                          default: one built from the trace (one center per cluster)
  --seed N                seed of the random policy (default 1)
  --reference CHIP        the chip trace run times were measured on (default nvidia-v100)
  --input-gb N            every job reads N GB held in its home center's region (default 0)
  --min-pass-interval S   at most one scheduling pass per S simulated seconds (default 0: every event)
  --out DIR               write report.md, result.json and SVG charts there
  --json                  print one JSON object (the last line of stdout) instead of a table

A progress bar with an ETA goes to stderr when it is a terminal. docs/simulator.md explains it all.`,
  async run(argv) {
    const { values } = parse(argv, {
      trace: { type: 'string' },
      policy: { type: 'string', default: 'balanced' },
      network: { type: 'string' },
      seed: { type: 'string', default: '1' },
      reference: { type: 'string' },
      'input-gb': { type: 'string', default: '0' },
      'min-pass-interval': { type: 'string', default: '0' },
      out: { type: 'string' },
    });
    if (values.trace === undefined) throw new UsageError('--trace FILE is required (an SWF file, an ElasticFlow CSV or folder, an Alibaba pod list)');
    const policies = parsePolicies(values.policy);
    const number = (name: string, v: string, min: number): number => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}, got "${v}"`);
      return n;
    };
    const seed = number('seed', values.seed, 0);
    const inputGB = number('input-gb', values['input-gb'], 0);
    const minPassIntervalS = number('min-pass-interval', values['min-pass-interval'], 0);
    const network = values.network === undefined || values.network === 'china-hubs' ? values.network : resolve(values.network);
    const json = values.json === true;
    const tty = process.stderr.isTTY === true;

    const prepared = await prepareTrace(resolve(values.trace), network === undefined ? {} : { network });
    for (const w of prepared.warnings) process.stderr.write(`warning: ${w.field}: ${w.message}\n`);
    if (!json) {
      process.stdout.write(`${prepared.name}: ${prepared.jobs.toLocaleString('en-US')} jobs on ${prepared.model.name} (${prepared.model.centers.length} centers)\n`);
      for (const c of prepared.capacities) process.stdout.write(`  ${c.cluster}: ${c.why}\n`);
    }
    const clock = { now: () => performance.now() };
    const runs: PolicyRun[] = [];
    for (const policy of policies) {
      const t0 = performance.now();
      const run = await runPolicy(prepared, policy, clock, {
        seed,
        inputGB,
        minPassIntervalS,
        ...(values.reference === undefined ? {} : { referenceAccelerator: values.reference }),
        ...(tty ? { onProgress: (_p, fraction) => process.stderr.write(`\r${progressLine(fraction, performance.now() - t0, policy)}\x1b[K`) } : {}),
      });
      if (tty) process.stderr.write('\r\x1b[K');
      if (!json) process.stdout.write(`${policy}: ${run.result.counters.events.toLocaleString('en-US')} events in ${formatSeconds(run.seconds)}\n`);
      runs.push(run);
    }
    const reportRuns: ReportRun[] = runs.map((r) => ({ name: r.policy, summary: summarize(r.result, r.seconds), result: r.result }));
    const result = {
      trace: prepared.name,
      jobs: prepared.jobs,
      network: prepared.model.name,
      centers: prepared.model.centers.map((c) => c.id),
      policies: Object.fromEntries(reportRuns.map((r) => [r.name, r.summary])),
      unplaceable: Object.fromEntries(runs.map((r) => [r.policy, { byReason: r.result.metrics.unplaceableByReason, examples: r.result.unplaceableExamples.slice(0, 5) }])),
    };
    if (values.out !== undefined) {
      const { section, files } = compareSection('sim', prepared.name, prepared, reportRuns, { utilisationOf: runs.map((r) => r.policy) });
      const report = renderReport({
        title: `Simulation of ${prepared.name}`,
        intro: ['Policies: ' + runs.map((r) => (r.policy === POOLED ? `\`${POOLED}\` (all capacity as one center, FCFS + EASY)` : `\`${r.policy}\` (${POLICIES[r.policy].summary})`)).join('; ') + '.'],
        goals: [],
        sections: [section],
      });
      const written = writeFiles(resolve(values.out), { ...files, 'report.md': report, 'result.json': JSON.stringify(result, null, 2) + '\n' });
      if (!json) process.stdout.write(`wrote ${written.length} files under ${resolve(values.out)}\n`);
    }
    if (json) process.stdout.write(JSON.stringify(result) + '\n');
    else process.stdout.write(`\n${metricsTable(reportRuns).join('\n')}\n`);
    return 0;
  },
};

function parsePolicies(text: string): (PolicyName | typeof POOLED)[] {
  if (text === 'all') return [...POLICY_NAMES, POOLED];
  const out: (PolicyName | typeof POOLED)[] = [];
  for (const p of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (p !== POOLED && !isPolicyName(p)) throw new UsageError(`--policy: unknown policy "${p}" (known: ${POLICY_NAMES.join(', ')}, ${POOLED}, all)`);
    if (!out.includes(p as PolicyName)) out.push(p as PolicyName);
  }
  if (out.length === 0) throw new UsageError('--policy: name at least one policy');
  return out;
}
