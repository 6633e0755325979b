/*
 * npm run bench:sim — the standard policy comparison of issue 4, written under bench/results/:
 *   sim.md (the report), sim.json (every figure), sim-*.svg (charts).
 *
 * 1. The ten ElasticFlow clusters (../shared/traces/elasticflow) as ten centers of unchanged
 *    capacity: the network built from the trace (p99 of concurrent demand, whole 8-GPU nodes;
 *    clusters alternate east and west hubs, the west 20% cheaper and, with its green-power
 *    contracts, greener). Every policy, and the pooled lower bound.
 * 2. HPC2N (../shared/traces/HPC2N-2002-2.1-cln.swf.gz, 202,876 jobs) on its own machine (240
 *    one-core nodes). Timed: the issue's goal is a replay under 10 s on this machine. It runs
 *    before ElasticFlow, so the timed replay starts in a fresh process; the report keeps this order.
 *
 * Prints human lines, then as its LAST line one JSON object:
 *   {"elasticflow": {"<policy>": {meanWaitS, p50WaitS, ..., unplaceable, seconds, events}, ..., "pooledBound": {...}},
 *    "hpc2n": {"<policy>": {...}, ..., "events", "eventsPerSecond", "seconds", "policy"}}
 * Options: --hpc2n-policies a,b (default: all), --ef-policies a,b (default: all), --skip-hpc2n,
 *          --traces DIR (default ../shared/traces), --out DIR (default bench/results).
 *
 * `npm run bench:sim` compiles this file and src with tsc (tsconfig.bench.json → .bench-build/) and
 * runs the JavaScript, as the installed `suanwang sim` runs dist/: tsx's on-the-fly transform keeps
 * function names by wrapping every closure a pass creates, which alone costs the HPC2N replay ~15%.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { prepareTrace, runPolicy, writeFiles, type PolicyRun, type PreparedTrace, type RunOptions } from '../src/sim/io/index.js';
import {
  checkGoals,
  compareSection,
  formatSeconds,
  isPolicyName,
  POLICIES,
  POLICY_NAMES,
  progressLine,
  renderReport,
  summarize,
  type PolicyName,
  type PolicySummary,
  type ReportRun,
  type TraceSection,
} from '../src/sim/index.js';

// The project's root: this file runs compiled under .bench-build/bench/ (see the header), or from bench/.
const root = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const policiesArg = (name: string): PolicyName[] => {
  const v = argValue(name);
  if (v === undefined) return [...POLICY_NAMES];
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of list) if (!isPolicyName(p)) throw new Error(`--${name}: unknown policy "${p}" (known: ${POLICY_NAMES.join(', ')})`);
  return list as PolicyName[];
};
const traces = resolve(argValue('traces') ?? join(root, '..', 'shared', 'traces'));
const outDir = resolve(argValue('out') ?? join(root, 'bench', 'results'));
const efPolicies = policiesArg('ef-policies');
const hpcPolicies = process.argv.includes('--skip-hpc2n') ? [] : policiesArg('hpc2n-policies');
const clock = { now: () => performance.now() };
const tty = process.stderr.isTTY === true;

interface Variant {
  readonly name: string;
  readonly policy: PolicyName | 'pooledBound';
  readonly options?: RunOptions;
}

async function runAll(prepared: PreparedTrace, label: string, variants: readonly Variant[]): Promise<PolicyRun[]> {
  const runs: PolicyRun[] = [];
  for (const v of variants) {
    const t0 = performance.now();
    const run = await runPolicy(prepared, v.policy, clock, {
      ...v.options,
      ...(tty ? { onProgress: (_p, fraction) => process.stderr.write(`\r${progressLine(fraction, performance.now() - t0, `${label} ${v.name}`)}\x1b[K`) } : {}),
    });
    if (tty) process.stderr.write('\r\x1b[K');
    const s = summarize(run.result, run.seconds);
    const c = run.result.counters;
    console.log(
      `${label} ${v.name.padEnd(15)} ${formatSeconds(run.seconds).padStart(8)}  ${Math.round(run.eventsPerSecond).toLocaleString('en-US').padStart(8)} events/s  ` +
        `mean wait ${s.meanWaitS} s, p95 ${s.p95WaitS} s, mean completion ${s.meanCompletionS} s, util ${s.utilisation}, ` +
        `cost ¥${Math.round(s.costFen / 100).toLocaleString('en-US')}, carbon ${s.carbonKg} kg, unplaceable ${s.unplaceable}` +
        ` (passes ${c.passes}, incremental ${c.incrementalPasses}, skipped ${c.passesSkipped}, jobs in passes ${c.jobsInPasses}, longest queue ${c.maxPending})`,
    );
    runs.push({ ...run, policy: v.name as PolicyName });
  }
  return runs;
}

const reportRuns = (runs: readonly PolicyRun[]): ReportRun[] => runs.map((r) => ({ name: r.policy, summary: summarize(r.result, r.seconds), result: r.result }));
const byPolicy = (runs: readonly PolicyRun[]): Record<string, PolicySummary> => Object.fromEntries(runs.map((r) => [r.policy, summarize(r.result, r.seconds)]));

console.log(`bench:sim on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`);
const sections: TraceSection[] = [];
let files: Record<string, string> = {};
const json: Record<string, unknown> = {};

// 1. HPC2N on its own machine, run first: the timed replay starts in a fresh process, as
// `suanwang sim --trace …` does (after the ElasticFlow runs it measured up to 25% slower).
let hpcSpeed: { seconds: number; eventsPerSecond: number; policy: string } | null = null;
let hpcSection: TraceSection | null = null;
if (hpcPolicies.length > 0) {
  const hpc = await prepareTrace(join(traces, 'HPC2N-2002-2.1-cln.swf.gz'));
  console.log(`hpc2n: ${hpc.jobs} jobs, ${hpc.capacities.map((c) => c.why).join('; ')}`);
  const hpcRuns = await runAll(hpc, 'hpc2n', hpcPolicies.map((p) => ({ name: p, policy: p })));
  const summaries = byPolicy(hpcRuns);
  // One center: pooling it changes nothing, so the bound is the isolated run itself.
  const iso = hpcRuns.find((r) => r.policy === 'isolated');
  if (iso) summaries['pooledBound'] = summaries['isolated']!;
  const timed = iso ?? hpcRuns[0]!;
  hpcSpeed = { seconds: timed.seconds, eventsPerSecond: timed.eventsPerSecond, policy: timed.policy };
  json['hpc2n'] = { ...summaries, events: timed.result.counters.events, eventsPerSecond: Math.round(timed.eventsPerSecond), seconds: Number(timed.seconds.toFixed(2)), policy: timed.policy };
  const { section, files: f } = compareSection('sim-hpc2n', 'HPC2N on its own machine', hpc, reportRuns(hpcRuns), {
    utilisationOf: ['isolated'],
    notes: [
      'One center: every early-binding policy can only choose it, so each is FCFS + EASY on the machine; the pooled bound is the machine itself (reported as the isolated run).',
      'The late-binding policies differ from FCFS + EASY only where the scheduler may wait for a better hour or pool; on one center with one flat user price there is none.',
      `Speed goal: the ${timed.policy} replay, trace reading included, on this machine (${cpus().length} cores).`,
    ],
  });
  hpcSection = section;
  files = { ...files, ...f };
}

// 2. ElasticFlow: ten clusters, ten centers.
const ef = await prepareTrace(join(traces, 'elasticflow'));
console.log(
  `elasticflow: ${ef.jobs} jobs, ${ef.model.centers.length} centers, ` +
    `${ef.capacities.reduce((n, c) => n + c.units, 0)} GPUs (${ef.capacities.map((c) => `${c.cluster} ${c.units}`).join(', ')})`,
);
// Sensitivity: greenest without look-ahead (the production scheduler's knob, not its code): it
// takes the greenest pool free now instead of waiting up to 24 h for a greener hour or pool.
const efVariants: Variant[] = [
  ...efPolicies.map((p) => ({ name: p, policy: p })),
  { name: 'pooledBound', policy: 'pooledBound' },
  ...(efPolicies.includes('greenest') ? [{ name: 'greenest-now', policy: 'greenest' as const, options: { scheduler: { lookAheadHours: 0 } } }] : []),
];
const efRuns = await runAll(ef, 'elasticflow', efVariants);
json['elasticflow'] = byPolicy(efRuns);
{
  const { section, files: f } = compareSection('sim-elasticflow', 'ElasticFlow: ten clusters as ten centers', ef, reportRuns(efRuns), {
    utilisationOf: ['isolated', 'balanced', 'pooledBound'],
    notes: [
      'Capacity: each cluster keeps the capacity the network builder gives it (p99 of its own concurrent demand, whole 8-GPU nodes); `pooledBound` is the same 3,504 GPUs as one center, replayed FCFS + EASY: a bound on waits for this trace, not a proof.',
      'Prices and carbon: clusters alternate east and west hubs; western GPUs cost 80% of eastern ones, and western carbon assumes the green-power contracts of docs/sim-network.md (without them Ningxia and Inner Mongolia would be dirtier than the east).',
      'ElasticFlow has no requested times: walltimes are the actual durations (perfect estimates), which flatters backfilling in every policy alike.',
      "Late-binding policies use the production scheduler's defaults (look-ahead 24 h, min saving to wait 10%, a wait must pay for its delay: delayPerSaving 2, up to 64 reservations); early-binding ones FCFS + EASY at their center with no look-ahead.",
      '`greenest-now` is a sensitivity run, not one of the compared policies: `greenest` with the scheduler\'s look-ahead set to 0 h (greenest pool free now; no waiting for a greener hour or pool).',
    ],
  });
  sections.push(section);
  if (hpcSection !== null) sections.push(hpcSection);
  files = { ...files, ...f };
}

const goals = checkGoals(byPolicy(efRuns), hpcSpeed);
for (const g of goals) console.log(`goal: ${g.goal}: ${g.measured} — ${g.met === null ? 'not run' : g.met ? 'met' : 'NOT met'}`);
const report = renderReport({
  title: 'Simulator: policy comparison (npm run bench:sim)',
  intro: [
    `Measured on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}. The production scheduler (src/scheduler) decides every pass; the simulator (src/sim, docs/simulator.md) is the clock.`,
    '',
    'Policies: ' + POLICY_NAMES.map((p) => `\`${p}\` (${POLICIES[p].summary})`).join('; ') + '; `pooledBound`: all capacity as one center, FCFS + EASY.',
  ],
  goals,
  sections,
});
const { elasticflow, hpc2n } = json; // ElasticFlow first in the output, as in the report
const ordered = { elasticflow, ...(hpc2n === undefined ? {} : { hpc2n }) };
const written = writeFiles(outDir, { ...files, 'sim.md': report, 'sim.json': JSON.stringify(ordered, null, 2) + '\n' });
console.log(`wrote ${written.length} files under ${outDir}`);
console.log(JSON.stringify(ordered));
