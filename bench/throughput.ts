// npm run bench:throughput [-- --small] — end-to-end throughput and latency of the control plane.
// First the process floor: 1,000 (--small) or 3,000 runs of `true` through the agents' launcher and
// nothing else (support/process-floor.ts), what this machine can do with a process per job at all.
// Then PostgreSQL (a fresh database), the control plane and three agents (local connector, per-org
// OS users and a cgroup per run when root: the production setting; run folders on a tmpfs, as
// docs/operations.md advises a busy center, BENCH_RUNS_ON_DISK=1 for the default stateDir/runs) as
// separate OS processes, and a load generator over HTTP (8 concurrent clients, POST
// /v1/jobs/batch) submitting trivial jobs (`true`). Phase 1 submits N jobs as fast as the API takes
// them and waits until all have succeeded: accepted/s = N / submission time, completed/s = N / time
// from the first submission to the last success; it is run BENCH_RUNS times (default 3) on the same
// processes and the median of the runs is reported (each run's figures too). Phase 2 offers a
// steady 100 jobs/s, one POST /v1/jobs each, and measures submit→running (the control plane's
// `running` event minus submittedAt): p50, p99. With root and Slurm (scripts/slurm/clusters.sh),
// the same submission run goes to slurmrestd too. Last line: JSON { acceptedPerSecond,
// completedPerSecond, p50SubmitToRunningMs, p99SubmitToRunningMs, jobs, runs, processFloor, slurm?,
// targets, ok }. Exits 1 when a target is missed (--small: the CI gate, below a tenth of the
// targets: 100 accepted or 50 completed jobs/s). BENCH_PROFILE=DIR writes CPU profiles of the
// control plane and the agents.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { measureProcessFloor } from './support/process-floor.js';
import { measureSlurm, type SlurmFigures } from './support/slurm-throughput.js';

const SMALL = process.argv.includes('--small');
const JOBS = Number(process.env.BENCH_JOBS ?? (SMALL ? 2_000 : 20_000));
const CLIENTS = 8;
const BATCH = Number(process.env.BENCH_BATCH ?? 250);
/** Jobs/s offered in phase 2 (the target is set at 100; BENCH_STEADY_RATE shows the latency at other loads). */
const STEADY_RATE = Number(process.env.BENCH_STEADY_RATE ?? 100);
/** Phase 1 is run this many times on the same processes; the median of the runs is reported. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? (SMALL ? 5 : 20));
const TARGETS = { acceptedPerSecond: 1000, completedPerSecond: 500, p99SubmitToRunningMs: 1000, slurmRatio: 2 };
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// 128 one-core slots per center: small enough that placements spread over all three agents (equal
// centers tie, and the scheduler fills one pool before the next), large enough for 500 jobs/s of `true`.
const POOLS = [{ name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 64, memoryMiBPerNode: 524_288, nodes: 2 }];
const TSX = ['--import', 'tsx', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : [])];
const ENERGY = { priceFenPerKwh: Array(24).fill(40), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 };

const children: ChildProcess[] = [];

/**
 * The control plane as its own process; resolves with its URL and admin token. Swap for
 * `suanwang server` (+ `suanwang admin` for the admin token) once that command is on main.
 */
async function startControlPlane(home: string, databaseUrl: string): Promise<{ url: string; adminToken: string }> {
  const child = spawn(process.execPath, [...TSX, 'bench/support/control-plane.ts', home], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return JSON.parse(await firstLine(child)) as { url: string; adminToken: string };
}

/** One center's agent as its own process. Swap for `suanwang agent --config center.yaml` once on main. */
async function startAgentProcess(url: string, tokenFile: string, stateDir: string, runsDir: string | null): Promise<void> {
  const child = spawn(process.execPath, [...TSX, 'bench/support/agent.ts', url, tokenFile, stateDir, JSON.stringify(POOLS), ...(runsDir ? [runsDir] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await firstLine(child);
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(line));
    child.once('exit', (code) => reject(new Error(`a bench process exited (code ${code}) before it was ready`)));
  });
}

/**
 * One HTTP call of the load generator, on node:http with kept-alive connections: cheaper for the
 * machine than fetch (undici), so the generator takes less of the CPU the platform is measured on.
 */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 32 });
