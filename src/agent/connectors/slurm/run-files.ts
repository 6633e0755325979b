import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease, RunStatus } from '../../../core/agent-protocol.js';
import { isCode, writeAtomic } from '../../run-io.js';
import type { OrgUser } from '../org-users.js';

/*
 * The files of one run, in `<stateDir>/runs/<jobId>.<attempt>/`:
 *
 *   run.json   the mapping, written ahead: first `intent` (the lease and the unique job name) before the
 *              submission, then `submitted` with the Slurm job id. Written twice, never edited after.
 *   last.json  the last state seen from Slurm: what runs() reports while Slurm cannot be asked
 *   job.sh     the batch script as submitted
 *   stdout     written by Slurm (standard_output / standard_error): the run folder must be on a file
 *   stderr     system the compute nodes share with the agent's host
 *   exit       the command's exit status, written by the script (survives slurmctld forgetting the job)
 *   stop       why the connector stopped the run (`cancelled` | `walltime-exceeded`), first reason wins
 *
 * With per-org users, the run folder is the agent's alone (0700, root) and the three files the job
 * writes (stdout, stderr, exit) are in `<stateDir>/out/<jobId>.<attempt>/` instead (0700, owned by
 * the org's user): a job can write its own output and exit file, no one else's, and no marker or
 * record of the agent's.
 */

export type RunPhase = 'intent' | 'submitted' | 'abandoned';

export interface RunRecord {
  readonly lease: Lease;
  readonly jobName: string;
  readonly workdir: string;
  /**
   * `intent`: about to be submitted (or the agent died while submitting); `submitted`: Slurm has it
   * (slurmJobId null only for a job found to have run after slurmctld forgot it); `abandoned`: start()
   * gave up during an outage: if Slurm turns out to have it after all, it is cancelled.
   */
  readonly phase: RunPhase;
  readonly slurmJobId: number | null;
  readonly intentAt: number;
  readonly submittedAt: number | null;
  /** The org's user the job runs as, with per-org users (absent in records of older versions). */
  readonly user?: OrgUser | null;
  /** Where the job's stdout, stderr and exit files are: the run folder when absent. */
  readonly outDir?: string | null;
}

export interface LastKnown {
  readonly status: RunStatus;
  /** Slurm's state word when last seen (`PENDING`, `RUNNING`, …), null when slurmctld had forgotten the job. */
  readonly slurmState: string | null;
  readonly seenAt: number;
}

export async function readRecord(dir: string): Promise<RunRecord | null> {
  return readJson<RunRecord>(join(dir, 'run.json'));
}

export async function writeRecord(dir: string, record: RunRecord): Promise<void> {
  writeAtomic(join(dir, 'run.json'), JSON.stringify(record, null, 2));
}

export async function readLast(dir: string): Promise<LastKnown | null> {
  return readJson<LastKnown>(join(dir, 'last.json'));
}

export async function writeLast(dir: string, last: LastKnown): Promise<void> {
  writeAtomic(join(dir, 'last.json'), JSON.stringify(last, null, 2));
}

async function readJson<T>(path: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return null;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return null; // written through a rename, so only a hand-edited file is ever half
  }
}
