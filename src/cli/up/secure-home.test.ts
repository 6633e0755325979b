import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { secureHome } from './secure-home.js';

/** A home as older versions left it: 0755 folders, 0644/0666 files (PGlite's too). */
function oldHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'suanwang-home-'));
  for (const dir of ['db/base/1', 'centers/c1/runs/job_1.1', 'centers/c1/work/job_1']) mkdirSync(join(home, dir), { recursive: true, mode: 0o755 });
  for (const file of ['admin-token', 'db/base/1/1259', 'centers/c1/agent-token', 'centers/c1/runs/job_1.1/stdout', 'centers/c1/work/job_1/out.txt']) {
    writeFileSync(join(home, file), 'x', { mode: 0o666 });
  }
  return home;
}

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('secureHome', { timeout: 10_000 }, () => {
  it('makes every folder 0700 and file 0600, and leaves the jobs\' workdirs alone', () => {
    const home = oldHome();
    try {
      secureHome(home, false);
      assert.equal(mode(home), '700');
      for (const dir of ['db', 'db/base/1', 'centers', 'centers/c1', 'centers/c1/runs', 'centers/c1/runs/job_1.1']) assert.equal(mode(join(home, dir)), '700', dir);
      for (const file of ['admin-token', 'db/base/1/1259', 'centers/c1/agent-token', 'centers/c1/runs/job_1.1/stdout']) assert.equal(mode(join(home, file)), '600', file);
      assert.equal(mode(join(home, 'centers/c1/work/job_1')), '755', 'a workdir belongs to its job');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('makes the centers folder of a fresh home searchable with per-org users', () => {
    const home = mkdtempSync(join(tmpdir(), 'suanwang-home-'));
    try {
      secureHome(home, true);
      assert.equal(mode(home), '711');
      assert.equal(mode(join(home, 'centers')), '711');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('with per-org users, lets jobs pass through the home, centers and center folders, but list nothing', () => {
    const home = oldHome();
    try {
      secureHome(home, true);
      for (const dir of ['', 'centers', 'centers/c1']) assert.equal(mode(join(home, dir)), '711', dir || 'home');
      for (const dir of ['db', 'centers/c1/runs']) assert.equal(mode(join(home, dir)), '700', dir);
      assert.equal(mode(join(home, 'admin-token')), '600');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
