// The Slurm side of bench:throughput: the same submission run (trivial jobs, concurrent clients)
// against real Slurm 22.05 through slurmrestd, on the clusters of scripts/slurm/clusters.sh (their
// own folder and ports, so another engineer's clusters are left alone), taken down at the end.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface SlurmFigures {
  readonly acceptedPerSecond: number;
  readonly completedPerSecond: number;
  readonly jobs: number;
  readonly completed: number;
}

const ENV = { ...process.env, SUANWANG_SLURM_DIR: process.env.SUANWANG_SLURM_DIR ?? '/tmp/slurm-bench', SUANWANG_SLURM_PORT_BASE: process.env.SUANWANG_SLURM_PORT_BASE ?? '17800' };
const BASE = '/slurm/v0.0.38';

/**
 * Submits `jobs` trivial jobs to the `ascend` cluster's slurmrestd with `clients` concurrent
 * clients and waits until Slurm reports them completed. Skips (with the reason) unless root and
 * Slurm's daemons are installed (BENCH_SLURM=1 lets clusters.sh install them).
 */
export async function measureSlurm(options: { jobs: number; clients: number }): Promise<SlurmFigures | { skipped: string }> {
  if (process.getuid?.() !== 0) return { skipped: 'needs root (clusters.sh runs the Slurm daemons as root)' };
  if (!existsSync('/usr/sbin/slurmctld') && process.env.BENCH_SLURM !== '1') return { skipped: 'Slurm is not installed (BENCH_SLURM=1 installs it through clusters.sh)' };
  const up = spawnSync('bash', ['scripts/slurm/clusters.sh', 'up'], { env: ENV, stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    if (up.status !== 0) return { skipped: `clusters.sh up failed (exit ${up.status})` };
    const env = Object.fromEntries(
      readFileSync(`${ENV.SUANWANG_SLURM_DIR}/clusters.env`, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const url = env.SUANWANG_SLURM_ASCEND_URL!;
    const headers = { 'X-SLURM-USER-NAME': env.SUANWANG_SLURM_ASCEND_USER!, 'X-SLURM-USER-TOKEN': env.SUANWANG_SLURM_ASCEND_TOKEN!, 'content-type': 'application/json' };
    const tag = `swbench${process.pid}`;
    const body = JSON.stringify({
      script: '#!/bin/sh\ntrue\n',
      job: { name: tag, current_working_directory: '/tmp', environment: { PATH: '/usr/bin:/bin' }, cpus_per_task: 1, memory_per_node: 64, time_limit: 10, standard_output: '/dev/null', standard_error: '/dev/null' },
    });
    let next = 0;
    let refused = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        while (next < options.jobs) {
          next++;
          const res = await fetch(`${url}${BASE}/job/submit`, { method: 'POST', headers, body });
          const answer = (await res.json().catch(() => ({}))) as { job_id?: number };
          if (!res.ok || typeof answer.job_id !== 'number') refused++;
        }
      }),
    );
    const submitSeconds = (performance.now() - t0) / 1000;
    let completed = 0;
    const deadline = performance.now() + 180_000;
    for (;;) {
      const res = await fetch(`${url}${BASE}/jobs`, { headers });
      const list = ((await res.json()) as { jobs?: { name?: string; job_state?: string }[] }).jobs ?? [];
      const mine = list.filter((j) => j.name === tag);
      completed = mine.filter((j) => j.job_state === 'COMPLETED').length;
      const ended = mine.filter((j) => j.job_state !== 'PENDING' && j.job_state !== 'RUNNING' && j.job_state !== 'CONFIGURING' && j.job_state !== 'COMPLETING').length;
      if (ended >= options.jobs - refused || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const completeSeconds = (performance.now() - t0) / 1000;
    process.stderr.write(`slurm: ${options.jobs - refused} jobs accepted in ${submitSeconds.toFixed(2)} s, ${completed} completed in ${completeSeconds.toFixed(2)} s\n`);
    return { acceptedPerSecond: (options.jobs - refused) / submitSeconds, completedPerSecond: completed / completeSeconds, jobs: options.jobs, completed };
  } finally {
    spawnSync('bash', ['scripts/slurm/clusters.sh', 'down'], { env: ENV, stdio: ['ignore', 'inherit', 'inherit'] });
  }
}
