// Runs every *.test.ts under the given folders (default: src and test) with Node's test runner.
// Node 20's runner does not expand globs itself, so this finds the files.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

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
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
