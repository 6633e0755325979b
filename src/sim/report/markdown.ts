/*
 * The Markdown report of a comparison: the goals, then per trace its network (and how each center's
 * capacity was chosen), a table of every policy's figures, the charts, and notes.
 */
import type { NetworkModel } from '../network-model.js';
import type { CapacityChoice } from '../networks/trace-network.js';
import type { SimulationResult } from '../simulate.js';
import type { GoalCheck, PolicySummary } from './summary.js';

export interface ReportRun {
  readonly name: string;
  readonly summary: PolicySummary;
  readonly result: SimulationResult;
}

export interface TraceSection {
  readonly title: string;
  /** Lines about the trace and the replay (jobs, skips, start date, ...). */
  readonly about: readonly string[];
  readonly network: NetworkModel;
  readonly capacities: readonly CapacityChoice[];
  readonly runs: readonly ReportRun[];
  readonly charts: readonly { readonly file: string; readonly caption: string }[];
  readonly notes: readonly string[];
}

export interface ReportInput {
  readonly title: string;
  readonly intro: readonly string[];
  readonly goals: readonly GoalCheck[];
  readonly sections: readonly TraceSection[];
  readonly closing?: readonly string[];
}

const num = (x: number | null | undefined, digits = 0): string =>
  x == null ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Seconds as "1,234 s" with a short human form for long ones. */
export function seconds(x: number | null | undefined): string {
  if (x == null) return '–';
  const human = x >= 86400 ? ` (${(x / 86400).toFixed(1)} d)` : x >= 3600 ? ` (${(x / 3600).toFixed(1)} h)` : x >= 120 ? ` (${(x / 60).toFixed(1)} min)` : '';
  return `${num(x, x < 100 ? 1 : 0)} s${human}`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The centers of `network`: site, side, capacity (and why), price, PUE, mean carbon. */
export function networkTable(network: NetworkModel, capacities: readonly CapacityChoice[]): string[] {
  const why = new Map(capacities.map((c) => [c.cluster, c.why]));
  return table(
    ['center', 'region', 'side', 'pools (nodes × per node)', 'price / acc-h (core-h)', 'PUE', 'carbon kg/kWh (mean)', 'capacity chosen by'],
    network.centers.map((c) => {
      const side = c.tags.find((t) => t === 'east' || t === 'west') ?? '';
      const pools = c.pools.map((p) => `${p.name}: ${p.nodes} × ${p.accelerator ? `${p.perNode.accelerators} ${p.accelerator}` : `${p.perNode.cores} cores`}`).join('; ');
      const prices = c.pools.map((p) => (p.accelerator ? `¥${(p.fenPerAcceleratorHour / 100).toFixed(2)}` : `(¥${(p.fenPerCoreHour / 100).toFixed(2)})`)).join(', ');
      const cluster = [...why.keys()].find((k) => c.id === k || c.id === k.toLowerCase());
      return [c.id, c.region, side, pools, prices, String(c.energy.pue), mean(c.energy.carbonKgPerKwh).toFixed(3), cluster === undefined ? '' : why.get(cluster)!];
    }),
  );
}

/** Every run's figures as one table. */
export function metricsTable(runs: readonly ReportRun[]): string[] {
  return table(
    ['policy', 'mean wait', 'p50 wait', 'p95 wait', 'p99 wait', 'mean completion', 'bounded slowdown', 'utilisation', 'cost ¥', 'energy MWh', 'carbon t', 'GB moved', 'unplaceable', 'replay s'],
    runs.map(({ name, summary: s }) => [
      name,
      seconds(s.meanWaitS),
      seconds(s.p50WaitS),
      seconds(s.p95WaitS),
      seconds(s.p99WaitS),
      seconds(s.meanCompletionS),
      num(s.boundedSlowdown, 2),
      s.utilisation === null ? '–' : `${(s.utilisation * 100).toFixed(1)}%`,
      num(s.costFen / 100, 0),
      num(s.energyKwh / 1000, 1),
      num(s.carbonKg / 1000, 2),
      num(s.bytesMoved / 1e9, 1),
      num(s.unplaceable),
      s.seconds === undefined ? '–' : num(s.seconds, 2),
    ]),
  );
}

/** The whole report as Markdown. */
export function renderReport(input: ReportInput): string {
  const out: string[] = [`# ${input.title}`, '', ...input.intro, '', '## Goals', ''];
  out.push(...table(['goal', 'measured', 'met'], input.goals.map((g) => [g.goal, g.measured, g.met === null ? '–' : g.met ? 'yes' : '**no**'])), '');
  for (const s of input.sections) {
    out.push(`## ${s.title}`, '', ...s.about, '', '### Network', '', ...networkTable(s.network, s.capacities), '', '### Results', '', ...metricsTable(s.runs), '');
    const reasons = s.runs.filter((r) => r.summary.unplaceable > 0);
    if (reasons.length > 0) {
      out.push('Unplaceable jobs by reason:', '');
      for (const r of reasons) out.push(`- ${r.name}: ${Object.entries(r.result.metrics.unplaceableByReason).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      out.push('');
    }
    out.push(
      'Replay counters (events = arrivals + ends + wake-ups; a pass is one call of the production `schedule`):',
      '',
      ...table(
        ['policy', 'events', 'passes', 'of them incremental', 'skipped (nothing fits)', 'jobs given to passes', 'longest queue'],
        s.runs.map(({ name, result: { counters: c } }) => [name, num(c.events), num(c.passes), num(c.incrementalPasses), num(c.passesSkipped), num(c.jobsInPasses), num(c.maxPending)]),
      ),
      '',
    );
    if (s.charts.length > 0) {
      out.push('### Charts', '');
      for (const c of s.charts) out.push(`![${c.caption}](${c.file})`, '', `*${c.caption}*`, '');
    }
    if (s.notes.length > 0) out.push('### Notes', '', ...s.notes.map((n) => `- ${n}`), '');
  }
  if (input.closing) out.push(...input.closing, '');
  return out.join('\n');
}
