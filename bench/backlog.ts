// npm run bench:backlog — a 1,000,000-job backlog (BACKLOG_JOBS to change it) on PostgreSQL, through
// the engine: three orgs with share weights 1, 2 and 4 submit 70%, 25% and 5% of the jobs in batches
// of 10,000 (POST /v1/jobs/batch's engine call), onto a network of 1,000 one-core slots. Then a few
// control-loop passes: each must stay bounded in time (it looks at a fair slice of the queue, never
// all of it), the slots must be shared by the weights (each org within 10% of its weighted share),
// and the process must stay under 2 GiB. Last line: JSON { jobs, submitSeconds, passMs, shares,
// maxRssMiB, ok }; exits 1 when a check fails.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createUser } from '../src/engine/accounts.js';
import { registerAgent } from '../src/engine/agents.js';
import { createCenter } from '../src/engine/centers.js';
import { createContext } from '../src/engine/context.js';
import { tick } from '../src/engine/control-loop.js';
import { submitBatch, type JobSpec } from '../src/engine/jobs.js';
import { openStore } from '../src/store/open-database.js';

const JOBS = Number(process.env.BACKLOG_JOBS ?? 1_000_000);
const BATCH = 10_000;
const SLOTS = 1000;
const PASSES = 4;
const MAX_PASS_MS = Number(process.env.BACKLOG_MAX_PASS_MS ?? 10_000);
const MAX_RSS_MIB = 2048;
const ORGS = [
  { name: 'org-heavy', weight: 1, fraction: 0.7 },
  { name: 'org-mid', weight: 2, fraction: 0.25 },
  { name: 'org-light', weight: 4, fraction: 0.05 },
] as const;
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let maxRss = 0;
const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 200);

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const dbName = `sw_bench_backlog_${process.pid}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const store = await openStore({ databaseUrl: ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`) });
  try {
    // No agent heartbeats here: the center must not be declared lost while the backlog is written.
    const ctx = createContext(store, { agentDeadlineMs: 1e9 });
    const users = [];
    for (const org of ORGS) {
      const u = await createUser(ctx, { orgName: org.name, name: `${org.name}-user`, role: 'user' });
      await store.db.updateTable('orgs').set({ share_weight: org.weight }).where('name', '=', org.name).execute();
      users.push({ kind: 'user' as const, userId: u.userId, orgId: u.orgId, name: `${org.name}-user`, role: 'user' as const });
    }
    const { centerId } = await createCenter(ctx, {
      name: 'backlog',
      displayName: 'Backlog',
      region: 'ningxia',
      operatorOrg: 'ops',
      energy: { priceFenPerKwh: Array(24).fill(30), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 },
      prices: { cpu: { fenPerAcceleratorHour: 0, fenPerCoreHour: 10 } },
    });
    await registerAgent(ctx, centerId, {
      connector: 'local',
      agentVersion: 'bench',
      pools: [{ name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: SLOTS / 10, memoryMiBPerNode: 1_048_576, nodes: 10 }],
      commands: ['true'],
      runs: [],
    });
    const spec: JobSpec = {
      command: ['true'], env: {}, nodes: 1, acceleratorsPerNode: 0, coresPerNode: 1, memoryMiBPerNode: 64, walltimeSeconds: 86_400,
      accelerators: [], objective: 'balanced', priority: 0, maxAttempts: 3, forbidAccelerators: [], regions: [], inputs: [],
    };
    const t0 = performance.now();
    for (const [i, org] of ORGS.entries()) {
      let left = Math.round(JOBS * org.fraction);
      while (left > 0) {
        const n = Math.min(BATCH, left);
        await submitBatch(ctx, users[i]!, [{ ...spec, array: `1-${n}` }]);
        left -= n;
      }
      process.stderr.write(`${org.name}: ${Math.round(JOBS * org.fraction)} jobs submitted (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
    const submitSeconds = (performance.now() - t0) / 1000;
    const passMs: number[] = [];
    for (let i = 0; i < PASSES; i++) {
      const t = performance.now();
      const report = await tick(ctx);
      passMs.push(Math.round(performance.now() - t));
      process.stderr.write(`pass ${i + 1}: ${passMs.at(-1)} ms, admitted ${report.admitted}, placed ${report.placed}, waiting ${report.waiting}\n`);
    }
    const placed = await store.db
      .selectFrom('jobs')
      .innerJoin('orgs', 'orgs.id', 'jobs.org_id')
      .select(['orgs.name', (eb) => eb.fn.countAll<string>().as('n')])
      .where('jobs.state', '=', 'placed')
      .groupBy('orgs.name')
      .execute();
    const held = new Map(placed.map((r) => [r.name, Number(r.n)]));
    const totalWeight = ORGS.reduce((s, o) => s + o.weight, 0);
    const shares = Object.fromEntries(ORGS.map((o) => [o.name, { placed: held.get(o.name) ?? 0, fairShare: Math.round((SLOTS * o.weight) / totalWeight) }]));
    const problems: string[] = [];
    for (const [name, s] of Object.entries(shares)) {
      if (Math.abs(s.placed - s.fairShare) > s.fairShare * 0.1) problems.push(`${name} holds ${s.placed} slots, its weighted share is ${s.fairShare}`);
    }
    const slowest = Math.max(...passMs);
    if (slowest > MAX_PASS_MS) problems.push(`a pass took ${slowest} ms > ${MAX_PASS_MS} ms`);
    const maxRssMiB = Math.round(maxRss / 1024 / 1024);
    if (maxRssMiB > MAX_RSS_MIB) problems.push(`RSS ${maxRssMiB} MiB > ${MAX_RSS_MIB} MiB`);
    for (const p of problems) process.stderr.write(`MISSED: ${p}\n`);
    console.log(JSON.stringify({ jobs: JOBS, submitSeconds: Math.round(submitSeconds), jobsPerSecond: Math.round(JOBS / submitSeconds), passMs, shares, maxRssMiB, problems, ok: problems.length === 0 }));
    process.exitCode = problems.length === 0 ? 0 : 1;
  } finally {
    clearInterval(sampler);
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}

await main();
