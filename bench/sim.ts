/*
 * npm run bench:sim — the simulator at real load (issue 16), written under bench/results/:
 *   sim.md (the report) and sim.json (every figure). Exits 1 when a goal is missed.
 *
 * 1. Heterogeneous GPUs: the Alibaba PAI 2023 pod list on the cluster of its node list (every node's
 *    GPU model, cores and memory; openb_node_list_all_node.csv). Goal: 0 jobs unplaceable that the
 *    real cluster ran.
 * 2. Federations of real clusters at three operating points. The ten ElasticFlow clusters split in
 *    two sets of traces: TUNING (clusters 01, 03, 05, 07, 09) and HELD-OUT (02, 04, 06, 08, 10).
 *    Each cluster is a center at its own site (networks/federation.ts: Hebei, Sichuan, Shanghai,
 *    Gansu, Guangdong; prices follow each site's time of use, carbon its hourly figure), sized so
 *    that it alone would run at 50%, 70% or 90% utilisation. The platform policies' knob
 *    (`runtimeAging`, and the look-ahead) is chosen on the tuning set; the goals are judged on the
 *    held-out set with those knobs. Every point reports the naive baselines, `balanced`,
 *    `greenest`, the named `pooled FCFS+EASY` reference and the proven lower bound (bounds.ts).
 * 3. Scale: 1,000,000 jobs over 300 centers (30 time-shifted copies of the ElasticFlow clusters,
 *    networks/federation.ts at 70%), `least-loaded`, timed. Goal: < 60 s.
 * 4. HPC2N (202,876 jobs) on its own machine, `isolated`, timed three times (issue 4's goal: < 10 s of
 *    CPU, on the median). Full run only.
 *
 * Prints human lines, then as its LAST line one JSON object {alibaba, tuning, federations, scale,
 * hpc2n, goals, met}. Options: --small (the first ten days of the traces, 100,000 jobs over 12 copies of
 * their clusters for the scale run, no HPC2N: about 2.5 minutes; a CI gate), --days N (only the
 * first N days of the traces),
 * --traces DIR (default ../shared/traces),
 * --out DIR (default bench/results; --small writes sim-small.*).
 *
 * `npm run bench:sim` compiles this file and src with tsc (tsconfig.bench.json → .bench-build/) and
 * runs the JavaScript: tsx's on-the-fly transform costs the replays ~15%.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openAlibabaPods, openTrace, prepareTrace, readAlibabaNodes, runPolicy, writeFiles } from '../src/sim/io/index.js';
import type { Policy } from '../src/scheduler/index.js';
import {
  alibabaNetwork,
  allMet,
  bestNaive,
  completionBound,
  DemandProfiler,
  ELASTICFLOW_START_EPOCH_S,
  federationNetwork,
  hubSite,
  pointGoals,
  pooledNetwork,
  replicate,
  simulate,
  summarize,
  TRACE_REFERENCE_ACCELERATOR,
  type GoalCheck,
  type NetworkModel,
  type OperatingPoint,
  type PolicyName,
  type PolicySummary,
  type TraceJob,
} from '../src/sim/index.js';

const root = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const small = process.argv.includes('--small');
const traces = resolve(argValue('traces') ?? join(root, '..', 'shared', 'traces'));
const outDir = resolve(argValue('out') ?? join(root, 'bench', 'results'));
const DAYS = Number(argValue('days') ?? (small ? 10 : Infinity));
const LOADS = [0.5, 0.7, 0.9] as const;
const GOAL_LOADS = [0.7, 0.9];
const SETS = { tuning: ['01', '03', '05', '07', '09'], 'held-out': ['02', '04', '06', '08', '10'] } as const;
const SITES = ['jjj-zhangjiakou', 'cy-tianfu', 'yrd-qingpu', 'gs-qingyang', 'gba-shaoguan'].map(hubSite);
const SCALE = small ? { jobs: 100_000, copies: 12 } : { jobs: 1_000_000, copies: 30 };
const NAIVE: PolicyName[] = ['isolated', 'random', 'round-robin', 'least-loaded', 'cheapest-static'];
/**
 * The knobs tried for the platform policies on the tuning set: run-time aging under fair share
 * between the clusters (the scheduler's default queue), and work aging in one queue (`fairShare:
 * false`, `agingByWork`: smallest work first, what a busy network's mean completion rewards).
 */
