import { mkdir, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Lease } from '../core/agent-protocol.js';
import { utf8TextOf } from './utf8-text.js';

/**
 * What every connector does the same way with a run on the file system: its environment, the files
 * it ships into its working directory, and reading its output by byte offset.
 */

/** The agent's variables a run inherits; everything else of the agent's environment stays out. */
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'TMPDIR'] as const;
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** A run's environment: those few agent variables, the lease's, then ours (SUANWANG_*), then `extra`. */
export function runEnvironment(lease: Lease, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
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
    ...extra,
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
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    let buffer = Buffer.alloc(maxBytes);
    let { bytesRead } = await file.read(buffer, 0, maxBytes, offset);
    let length = utf8PrefixLength(buffer, bytesRead);
    if (length === 0 && bytesRead > 0) {
      buffer = Buffer.alloc(4);
      ({ bytesRead } = await file.read(buffer, 0, 4, offset));
      length = utf8PrefixLength(buffer, bytesRead);
    }
    return { data: utf8TextOf(buffer.subarray(0, length)), nextOffset: offset + length };
  } finally {
    await file.close();
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
 * Deletes a run's folder. It is renamed first (inside `runsDir`), so that a concurrent scan of the
 * runs sees the whole run or none of it, never half its files. A folder already gone is fine.
 */
export async function removeRunDir(runsDir: string, dir: string, key: string): Promise<void> {
  const doomed = join(runsDir, `.forget-${key}-${process.pid}-${Date.now()}`);
  try {
    await rename(dir, doomed);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await rm(doomed, { recursive: true, force: true });
}
