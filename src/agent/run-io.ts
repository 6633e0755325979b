import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readSync, renameSync, writeFileSync, type Stats } from 'node:fs';
import { link, mkdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Lease } from '../core/agent-protocol.js';
import { utf8TextOf } from './utf8-text.js';

/**
 * What every connector does the same way with a run on the file system: its environment, the files
 * it ships into its working directory, reading its output by byte offset, and the small marker
 * files of its folder (`exit`, written by the run; `stop`, written by the connector).
 */

/** The agent's variables a run inherits; everything else of the agent's environment stays out. */
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'TMPDIR'] as const;
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** A run's environment: those few agent variables, the lease's, then ours (SUANWANG_*). */
export function runEnvironment(lease: Lease): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of BASE_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  Object.assign(env, lease.env, {
    SUANWANG_JOB_ID: lease.jobId,
    SUANWANG_ATTEMPT: String(lease.attempt),
    SUANWANG_NODES: String(lease.nodes),
    SUANWANG_ACCELERATORS_PER_NODE: String(lease.acceleratorsPerNode),
  });
  return env;
}

/** Writes a lease's files into its working directory; a path may not leave it. */
export async function writeLeaseFiles(workdir: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    const target = resolve(workdir, path);
    if (isAbsolute(path) || !target.startsWith(resolve(workdir) + sep)) throw new Error(`file ${path} would be written outside the working directory`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
  }
}

/**
 * Output from byte `offset`, at most `maxBytes`, never cutting a UTF-8 character (nextOffset =
 * offset + the bytes returned); when `maxBytes` is smaller than the next character, that character
 * is returned whole so a reader always makes progress. Bytes that are not UTF-8 come back as '?',
 * one for one. Null when the file does not exist (yet).
 */
export async function readTextChunk(path: string, offset: number, maxBytes: number): Promise<{ data: string; nextOffset: number } | null> {
  // Synchronous on purpose, here and in the markers below: reads of small local files, and a status
  // pass looks at hundreds of them; each trip through libuv's thread pool costs more than the syscall
  // it carries. (What creates or removes files stays asynchronous: on a journaling file system those
  // may wait for a journal commit.) Most looks find nothing new: one lstat answers those.
  let info: Stats;
  try {
    info = lstatSync(path);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return null;
    throw error;
  }
  if (!info.isFile()) return null;
  if (info.size <= offset) return { data: '', nextOffset: offset };
  const fd = openPlainFile(path);
  if (fd === null) return null;
  try {
    const want = Math.max(1, Math.min(maxBytes, info.size - offset));
    let buffer = Buffer.alloc(want);
    let bytesRead = readSync(fd, buffer, 0, want, offset);
    let length = utf8PrefixLength(buffer, bytesRead);
    if (length === 0 && bytesRead > 0) {
      buffer = Buffer.alloc(4);
      bytesRead = readSync(fd, buffer, 0, 4, offset);
      length = utf8PrefixLength(buffer, bytesRead);
    }
    return { data: utf8TextOf(buffer.subarray(0, length)), nextOffset: offset + length };
  } finally {
    closeSync(fd);
  }
}

/** How many of the first `length` bytes form whole characters (a character cut at the end is held back). */
function utf8PrefixLength(buffer: Buffer, length: number): number {
  for (let i = length - 1; i >= Math.max(0, length - 4); i--) {
    const byte = buffer[i]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const size = byte < 0x80 ? 1 : (byte & 0xe0) === 0xc0 ? 2 : (byte & 0xf0) === 0xe0 ? 3 : (byte & 0xf8) === 0xf0 ? 4 : 1;
    return i + size <= length ? length : i;
  }
  return length; // no lead byte in reach: not UTF-8, so there is no character to keep whole
}

/**
 * The run's working directory, made ready: the lease's own, which must already exist (`where` says
 * where it was looked for, in the error), or a fresh `<stateDir>/work/<jobId>`; with the lease's
 * files written into it.
 */
export async function prepareWorkdir(lease: Lease, stateDir: string, where: string): Promise<string> {
  const workdir = lease.workdir ?? join(stateDir, 'work', lease.jobId);
  if (lease.workdir === null) {
    await mkdir(workdir, { recursive: true });
  } else {
    const info = await stat(workdir).catch(() => null);
    if (info === null) throw new Error(`workdir ${workdir} does not exist ${where}`);
    if (!info.isDirectory()) throw new Error(`workdir ${workdir} is not a directory`);
  }
  await writeLeaseFiles(workdir, lease.files ?? {});
  return workdir;
}

/**
 * Deletes a run's folder. It is renamed first (inside `runsDir`), so that a concurrent scan of the
 * runs sees the whole run or none of it, never half its files. A folder already gone is fine.
 */
export async function removeRunDir(runsDir: string, dir: string, key: string): Promise<void> {
  const doomed = join(runsDir, `.forget-${key}-${process.pid}-${Date.now()}`);
  try {
    await rename(dir, doomed);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return;
    throw error;
  }
  // The removal itself is not waited for: on a journaling file system each unlink and rmdir may wait
  // for a journal commit (milliseconds when a database on the same disk fsyncs), and a status pass
  // forgets its ended runs one after the other. Nothing reads `.forget-…` folders.
  rm(doomed, { recursive: true, force: true }).catch(() => undefined);
}

/** Why a connector stopped a run: the content of the run folder's `stop` marker. */
export const STOP_REASONS = ['cancelled', 'walltime-exceeded'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/** A marker file's content and when it was written (its mtime, ms). */
export interface Marker<T> {
  readonly value: T;
  readonly at: number;
}

/** The run's exit status from its `exit` marker (null when the file holds no number), or null when there is none yet. */
export async function readExit(dir: string): Promise<Marker<number | null> | null> {
  const marker = await readMarker(join(dir, 'exit'), { wholeLine: true });
  if (!marker) return null;
  const code = Number.parseInt(marker.value, 10);
  return { value: Number.isNaN(code) ? null : code, at: marker.at };
}

/** Why the connector stopped the run (an unknown word reads as `cancelled`), or null when it did not. */
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

/**
 * Writes `text` to `path` through a rename, so a reader sees the old file or the new one, never half.
 * Synchronous: these are small local files (a run's meta, an agent's records), and a trip through
 * libuv's thread pool costs more CPU than the syscalls; a busy agent writes hundreds a second.
 */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
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

/** A marker's text and mtime; with `wholeLine`, a file not yet ending in a newline (being written) reads as none. */
async function readMarker(path: string, options: { wholeLine?: boolean } = {}): Promise<Marker<string> | null> {
  const fd = openPlainFile(path);
  if (fd === null) return null;
  try {
    const info = fstatSync(fd);
    const buffer = Buffer.alloc(Math.min(info.size, 4096));
    const text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    if (options.wholeLine && !text.endsWith('\n')) return null;
    return { value: text.trim().slice(0, 100), at: Math.round(info.mtimeMs) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a file the agent reads but a job may have written (its output, its `exit`), refusing what a
 * job could plant instead: a link (the agent would read, and ship as output, a file of its own, the
 * admin token say) or a FIFO (the read would hang the agent). A descriptor, or null when the file
 * does not exist or is such a thing: a job that replaces its own output or exit file loses them.
 */
function openPlainFile(path: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ELOOP')) return null;
    throw error;
  }
  let plain = false;
  try {
    plain = fstatSync(fd).isFile();
  } finally {
    if (!plain) closeSync(fd);
  }
  return plain ? fd : null;
}

