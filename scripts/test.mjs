// Runs every *.test.ts under the given folders (default: src and test) with Node's test runner.
// Node 20's runner does not expand globs itself, so this finds the files.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src', 'test'];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
};
for (const root of roots) {
  if (statSync(root, { throwIfNoEntry: false })?.isDirectory()) walk(root);
  else if (root.endsWith('.test.ts')) files.push(root);
}
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
// Test files run two at a time; SUANWANG_TEST_CONCURRENCY=1 runs them one after the other (the Slurm
// suites share the clusters of scripts/slurm/with-clusters.sh, and some stop a slurmctld).
const concurrency = Number(process.env.SUANWANG_TEST_CONCURRENCY ?? 2);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`SUANWANG_TEST_CONCURRENCY must be a whole number >= 1, got '${process.env.SUANWANG_TEST_CONCURRENCY}'`);
  process.exit(2);
}
// No run may hang: node --test waits for every test file's process to exit, so one file that leaves a
// server, store, agent or timer open would keep it waiting forever. The whole run therefore has a
// deadline (SUANWANG_TEST_TIMEOUT_MS, default 45 minutes: the full suite takes several, a loaded
// machine several times that), after which the runner and everything it started (its own process
// group) are killed with a message saying so. (No --test-timeout: Node applies it to each test
// file as a whole too, and a long end-to-end file on a busy machine outlasts any per-test default;
// tests set their own timeouts.)
const runTimeoutMs = Number(process.env.SUANWANG_TEST_TIMEOUT_MS ?? 45 * 60_000);
if (!Number.isInteger(runTimeoutMs) || runTimeoutMs < 1) {
  console.error(`SUANWANG_TEST_TIMEOUT_MS must be a whole number of milliseconds >= 1, got '${process.env.SUANWANG_TEST_TIMEOUT_MS}'`);
  process.exit(2);
}
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', detached: true },
);
const killAll = () => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
};
const timer = setTimeout(() => {
  console.error(
    `\nTEST RUN TIMED OUT after ${Math.round(runTimeoutMs / 1000)} s (SUANWANG_TEST_TIMEOUT_MS): killed node --test and every process it started.\n` +
      'A test file probably left a handle open (a server, store, agent or timer) or waits without a timeout; ' +
      'run the files one at a time (node scripts/test.mjs <file>) to find it.',
  );
  killAll();
  process.exitCode = 124;
}, runTimeoutMs);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
child.on('exit', (code, signal) => {
  clearTimeout(timer);
  // The runner is gone; anything it left behind in its group (a stray run) goes with it.
  killAll();
  if (process.exitCode === undefined) process.exitCode = code ?? (signal ? 1 : 0);
});
