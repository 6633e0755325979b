import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease, RunStatus } from '../../../core/agent-protocol.js';
import type { StopReason } from './map-state.js';
import { STOP_REASONS } from './map-state.js';

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
}

export interface LastKnown {
  readonly status: RunStatus;
  /** Slurm's state word when last seen (`PENDING`, `RUNNING`, …), null when slurmctld had forgotten the job. */
  readonly slurmState: string | null;
  readonly seenAt: number;
}

export interface Marker<T> {
  readonly value: T;
  readonly at: number;
}

export async function readRecord(dir: string): Promise<RunRecord | null> {
  return readJson<RunRecord>(join(dir, 'run.json'));
}

export async function writeRecord(dir: string, record: RunRecord): Promise<void> {
  await writeAtomic(join(dir, 'run.json'), JSON.stringify(record, null, 2));
}

export async function readLast(dir: string): Promise<LastKnown | null> {
  return readJson<LastKnown>(join(dir, 'last.json'));
}

export async function writeLast(dir: string, last: LastKnown): Promise<void> {
  await writeAtomic(join(dir, 'last.json'), JSON.stringify(last, null, 2));
}

export async function readStop(dir: string): Promise<Marker<StopReason> | null> {
  const marker = await readMarker(join(dir, 'stop'));
  if (!marker) return null;
  return { value: STOP_REASONS.find((r) => r === marker.value) ?? 'cancelled', at: marker.at };
}

/** Tells apart the temporary files of writeStop() calls made in the same millisecond. */
let stopSequence = 0;

/** Writes the stop marker unless one exists: link() fails on an existing name, so the first reason wins. */
export async function writeStop(dir: string, reason: StopReason): Promise<void> {
  stopSequence += 1;
  const tmp = join(dir, `stop.${process.pid}.${Date.now()}.${stopSequence}.tmp`);
  await writeFile(tmp, `${reason}\n`, { mode: 0o600 });
  try {
    await link(tmp, join(dir, 'stop'));
  } catch (error) {
    if (!isCode(error, 'EEXIST')) throw error;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

export async function readExit(dir: string): Promise<Marker<number | null> | null> {
  const marker = await readMarker(join(dir, 'exit'));
  if (!marker) return null;
  const code = Number.parseInt(marker.value, 10);
  return { value: Number.isNaN(code) ? null : code, at: marker.at };
}

export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
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

async function readMarker(path: string): Promise<Marker<string> | null> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { value: text.trim(), at: Math.round(info.mtimeMs) };
  } catch (error) {
    if (isCode(error, 'ENOENT')) return null;
    throw error;
  }
}

