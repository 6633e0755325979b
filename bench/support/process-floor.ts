// The machine's floor for a process per job, measured in the same run as the platform: N runs of
// `true` through the agents' own launcher (launcher.ts: the native one where it builds) and nothing
// else — no control plane, no database, no HTTP, no org user, no cgroup — from 3 launchers at once
// (as the bench's 3 agents), their run folders on a tmpfs when there is one. What remains is process
// creation, exec and the run's small files: no end-to-end rate on this machine can pass it.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Launcher, writeRunSpec, type LauncherKind } from '../../src/agent/connectors/launcher.js';

export interface ProcessFloor {
  runs: number;
  launcher: LauncherKind;
  /** Runs started and ended per second, wall clock. */
  runsPerSecond: number;
}

export async function measureProcessFloor(runs: number, launchers = 3): Promise<ProcessFloor> {
  const base = mkdtempSync(join(process.platform === 'linux' ? '/dev/shm' : tmpdir(), 'sw-floor-'));
  const pool = Array.from({ length: launchers }, () => {
    let ended = 0;
    let wake: (() => void) | null = null;
    const launcher = new Launcher(() => {
      ended++;
      wake?.();
    });
    return { launcher, ended: () => ended, wait: () => new Promise<void>((r) => (wake = r)) };
  });
  try {
    const dirs = Array.from({ length: runs }, (_, i) => {
      const dir = join(base, `run-${i}`);
      mkdirSync(dir);
      writeRunSpec(dir, { uid: null, gid: null, workdir: dir, cgroupProcs: null, environment: ['PATH=/usr/bin:/bin'], argv: ['true'] });
      return dir;
    });
    // The launchers hold the event loop only while a launch awaits its pid; this holds it until all ended.
    const hold = setInterval(() => undefined, 1000);
    const t0 = performance.now();
    await Promise.all(
      pool.map(async (p, k) => {
        const mine = dirs.filter((_, i) => i % launchers === k);
        await Promise.all(mine.map((dir) => p.launcher.launch(dir)));
        while (p.ended() < mine.length) await p.wait();
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(hold);
    return {
      runs,
      launcher: pool[0]!.launcher.kind,
      runsPerSecond: Math.round(runs / seconds),
    };
  } finally {
    for (const p of pool) p.launcher.close();
    rmSync(base, { recursive: true, force: true });
  }
}
