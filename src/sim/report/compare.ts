/*
 * One trace's comparison as a report section and its chart files: what `suanwang sim --out` and
 * `npm run bench:sim` both write.
 */
import type { NetworkModel } from '../network-model.js';
import type { CapacityChoice } from '../networks/trace-network.js';
import type { ReadReport, TraceHeader } from '../trace/types.js';
import { describeReport } from '../trace/types.js';
import { perPolicyBars, utilisationChart, waitCdfChart } from './charts.js';
import type { ReportRun, TraceSection } from './markdown.js';

/** What a comparison needs to know about the trace it replayed. */
export interface TraceFacts {
  readonly name: string;
  readonly jobs: number;
  readonly header: TraceHeader;
  readonly report: ReadReport;
  readonly model: NetworkModel;
  readonly networkSource: 'file' | 'china-hubs' | 'trace';
  readonly capacities: readonly CapacityChoice[];
  readonly epochMs: number;
}

/**
 * The section for `trace` and its SVG files (named `<key>-….svg`): utilisation over time of the
 * runs named in `utilisationOf` (default: isolated and balanced, when run), the wait CDF of every
 * run, and cost and carbon per run.
 */
export function compareSection(
  key: string,
  title: string,
  trace: TraceFacts,
  runs: readonly ReportRun[],
  options: { utilisationOf?: readonly string[]; notes?: readonly string[] } = {},
): { section: TraceSection; files: Record<string, string> } {
  const files: Record<string, string> = {};
  const charts: { file: string; caption: string }[] = [];
  const add = (file: string, svg: string, caption: string) => {
    files[file] = svg;
    charts.push({ file, caption });
  };
  for (const name of options.utilisationOf ?? ['isolated', 'balanced']) {
    const run = runs.find((r) => r.name === name);
    if (run === undefined) continue;
    add(`${key}-utilisation-${name}.svg`, utilisationChart(run.result, `${title}: utilisation per center, ${name}`), `Utilisation per center over time under ${name} (bucket means).`);
  }
  if (runs.length > 0) {
    add(`${key}-wait-cdf.svg`, waitCdfChart(runs.map((r) => ({ name: r.name, result: r.result })), `${title}: wait CDF per policy`), 'Share of jobs that waited at most x (log scale).');
    const bars = (pick: (r: ReportRun) => number) => runs.map((r) => ({ name: r.name, value: pick(r), highlight: r.name === 'pooledBound' }));
    add(`${key}-cost.svg`, perPolicyBars(bars((r) => r.summary.costFen / 100), `${title}: cost per policy`, 'yuan'), 'What the users pay (compute at list price, plus egress), per policy.');
    add(`${key}-carbon.svg`, perPolicyBars(bars((r) => r.summary.carbonKg / 1000), `${title}: carbon per policy`, 'tonnes CO2e'), 'Carbon of the energy used (PUE included), per policy.');
  }
  const h = trace.header;
  const start = `${new Date(trace.epochMs).toISOString().slice(0, 16).replace('T', ' ')} UTC (${h.startEpochSource === 'trace' ? 'from the trace' : h.startEpochSource === 'assumed' ? 'assumed, see the trace README' : 'unknown: a default'})`;
  const about = [
    `Trace \`${trace.name}\` (${h.format}): ${trace.jobs.toLocaleString('en-US')} jobs replayed; second 0 = ${start}.`,
    '',
    '```',
    ...describeReport(trace.report),
    '```',
    '',
    `Network: ${trace.networkSource === 'trace' ? 'built from the trace (one center per cluster; capacity rule below)' : trace.networkSource === 'china-hubs' ? 'the shipped china-hubs model' : 'a network file'} — ${trace.model.name}.`,
  ];
  return { section: { title, about, network: trace.model, capacities: trace.capacities, runs, charts, notes: options.notes ?? [] }, files };
}