const GRID: Partial<Policy>[] = [
  ...[0, 1, 4, 16].flatMap((runtimeAging) => [24, 0].map((lookAheadHours) => ({ runtimeAging, lookAheadHours }))),
  ...[1, 4, 16].flatMap((runtimeAging) => [24, 0].map((lookAheadHours) => ({ runtimeAging, lookAheadHours, agingByWork: true, fairShare: false }))),
];
const epochMs = ELASTICFLOW_START_EPOCH_S * 1000;
const md: string[] = [];
const json: Record<string, unknown> = {};
const goals: GoalCheck[] = [];
const secs = () => performance.now() / 1000;
const fmt = (s: PolicySummary) =>
  `wait ${s.meanWaitS} s, completion ${s.meanCompletionS} s, util ${s.utilisation}, carbon ${s.carbonKg} kg, cost ¥${Math.round(s.costFen / 100)}, unplaceable ${s.unplaceable}`;
const table = (head: string[], rows: (string | number | null)[][]) => [
  `| ${head.join(' | ')} |`,
  `|${head.map((_h, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ...rows.map((r) => `| ${r.map((x) => (x === null ? '–' : typeof x === 'number' ? x.toLocaleString('en-US') : x)).join(' | ')} |`),
];

async function run(jobs: Iterable<TraceJob>, model: NetworkModel, policy: PolicyName, knobs: Partial<Policy> = {}, clusters: readonly string[] = []): Promise<PolicySummary> {
  const t0 = secs();
  const r = await simulate(jobs, { model, policy, epochMs, clusters, scheduler: knobs });
  return summarize(r, secs() - t0);
}

console.log(`bench:sim${small ? ' --small' : ''} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`);
md.push(`# Simulator at real load (npm run bench:sim${small ? ' -- --small' : ''})`, '');
md.push(`Measured on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}. The production scheduler (src/scheduler) decides every pass. docs/simulator.md explains the method.`, '');

// ------------------------------------------------------------------------------------------------
// 1. Heterogeneous GPUs: Alibaba PAI 2023 on its own node list.
{
  const dir = join(traces, 'alibaba-gpu-2023');
  const nodes = await readAlibabaNodes(join(dir, 'openb_node_list_all_node.csv'));
  const { model } = alibabaNetwork(nodes.groups);
  const source = await openAlibabaPods(join(dir, 'openb_pod_list_default.csv'));
  const pods: TraceJob[] = [];
  for await (const j of source.jobs()) pods.push(j);
  const constrained = pods.filter((j) => (j.gpuModels?.length ?? 0) > 0).length;
  const runs: Record<string, PolicySummary> = {};
  for (const p of ['isolated', 'fastest'] as const) {
    runs[p] = await run(pods, model, p, {}, ['alibaba-pai']);
    console.log(`alibaba ${p.padEnd(10)} ${fmt(runs[p])}`);
  }
  const pools = model.centers[0]!.pools;
  const skipped = Object.entries(source.report.skipped).map(([k, v]) => `${k} ${v.count}`).join(', ') || 'none';
  json['alibaba'] = { jobs: pods.length, gpuModelConstrained: constrained, pools: pools.length, nodes: pools.reduce((n, p) => n + p.nodes, 0), runs };
  const worst = Math.max(...Object.values(runs).map((s) => s.unplaceable));
  goals.push({ goal: 'Alibaba PAI 2023 on its node list: 0 jobs unplaceable that the real cluster ran', measured: `${worst} of ${pods.length} (${constrained} name a GPU model)`, met: worst === 0 });
  md.push('## Heterogeneous GPUs: Alibaba PAI 2023 on its own nodes', '');
  md.push(
    `${pods.length.toLocaleString('en-US')} tasks the real cluster ran (skipped: ${skipped}), ${constrained.toLocaleString('en-US')} of them asking for named GPU models, ` +
      `on ${pools.reduce((n, p) => n + p.nodes, 0).toLocaleString('en-US')} nodes in ${pools.length} pools of identical nodes read from openb_node_list_all_node.csv:`,
    '',
  );
  md.push(...table(['pool', 'nodes', 'accelerator', 'per node'], pools.map((p) => [p.name, p.nodes, p.accelerator ?? 'none', `${p.perNode.accelerators} acc, ${p.perNode.cores} cores, ${Math.round(p.perNode.memoryMiB / 1024)} GiB`])), '');
  md.push(...table(['policy', 'mean wait s', 'mean completion s', 'utilisation', 'unplaceable'], Object.entries(runs).map(([p, s]) => [p, s.meanWaitS, s.meanCompletionS, s.utilisation, s.unplaceable])), '');
}

// ------------------------------------------------------------------------------------------------
// 2. Federations at operating points.
const ef = await openTrace(join(traces, 'elasticflow'));
const all: TraceJob[] = [];
for await (const j of ef.jobs()) if (j.submitAt < DAYS * 86400) all.push(j);
const setJobs = (set: readonly string[]) => {
  const names = set.map((s) => `cluster${s}`);
  return { names, jobs: all.filter((j) => names.includes(j.homeCluster)) };
};
const networkAt = (jobs: readonly TraceJob[], name: string, load: number) => {
  const prof = new DemandProfiler();
  for (const j of jobs) prof.add(j);
  return federationNetwork(prof.finish(), { name, utilisation: load, sites: SITES });
};

// 2a. Tuning: the platform policies' knobs on the tuning set at the goal loads.
const tuning = setJobs(SETS.tuning);
const tuned: Record<'balanced' | 'greenest', Partial<Policy>> = { balanced: {}, greenest: {} };
{
  const rows: (string | number | null)[][] = [];
  const scores = { balanced: GRID.map(() => ({ wait: 0, carbon: 0, completion: 0 })), greenest: GRID.map(() => ({ wait: 0, carbon: 0, completion: 0 })) };
  for (const load of GOAL_LOADS) {
    const { model } = networkAt(tuning.jobs, `tuning-${load}`, load);
    for (const p of ['balanced', 'greenest'] as const) {
      for (let g = 0; g < GRID.length; g++) {
        const s = await run(tuning.jobs, model, p, GRID[g], tuning.names);
        scores[p][g]!.wait += s.meanWaitS ?? 0;
        scores[p][g]!.carbon += s.carbonKg;
        scores[p][g]!.completion += s.meanCompletionS ?? 0;
        rows.push([p, `${Math.round(load * 100)}%`, JSON.stringify(GRID[g]), s.meanWaitS, s.meanCompletionS, s.carbonKg]);
        console.log(`tuning ${p} ${load} ${JSON.stringify(GRID[g])}: ${fmt(s)}`);
      }
    }
  }
  // balanced: the least mean wait (summed over the loads); greenest: the least carbon among the
  // knobs whose mean completion is within 10% of the best greenest completion.
  const bi = scores.balanced.reduce((b, s, i, a) => (s.wait < a[b]!.wait ? i : b), 0);
  const bestCompl = Math.min(...scores.greenest.map((s) => s.completion));
  const gi = scores.greenest.reduce((b, s, i, a) => (s.completion <= 1.1 * bestCompl && (a[b]!.completion > 1.1 * bestCompl || s.carbon < a[b]!.carbon) ? i : b), 0);
  tuned.balanced = GRID[bi]!;
  tuned.greenest = GRID[gi]!;
  console.log(`tuned on ${SETS.tuning.join(',')}: balanced ${JSON.stringify(tuned.balanced)}, greenest ${JSON.stringify(tuned.greenest)}`);
  json['tuning'] = { set: SETS.tuning.map((s) => `cluster${s}`), loads: GOAL_LOADS, grid: GRID, chosen: tuned };
  md.push('## Knobs chosen on the tuning set', '');
  md.push(
    `Tuning traces: ElasticFlow ${tuning.names.join(', ')} (${tuning.jobs.length.toLocaleString('en-US')} jobs). Tried at 70% and 90%: \`runtimeAging\` 0, 1, 4, 16 × \`lookAheadHours\` 24, 0 under fair share between the clusters, and \`runtimeAging\` 1, 4, 16 × \`lookAheadHours\` 24, 0 with \`agingByWork\` in one queue (\`fairShare: false\`). ` +
      `Rule: \`balanced\` takes the least mean wait (summed over both loads); \`greenest\` the least carbon among knobs within 10% of its best mean completion. ` +
      `Chosen: balanced ${JSON.stringify(tuned.balanced)}, greenest ${JSON.stringify(tuned.greenest)}. The held-out set below never took part in the choice.`,
    '',
  );
  md.push(...table(['policy', 'load', 'knobs', 'mean wait s', 'mean completion s', 'carbon kg'], rows), '');
}

// 2b. Every set at every load, the platform policies with the tuned knobs.
const points: OperatingPoint[] = [];
for (const [setName, set] of Object.entries(SETS)) {
  const { names, jobs } = setJobs(set);
  md.push(`## Federation: ${setName} set (${names.join(', ')}), ${jobs.length.toLocaleString('en-US')} jobs`, '');
  for (const load of LOADS) {
    const { model, capacities } = networkAt(jobs, `${setName}-${load}`, load);
    const bound = completionBound(jobs, model, { reference: TRACE_REFERENCE_ACCELERATOR });
    const runs: Record<string, PolicySummary> = {};
    for (const p of NAIVE) runs[p] = await run(jobs, model, p, {}, names);
    runs['balanced'] = await run(jobs, model, 'balanced', tuned.balanced, names);
    runs['greenest'] = await run(jobs, model, 'greenest', tuned.greenest, names);
    runs['pooled FCFS+EASY'] = await run(jobs, pooledNetwork(model), 'isolated', {}, names);
    for (const [p, s] of Object.entries(runs)) console.log(`${setName} ${load} ${p.padEnd(16)} ${fmt(s)}`);
    console.log(`${setName} ${load} bound: ${bound.boundS.toFixed(1)} s (run time ${bound.runTimeBoundS.toFixed(1)}, fluid ${bound.fluidBoundS.toFixed(1)})`);
    const point: OperatingPoint = { set: setName, load, runs, boundS: bound.boundS };
    points.push(point);
    if (setName === 'held-out' && GOAL_LOADS.includes(load)) goals.push(...pointGoals(point));
    const naive = bestNaive(runs);
    md.push(`### ${setName} at ${Math.round(load * 100)}%`, '');
    md.push(`Centers: ${model.centers.map((c, i) => `${c.id} at ${c.region} (${capacities[i]!.units} GPUs: ${capacities[i]!.why})`).join('; ')}.`, '');
    md.push(
      `Lower bound on mean completion: **${bound.boundS.toFixed(1)} s** (each job at its fastest allowed chip: ${bound.runTimeBoundS.toFixed(1)} s; fluid SRPT on the pooled machine: ${bound.fluidBoundS.toFixed(1)} s). ` +
        `Best naive baseline by mean wait: ${naive === null ? '–' : `${naive.name} (${naive.meanWaitS} s)`}.`,
      '',
    );
    md.push(
      ...table(
        ['policy', 'mean wait s', 'p95 wait s', 'mean completion s', '× bound', 'utilisation', 'cost ¥', 'carbon kg', 'unplaceable', 'replay s'],
        Object.entries(runs).map(([p, s]) => [
          p,
          s.meanWaitS,
          s.p95WaitS,
          s.meanCompletionS,
          s.meanCompletionS === null ? null : (s.meanCompletionS / bound.boundS).toFixed(3),
          s.utilisation,
          Math.round(s.costFen / 100),
          s.carbonKg,
          s.unplaceable,
          s.seconds ?? null,
        ]),
      ),
      '',
    );
  }
}
json['federations'] = points.map((p) => ({ set: p.set, load: p.load, boundS: Number(p.boundS.toFixed(1)), runs: p.runs }));

// ------------------------------------------------------------------------------------------------
// 3. Scale: many time-shifted copies of the ElasticFlow clusters.
{
  const perCopy = [...new Set(all.map((j) => j.homeCluster))].length;
  const shiftS = 7 * 3600 + 1234; // copies start 7 h 20 min apart (wrapped in the trace's span)
  const prof = new DemandProfiler();
  let n = 0;
  for (const j of replicate(all, { copies: SCALE.copies, shiftS, limit: SCALE.jobs })) {
    prof.add(j);
    n++;
  }
  const demands = prof.finish();
  const sites = demands.map((_d, i) => SITES[i % SITES.length]!);
  const { model } = federationNetwork(demands, { name: 'national', utilisation: 0.7, sites });
  // Timed by the process's CPU time (user + system) as well as the wall clock: on a shared machine
  // the wall clock measures the other processes too. The goal is judged on the CPU time.
  const t0 = secs();
  const c0 = process.cpuUsage();
  const r = await simulate(replicate(all, { copies: SCALE.copies, shiftS, limit: SCALE.jobs }), { model, policy: 'least-loaded', epochMs });
  const wall = secs() - t0;
  const used = process.cpuUsage(c0);
  const seconds = (used.user + used.system) / 1e6;
  const s = summarize(r, seconds);
  console.log(`scale: ${n} jobs over ${model.centers.length} centers (${SCALE.copies} copies of ${perCopy} clusters), least-loaded: ${seconds.toFixed(1)} s CPU (${wall.toFixed(1)} s wall), ${Math.round(r.counters.events / seconds)} events per CPU second; ${fmt(s)}`);
  json['scale'] = { jobs: n, centers: model.centers.length, policy: 'least-loaded', cpuSeconds: Number(seconds.toFixed(2)), wallSeconds: Number(wall.toFixed(2)), events: r.counters.events, summary: s };
  goals.push({
    goal: `${small ? '(small) ' : ''}${n.toLocaleString('en-US')} jobs over ${model.centers.length} centers in < 60 s`,
    measured: `${seconds.toFixed(1)} s of CPU (${wall.toFixed(1)} s wall on this shared machine; least-loaded, trace generation included), ${Math.round(r.counters.events / seconds).toLocaleString('en-US')} events per CPU second`,
    met: seconds < 60 && s.jobs + s.unplaceable === n,
  });
  md.push('## Scale', '');
  md.push(
    `${n.toLocaleString('en-US')} jobs over ${model.centers.length} centers: ${SCALE.copies} copies of the ElasticFlow clusters, copy k shifted by k × 7 h 20 min, every center sized for 70% alone, sites cycling over five hubs. ` +
      `\`least-loaded\` replayed in ${seconds.toFixed(1)} s of CPU, ${wall.toFixed(1)} s wall (${r.counters.events.toLocaleString('en-US')} events; mean wait ${s.meanWaitS} s, utilisation ${s.utilisation}).`,
    '',
  );
}

// ------------------------------------------------------------------------------------------------
// 4. HPC2N on its own machine (issue 4's speed goal), full run only.
if (!small) {
  const hpc = await prepareTrace(join(traces, 'HPC2N-2002-2.1-cln.swf.gz'));
  // Timed by CPU as well as wall seconds, as the scale run (the goal on the CPU time), three times:
  // on this shared machine one replay's CPU time moves by ±20% with the others' load, and the goal
  // is judged on the median. Every replay must give the same result (determinism).
  const replays: { cpu: number; wall: number; events: number; fingerprint: string }[] = [];
  for (let k = 0; k < 3; k++) {
    const c0 = process.cpuUsage();
    const timed = await runPolicy(hpc, 'isolated', { now: () => performance.now() });
    const used = process.cpuUsage(c0);
    const { counters, metrics } = timed.result;
    replays.push({ cpu: (used.user + used.system) / 1e6, wall: timed.seconds, events: counters.events, fingerprint: JSON.stringify([counters, metrics.wait, metrics.completion]) });
  }
  const median = [...replays].sort((a, b) => a.cpu - b.cpu)[1]!;
  const same = replays.every((r) => r.fingerprint === replays[0]!.fingerprint);
  const cpus = replays.map((r) => r.cpu.toFixed(2)).join(', ');
  console.log(`hpc2n: ${hpc.jobs} jobs, isolated in ${median.cpu.toFixed(2)} s CPU, median of ${cpus} (${median.wall.toFixed(2)} s wall)`);
  json['hpc2n'] = {
    jobs: hpc.jobs,
    cpuSeconds: Number(median.cpu.toFixed(2)),
    wallSeconds: Number(median.wall.toFixed(2)),
    replays: replays.map((r) => ({ cpuSeconds: Number(r.cpu.toFixed(2)), wallSeconds: Number(r.wall.toFixed(2)) })),
    events: median.events,
  };
  goals.push({
    goal: `HPC2N (${hpc.jobs.toLocaleString('en-US')} jobs) replayed in < 10 s`,
    measured: `${median.cpu.toFixed(2)} s of CPU, the median of three replays (${cpus} s; ${median.wall.toFixed(2)} s wall; isolated, trace reading included)${same ? '' : '; the replays DIFFER'}`,
    met: median.cpu < 10 && same,
  });
}

// ------------------------------------------------------------------------------------------------
const met = allMet(goals);
for (const g of goals) console.log(`goal: ${g.goal}: ${g.measured} — ${g.met === null ? 'not run' : g.met ? 'met' : 'NOT met'}`);
const goalLines = ['## Goals', '', ...table(['goal', 'measured', 'met'], goals.map((g) => [g.goal, g.measured, g.met === null ? 'not run' : g.met ? 'yes' : '**no**'])), ''];
const report = [...md.slice(0, 4), ...goalLines, ...md.slice(4)].join('\n');
const base = small ? 'sim-small' : 'sim';
const written = writeFiles(outDir, { [`${base}.md`]: report, [`${base}.json`]: JSON.stringify({ ...json, goals }, null, 2) + '\n' });
console.log(`wrote ${written.length} files under ${outDir}`);
console.log(JSON.stringify({ ...json, goals, met }));
process.exitCode = met ? 0 : 1;
