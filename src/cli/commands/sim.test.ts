// `suanwang sim` end to end: the real CLI on a small trace written here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'sim', ...args], { encoding: 'utf8', timeout: 60_000 });

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'suanwang-cli-sim-'));
  // Two clusters of 8-GPU jobs, each sized to one node (p99 of its demand): at cluster01, a holds
  // the node for 100,000 s while b and c arrive; cluster02 is free from 50 s on.
  writeFileSync(join(dir, 'cluster01.csv'), 'job_id,submission_time,duration,num_gpu\na,0,100000,8\nb,10,100,8\nc,20,100,8\n');
  writeFileSync(join(dir, 'cluster02.csv'), 'job_id,submission_time,duration,num_gpu\nd,0,50,8\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('suanwang sim --json: one JSON object on the last line, a figure per policy; --out writes the report', () => {
  const out = join(dir, 'report');
  const r = cli('--trace', dir, '--policy', 'isolated,balanced,pooledBound', '--json', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const json = JSON.parse(lines[lines.length - 1]!) as { jobs: number; centers: string[]; policies: Record<string, { meanWaitS: number; unplaceable: number }> };
  assert.equal(json.jobs, 4);
  assert.deepEqual(json.centers, ['cluster01', 'cluster02']);
  assert.deepEqual(Object.keys(json.policies), ['isolated', 'balanced', 'pooledBound']);
  // Isolated: b and c wait for a (about 100,000 s each; 4 jobs in all). The platform runs them at cluster02 from 50 s on.
  assert.ok(json.policies['isolated']!.meanWaitS > 50_000, String(json.policies['isolated']!.meanWaitS));
  assert.ok(json.policies['balanced']!.meanWaitS < 100, String(json.policies['balanced']!.meanWaitS));
  for (const f of ['report.md', 'result.json', 'sim-wait-cdf.svg', 'sim-cost.svg', 'sim-carbon.svg', 'sim-utilisation-isolated.svg']) assert.ok(existsSync(join(out, f)), f);
});

test('suanwang sim: usage errors name the option and exit 2', () => {
  const none = cli('--policy', 'isolated');
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--trace FILE is required/);
  const bad = cli('--trace', dir, '--policy', 'fastest,nope');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown policy "nope"/);
});
