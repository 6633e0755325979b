import type { Lease } from '../../../core/agent-protocol.js';

/** Quotes one word for a POSIX shell: the shell hands it to the program exactly as given. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new RangeError(`a command word cannot contain a NUL byte: ${JSON.stringify(word)}`);
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The batch script for a lease. The argv runs in a subshell that `exec`s it, so it runs as a program
 * found on PATH, never as a shell builtin or with anything expanded (as execve would run it; a missing
 * program ends with 127). Its exit status is then written to `exitFile` (through a rename, so a reader
 * sees all of it or nothing) and becomes the script's own: Slurm reports it, and the file still tells it
 * after slurmctld has forgotten the job (MinJobAge). The script runs on the job's first node; a gang job
 * reaches the others with `srun` (one task per node is allocated).
 */
export function batchScript(lease: Pick<Lease, 'jobId' | 'attempt' | 'command'>, exitFile: string): string {
  if (lease.command.length === 0 || lease.command[0] === '') throw new RangeError(`lease ${lease.jobId}: the command is empty`);
  const argv = lease.command.map(shellQuote).join(' ');
  const tmp = shellQuote(`${exitFile}.tmp`);
  return [
    '#!/bin/sh',
    `# Suanwang run ${lease.jobId} attempt ${lease.attempt}, written by the slurm connector.`,
    `( exec ${argv} )`,
    'code=$?',
    `printf '%s\\n' "$code" > ${tmp} && mv -f ${tmp} ${shellQuote(exitFile)}`,
    'exit "$code"',
    '',
  ].join('\n');
}

/** Slurm's time limit for a walltime: whole minutes, rounded up; null (the partition's default) for none. */
export function timeLimitMinutes(walltimeSeconds: number): number | null {
  if (!Number.isFinite(walltimeSeconds) || walltimeSeconds <= 0) return null;
  return Math.max(1, Math.ceil(walltimeSeconds / 60));
}

/** The unique Slurm job name of a run: what finds a job submitted by an agent that died before recording its id. */
export function jobNameOf(run: { readonly jobId: string; readonly attempt: number }): string {
  return `sw-${run.jobId}.${run.attempt}`;
}
