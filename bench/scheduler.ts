/*
 * npm run bench:scheduler — one full scheduling pass over a seeded backlog of 100,000 pending jobs
 * on 30 centers with 60 pools (see scheduler-backlog.ts). Warms up with one pass, then times one.
 * Prints human lines, then as its last line one JSON object:
 *   {"passMs", "jobs", "placementsPerSecond" (jobs decided per second), "placed", "reserved",
 *    "peakMemoryMiB" (the process's peak resident set, generation included)}
 * The pass's CPU time is printed too: on a shared 2-core machine the wall time varies with load.
 * A full collection between the warm-up and the timed pass keeps the warm-up's garbage out of it.
 * Target (issue 3): a pass under 2 s (≥ 50,000 jobs/s) and under 1 GiB on a 2-core machine.
 * Options: --jobs N, --seed N.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { schedule } from '../src/scheduler/index.js';
import { DEFAULT_BACKLOG, generateBacklog } from './scheduler-backlog.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) ? v : fallback;
}

const spec = { ...DEFAULT_BACKLOG, jobs: arg('jobs', DEFAULT_BACKLOG.jobs), seed: arg('seed', DEFAULT_BACKLOG.seed) };
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
let peakRss = process.memoryUsage().rss;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

const t0 = performance.now();
const snapshot = generateBacklog(spec);
sample();
const pools = snapshot.centers.reduce((n, c) => n + c.pools.length, 0);
const nodes = snapshot.centers.reduce((n, c) => n + c.pools.reduce((m, p) => m + p.freeByNode.length, 0), 0);
console.log(
  `backlog: ${snapshot.jobs.length} pending jobs, ${snapshot.running.length} running, ${snapshot.centers.length} centers, ` +
    `${pools} pools, ${nodes} nodes, ${snapshot.datasets.length} datasets, ${snapshot.links.length} links ` +
    `(seed ${spec.seed}, built in ${Math.round(performance.now() - t0)} ms)`,
);

{
  const warm = schedule(snapshot);
  sample();
  console.log(`warm-up pass: ${warm.placements.length} placed`);
}
// The warm-up's garbage is not this pass's to collect: `npm run` passes no --expose-gc, so ask V8.
setFlagsFromString('--expose-gc');
(runInNewContext('gc') as () => void)();

const cpuStart = process.cpuUsage();
const start = performance.now();
const result = schedule(snapshot);
const passMs = performance.now() - start;
const cpu = process.cpuUsage(cpuStart);
sample();

const deferred = result.waiting.filter((w) => w.explanation.wait?.kind === 'better-hour').length;
const never = result.waiting.filter((w) => w.explanation.wait?.kind === 'never').length;
const placementsPerSecond = Math.round(snapshot.jobs.length / (passMs / 1000));
console.log(
  `pass: ${passMs.toFixed(0)} ms for ${snapshot.jobs.length} jobs (${placementsPerSecond} jobs decided per second); ` +
    `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms of CPU (collector threads included) on ${cpus().length} cores`,
);
console.log(
  `decisions: ${result.placements.length} placed now, ${result.reservations.length} reservations, ${deferred} deferred to a better hour, ` +
    `${never} can never run as asked, ${result.waiting.length - result.reservations.length - deferred - never} wait for capacity`,
);

// Explanations are written lazily. The engine reads every waiting job's summary each pass (to skip
// unchanged ones) and serialises the explanations that changed.
const summaryStart = performance.now();
let summaryChars = 0;
for (const w of result.waiting) summaryChars += w.explanation.summary.length;
console.log(
  `summaries: all ${result.waiting.length} waiting summaries read in ${(performance.now() - summaryStart).toFixed(0)} ms ` +
    `(${Math.round(summaryChars / Math.max(1, result.waiting.length))} chars each)`,
);
const readStart = performance.now();
const sampleSize = Math.min(1000, result.waiting.length);
let chars = 0;
for (let i = 0; i < sampleSize; i++) chars += JSON.stringify(result.waiting[i]!.explanation).length;
const readMs = performance.now() - readStart;
console.log(`explanations: ${sampleSize} waiting explanations serialised in ${readMs.toFixed(0)} ms (${Math.round(chars / Math.max(1, sampleSize))} chars each)`);
sample();

const peakMemoryMiB = Math.max(mib(peakRss), Math.round(process.resourceUsage().maxRSS / 1024));
console.log(`memory: peak resident ${peakMemoryMiB} MiB (heap now ${mib(process.memoryUsage().heapUsed)} MiB)`);
const target = passMs < 2000 && peakMemoryMiB < 1024;
console.log(`target (< 2000 ms, < 1024 MiB): ${target ? 'met' : 'NOT met'}`);
console.log(
  JSON.stringify({
    passMs: Math.round(passMs),
    jobs: snapshot.jobs.length,
    placementsPerSecond,
    placed: result.placements.length,
    reserved: result.reservations.length,
    peakMemoryMiB,
  }),
);
