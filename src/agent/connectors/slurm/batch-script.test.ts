import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { batchScript, jobNameOf, shellQuote, timeLimitMinutes } from './batch-script.js';

/** Runs a batch script with /bin/sh as slurmstepd would, in a fresh folder; returns its output and exit file. */
function runScript(command: string[]): { stdout: string; status: number | null; exitFile: string | null } {
  const dir = mkdtempSync(join(tmpdir(), 'suanwang-batch-'));
  try {
    const exitFile = join(dir, 'run folder', 'exit');
    spawnSync('mkdir', ['-p', join(dir, 'run folder')]);
    const script = join(dir, 'job.sh');
    writeFileSync(script, batchScript({ jobId: 'job_1', attempt: 2, command }, exitFile));
    const result = spawnSync('/bin/sh', [script], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nowhere' } });
    let exit: string | null = null;
    try {
      exit = readFileSync(exitFile, 'utf8');
    } catch {
      exit = null;
    }
    return { stdout: result.stdout, status: result.status, exitFile: exit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('batchScript', () => {
  it('runs the argv as given: nothing is expanded, split or globbed', () => {
    const { stdout, status, exitFile } = runScript(['printf', '%s|', '$HOME;', 'a  b', '*', "it's", '`id`', '"q"', 'back\\slash', '中文']);
    assert.equal(stdout, "$HOME;|a  b|*|it's|`id`|\"q\"|back\\slash|中文|");
    assert.equal(status, 0);
    assert.equal(exitFile, '0\n');
  });

  it('passes the exit status on and writes it down', () => {
    const { status, exitFile } = runScript(['sh', '-c', 'exit 7']);
    assert.equal(status, 7);
    assert.equal(exitFile, '7\n');
  });

  it('a missing program ends with 127, as execve would make it; a builtin is not a program', () => {
    assert.equal(runScript(['suanwang-no-such-program-7f3a']).status, 127);
    assert.equal(runScript(['exit', '3']).status, 127);
  });

  it('refuses an empty command and NUL bytes', () => {
    assert.throws(() => batchScript({ jobId: 'j', attempt: 1, command: [] }, '/x/exit'), /the command is empty/);
    assert.throws(() => shellQuote('a\0b'), /NUL/);
  });
});

describe('timeLimitMinutes and jobNameOf', () => {
  it('rounds the walltime up to whole minutes, at least one', () => {
    assert.equal(timeLimitMinutes(1), 1);
    assert.equal(timeLimitMinutes(60), 1);
    assert.equal(timeLimitMinutes(61), 2);
    assert.equal(timeLimitMinutes(0), null, 'no walltime: the partition default');
  });
  it('names the job after the run', () => {
    assert.equal(jobNameOf({ jobId: 'job_abc', attempt: 3 }), 'sw-job_abc.3');
  });
});
