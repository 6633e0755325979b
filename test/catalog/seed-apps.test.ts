// The seed apps really run: each app's rendered command, in a fresh folder holding its files,
// with python3 from the PATH — what the local connector does for a first launch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { planLaunch, type LaunchRequest } from '../../src/catalog/launch.js';
import type { AppManifest } from '../../src/catalog/manifest.js';
import type { AcceleratorFamily } from '../../src/core/accelerators.js';
import { parseSeedCatalog } from '../../src/catalog/seed.js';

const dir = new URL('../../src/catalog/seed/', import.meta.url);
const texts = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => [f, readFileSync(new URL(f, dir), 'utf8')]));
const seed = new Map(parseSeedCatalog(texts).map((m) => [m.name, m]));
const root = mkdtempSync(join(tmpdir(), 'suanwang-seed-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

let runs = 0;
function run(name: string, request: LaunchRequest = {}, family: AcceleratorFamily = 'cpu'): Run {
  const manifest: AppManifest = seed.get(name)!;
  const r = planLaunch(manifest, request);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  const variant = r.plan.variants[family];
  assert.ok(variant, `${name} has a ${family} variant`);
  const cwd = join(root, `${name}-${++runs}`);
  for (const [path, content] of Object.entries(r.plan.files)) {
    mkdirSync(dirname(join(cwd, path)), { recursive: true });
    writeFileSync(join(cwd, path), content);
  }
  mkdirSync(cwd, { recursive: true });
  const started = process.hrtime.bigint();
  const p = spawnSync(variant.command[0]!, variant.command.slice(1), {
    cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...variant.env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { status: p.status, stdout: p.stdout, stderr: p.stderr, seconds };
}

describe('seed apps run on this machine', () => {
  it('md-lj: a Lennard-Jones run that conserves energy', () => {
    const r = run('md-lj', { resources: { acceleratorsPerNode: 0 } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^md-lj: 108 Lennard-Jones particles, box 5\.130 \(density 0\.8\), cut-off 2\.500, T0 1, dt 0\.005, 500 steps, seed 42, backend cpu$/m);
    const rows = r.stdout.split('\n').filter((l) => /^\s+\d+\s+-?\d/.test(l));
    assert.equal(rows.length, 11); // steps 0, 50, ..., 500
    const drift = Number(/energy drift: ([\d.]+)%/.exec(r.stdout)?.[1]);
    assert.ok(drift < 0.5, `energy drift ${drift}%`);
  });
  it('md-lj: the cann variant runs the same code and says so', () => {
    const r = run('md-lj', { params: { n: '27', steps: '20', every: '10' } }, 'cann');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /27 Lennard-Jones particles.*20 steps.*backend cann/);
  });
  it('poisson2d: SOR converges and the error is of order h²', () => {
    const r = run('poisson2d');
    assert.equal(r.status, 0, r.stderr);
    const m = /converged in (\d+) iterations: relative residual ([\d.e+-]+)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.ok(Number(m[1]) < 500 && Number(m[2]) < 1e-6);
    const error = Number(/max error vs exact solution: ([\d.e+-]+)/.exec(r.stdout)?.[1]);
    assert.ok(error < 1e-3, `error ${error}`);
  });
  it('poisson2d: Jacobi too, and a run out of iterations fails with status 2', () => {
    const jacobi = run('poisson2d', { params: { n: '16', method: 'jacobi' } });
    assert.equal(jacobi.status, 0, jacobi.stderr);
    assert.match(jacobi.stdout, /method jacobi/);
    const short = run('poisson2d', { params: { max_iter: '10' } });
    assert.equal(short.status, 2);
    assert.match(short.stdout, /not converged after 10 iterations/);
  });
  it('textgen-mini: continues the prompt, the same way for the same seed', () => {
    const a = run('textgen-mini', { resources: { acceleratorsPerNode: 0 } });
    assert.equal(a.status, 0, a.stderr);
    const text = a.stdout.split('---\n')[1]!.trimEnd();
    assert.ok(text.startsWith('Alice ') && text.length === 'Alice '.length + 300, text);
    assert.match(a.stdout, /backend cpu/);
    const b = run('textgen-mini', { resources: { acceleratorsPerNode: 0 } });
    assert.equal(b.stdout.split('---\n')[1], a.stdout.split('---\n')[1]);
  });
  it('textgen-mini: every Day-0 family variant runs, Chinese corpus included', () => {
    for (const family of ['cann', 'dtk', 'bang', 'xpu', 'maca', 'cuda'] as const) {
      const r = run('textgen-mini', { params: { corpus: 'daodejing', prompt: '上善', length: '20' } }, family);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`backend ${family}`));
      assert.match(r.stdout, /\n上善/);
    }
  });
  it('a hostile parameter value stays one argument', () => {
    const prompt = '--length 99999 "; echo hacked; $(id)';
    const r = run('textgen-mini', { params: { prompt: prompt.slice(0, 200), length: '5' }, resources: { acceleratorsPerNode: 0 } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`\n${prompt}`), r.stdout);
    assert.ok(!/^hacked$/m.test(r.stdout));
    // "--prompt={{prompt}}" keeps even an option-like value from being read as an option.
    const help = run('textgen-mini', { params: { prompt: '--help', length: '3' }, resources: { acceleratorsPerNode: 0 } });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /prompt '--help'/);
  });
});