async function api<T>(url: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await apiOnce<T>(url, token, method, path, body);
    } catch (error) {
      // A kept-alive connection the server closed while idle (its keepAliveTimeout, e.g. between
      // the phases) fails the first request sent on it, before the server reads it: send it again
      // on a new connection (node:http's documented retry, `req.reusedSocket`).
      if (attempt < 3 && (error as { staleSocket?: boolean }).staleSocket) continue;
      throw error;
    }
  }
}
function apiOnce<T>(url: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = http.request(
      url + path,
      {
        method,
        agent: keepAlive,
        headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
          else resolve(JSON.parse(text) as T);
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => reject(Object.assign(error, { staleSocket: req.reusedSocket && error.code === 'ECONNRESET' })));
    req.end(payload);
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  // What this machine can do with a process per job and nothing else (support/process-floor.ts):
  // no end-to-end completion rate can pass it.
  const floor = await measureProcessFloor(SMALL ? 1000 : 3000);
  process.stderr.write(`process floor: ${floor.runsPerSecond} runs/s of \`true\` through the ${floor.launcher} launcher alone (3 launchers, no platform)\n`);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const dbName = `sw_bench_tp_${process.pid}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
  const home = mkdtempSync(join(tmpdir(), 'sw-bench-tp-'));
  // The agents keep their run folders on a tmpfs, as docs/operations.md advises a busy center
  // (BENCH_RUNS_ON_DISK=1: in stateDir/runs, the default, to see the difference).
  const runsRoot = process.env.BENCH_RUNS_ON_DISK === '1' || !existsSync('/dev/shm') ? null : mkdtempSync('/dev/shm/sw-bench-runs-');
  const db = new pg.Client({ connectionString: databaseUrl });
  try {
    const { url, adminToken } = await startControlPlane(home, databaseUrl);
    await db.connect();
    for (const name of ['bench-a', 'bench-b', 'bench-c']) {
      const { agentToken } = await api<{ agentToken: string }>(url, adminToken, 'POST', '/v1/centers', {
        name,
        displayName: name,
        region: 'ningxia',
        energy: ENERGY,
        prices: { cpu: { fenPerAcceleratorHour: 0, fenPerCoreHour: 10 } },
      });
      const tokenFile = join(home, `${name}.token`);
      writeFileSync(tokenFile, agentToken + '\n', { mode: 0o600 });
      await startAgentProcess(url, tokenFile, join(home, 'centers', name), runsRoot ? join(runsRoot, name) : null);
    }
    const user = await api<{ token: string }>(url, adminToken, 'POST', '/v1/users', { org: 'bench', name: 'loadgen', role: 'user' });

    // ---- phase 1: as fast as it takes them, RUNS times (the median is reported) -----------------
    const spec = { command: ['true'], coresPerNode: 1, memoryMiBPerNode: 64, walltimeSeconds: 600 };
    const burst = async (round: number): Promise<{ accepted: number; completed: number; failed: number }> => {
      const name = `burst-${round}`;
      let next = 0;
      const t0 = performance.now();
      const t0Wall = Date.now();
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          for (;;) {
            const n = Math.min(BATCH, JOBS - next);
            if (n <= 0) return;
            next += n;
            await api(url, user.token, 'POST', '/v1/jobs/batch', { jobs: Array.from({ length: n }, () => ({ ...spec, name })) });
          }
        }),
      );
      const submitSeconds = (performance.now() - t0) / 1000;
      process.stderr.write(`phase 1, run ${round}: ${JOBS} jobs accepted in ${submitSeconds.toFixed(2)} s (${(JOBS / submitSeconds).toFixed(0)} jobs/s)\n`);
      const waitLimitMs = Math.max(60_000, (JOBS / 20) * 1000);
      let done = 0;
      let failed = 0;
      let lastProgress = performance.now();
      for (;;) {
        if (performance.now() - lastProgress > 5000) {
          lastProgress = performance.now();
          const r = await db.query<{ state: string; n: string }>(`SELECT state, count(*) AS n FROM jobs WHERE name = $1 GROUP BY state ORDER BY state`, [name]);
          process.stderr.write(`  ${((lastProgress - t0) / 1000).toFixed(0)} s: ${r.rows.map((x) => `${x.state} ${x.n}`).join(', ')}\n`);
        }
        const r = await db.query<{ ok: string; bad: string }>(
          `SELECT count(*) FILTER (WHERE state = 'succeeded') AS ok, count(*) FILTER (WHERE state IN ('failed', 'cancelled')) AS bad FROM jobs WHERE name = $1`,
          [name],
        );
        done = Number(r.rows[0]!.ok);
        failed = Number(r.rows[0]!.bad);
        if (done + failed >= JOBS || performance.now() - t0 > waitLimitMs) break;
        // Polled once a second (each poll scans the jobs table, which grows by N a run): the end is
        // read from the jobs themselves below, not from when a poll saw it.
        await sleep(1000);
      }
      const last = await db.query<{ at: Date | null }>(`SELECT max(finished_at) AS at FROM jobs WHERE name = $1`, [name]);
      const lastEnd = last.rows[0]!.at?.getTime() ?? Date.now();
      const completeSeconds = done + failed >= JOBS ? Math.max(lastEnd - t0Wall, 1) / 1000 : (performance.now() - t0) / 1000;
      process.stderr.write(`phase 1, run ${round}: ${done} succeeded, ${failed} failed in ${completeSeconds.toFixed(2)} s (${(done / completeSeconds).toFixed(0)} jobs/s)\n`);
      return { accepted: JOBS / submitSeconds, completed: done / completeSeconds, failed };
    };
    const bursts: { accepted: number; completed: number; failed: number }[] = [];
    for (let round = 1; round <= RUNS; round++) bursts.push(await burst(round));
    const acceptedPerSecond = median(bursts.map((b) => b.accepted));
    const completedPerSecond = median(bursts.map((b) => b.completed));
    const failed = bursts.reduce((sum, b) => sum + b.failed, 0);

    // ---- phase 2: a steady 100 jobs/s, one request each --------------------------------------------
    const ids: string[] = [];
    const total = STEADY_RATE * STEADY_SECONDS;
    const start = performance.now();
    const inflight: Promise<void>[] = [];
    const submitErrors: unknown[] = [];
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / STEADY_RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      // Failures are collected, not left unhandled while the loop still sleeps (that would end the
      // bench before its `finally` stops the platform's processes).
      inflight.push(api<{ id: string }>(url, user.token, 'POST', '/v1/jobs', { ...spec, name: 'steady' }).then((j) => void ids.push(j.id), (error: unknown) => void submitErrors.push(error)));
    }
    await Promise.all(inflight);
    if (submitErrors.length > 0) throw new Error(`phase 2: ${submitErrors.length} submissions failed, the first: ${String(submitErrors[0])}`);
    const steadyDeadline = performance.now() + 60_000;
    let latencies: number[] = [];
    for (;;) {
      const r = await db.query<{ ms: number | null }>(
        `SELECT extract(epoch FROM (SELECT min(e.at) FROM job_events e WHERE e.job_id = j.id AND e.to_state = 'running') - j.submitted_at) * 1000 AS ms
         FROM jobs j WHERE j.id = ANY($1)`,
        [ids],
      );
      latencies = r.rows.filter((x) => x.ms !== null).map((x) => Number(x.ms));
      if (latencies.length >= ids.length || performance.now() > steadyDeadline) break;
      await sleep(1000);
    }
    latencies.sort((a, b) => a - b);
    const missing = ids.length - latencies.length;
    const p50 = percentile(latencies, 50);
    // A job that never ran counts as slower than any that did.
    const p99 = missing > ids.length / 100 ? Infinity : percentile(latencies, 99);
    process.stderr.write(`phase 2: ${ids.length} jobs at ${STEADY_RATE}/s: submit→running p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (${missing} never ran)\n`);

    let slurm: SlurmFigures | { skipped: string } = { skipped: 'not measured' };
    if (process.env.BENCH_SLURM !== '0') slurm = await measureSlurm({ jobs: SMALL ? 500 : 2000, clients: CLIENTS });

    const figures = {
      acceptedPerSecond: Math.round(acceptedPerSecond),
      completedPerSecond: Math.round(completedPerSecond),
      p50SubmitToRunningMs: Math.round(p50),
      p99SubmitToRunningMs: Number.isFinite(p99) ? Math.round(p99) : null,
      jobs: JOBS,
      runs: bursts.map((b) => ({ acceptedPerSecond: Math.round(b.accepted), completedPerSecond: Math.round(b.completed) })),
      failedJobs: failed,
      steadyJobs: ids.length,
      steadyRate: STEADY_RATE,
      small: SMALL,
      processFloor: floor,
      slurm,
    };
    // --small is CI's regression gate, at a tenth of both targets (issue 10): 100 accepted and 50
    // completed jobs/s. Measured on an idle 2-core machine on 2026-12-04 (session 7): medians
    // of 2,452 accepted and 198 completed jobs/s, so machine variance alone does not fail CI.
    const floors = SMALL
      ? { accepted: TARGETS.acceptedPerSecond * 0.1, completed: TARGETS.completedPerSecond * 0.1 }
      : { accepted: TARGETS.acceptedPerSecond, completed: TARGETS.completedPerSecond };
    const missed: string[] = [];
    if (acceptedPerSecond < floors.accepted) missed.push(`accepted ${figures.acceptedPerSecond}/s < ${floors.accepted}/s`);
    if (completedPerSecond < floors.completed) missed.push(`completed ${figures.completedPerSecond}/s < ${floors.completed}/s`);
    if (!SMALL) {
      if (!(p99 < TARGETS.p99SubmitToRunningMs)) missed.push(`p99 submit→running ${figures.p99SubmitToRunningMs ?? '∞'} ms ≥ ${TARGETS.p99SubmitToRunningMs} ms`);
      if ('acceptedPerSecond' in slurm && acceptedPerSecond < TARGETS.slurmRatio * slurm.acceptedPerSecond) {
        missed.push(`accepted ${figures.acceptedPerSecond}/s < ${TARGETS.slurmRatio}× Slurm's ${Math.round(slurm.acceptedPerSecond)}/s`);
      }
    }
    if (failed > 0) missed.push(`${failed} jobs failed`);
    for (const m of missed) process.stderr.write(`MISSED: ${m}\n`);
    console.log(JSON.stringify({ ...figures, targets: TARGETS, missed, ok: missed.length === 0 }));
    process.exitCode = missed.length === 0 ? 0 : 1;
  } finally {
    keepAlive.destroy();
    await db.end().catch(() => {});
    for (const child of children.reverse()) {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
    // The runs' process groups are gone (trivial jobs); their folders go with the bench home.
    rmSync(home, { recursive: true, force: true });
    if (runsRoot) rmSync(runsRoot, { recursive: true, force: true });
    if (process.env.BENCH_KEEP_DB !== "1") await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    else process.stderr.write(`kept database ${dbName}\n`);
    await admin.end();
  }
}

await main();
