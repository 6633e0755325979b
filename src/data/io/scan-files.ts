import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { SuanwangError } from '../../core/errors.js';
import { checkManifest, DEFAULT_CHUNK_BYTES, planChunks, type Manifest } from '../index.js';

/*
 * Local files into a manifest: `suanwang datasets push` hashes a user's folder with it, and an agent
 * a succeeded job's output folder (docs/data.md). File I/O only, no network; every file is read
 * once, chunk by chunk, never whole into memory.
 */

/** A file of a local folder being pushed, where its bytes are. */
export interface LocalFile {
  readonly path: string;
  readonly absolute: string;
  readonly bytes: number;
}

export interface ScanOptions {
  /**
   * Every folder and file must be owned by this uid (an agent running as root reading an org user's
   * outputs: it reads nothing that user could not have written). Absent: any owner.
   */
  readonly ownerUid?: number | null | undefined;
}

/**
 * The manifest of a file or a folder (every regular file under it; symlinks and other special
 * files are refused, naming them): each file read once, chunk by chunk, hashed as it streams.
 */
export async function scanDataset(root: string, chunkBytes = DEFAULT_CHUNK_BYTES, onBytes?: (n: number) => void, options: ScanOptions = {}): Promise<{ manifest: Manifest; files: LocalFile[] }> {
  const info = await stat(root).catch(() => null);
  if (!info) throw new SuanwangError('invalid_field', `${root} does not exist`, { field: 'path', hint: 'give a file or a folder to push' });
  const files: LocalFile[] = [];
  // One file named on the command line may be a link to it (what it points to is read); inside a folder, links are refused.
  if (info.isFile()) files.push({ path: basename(root), absolute: await realpath(root), bytes: info.size });
  else await walk(root, root, files, options.ownerUid ?? null);
  const entries = [];
  for (const f of files) entries.push({ path: f.path, bytes: f.bytes, chunks: await hashChunks(f, chunkBytes, options.ownerUid ?? null, onBytes) });
  return { manifest: checkManifest({ chunkBytes, files: entries }, 'files'), files };
}

async function walk(root: string, dir: string, out: LocalFile[], ownerUid: number | null): Promise<void> {
  if (ownerUid !== null) assertOwner(dir, await lstat(dir), ownerUid);
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const absolute = join(dir, entry.name);
    if (entry.isDirectory()) await walk(root, absolute, out, ownerUid);
    else if (entry.isFile()) out.push({ path: relative(root, absolute).split(sep).join('/'), absolute, bytes: (await lstat(absolute)).size });
    else throw new SuanwangError('invalid_field', `${absolute} is not a regular file or a folder`, { field: 'path', hint: 'datasets hold regular files only: copy what a link points to, or leave it out' });
  }
}

function assertOwner(path: string, info: { uid: number }, ownerUid: number): void {
  if (info.uid !== ownerUid) {
    throw new SuanwangError('forbidden', `${path} is owned by uid ${info.uid}, not by the job's user (uid ${ownerUid})`, { field: 'path', hint: "outputs hold files the job's user wrote; copy others in, don't link them" });
  }
}

/**
 * Opens a scanned file to read its bytes again: never through a symlink (O_NOFOLLOW), only a
 * regular file of the size it was scanned at, and owned by `ownerUid` when given. A file changed
 * since the scan is refused, naming it; the caller closes the handle.
 */
export async function openScanned(file: LocalFile, ownerUid: number | null = null): Promise<FileHandle> {
  const handle = await open(file.absolute, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ELOOP') throw new SuanwangError('invalid_field', `${file.absolute} is a symlink`, { field: 'path', hint: 'datasets hold regular files only' });
    throw error;
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new SuanwangError('invalid_field', `${file.absolute} is not a regular file`, { field: 'path', hint: 'datasets hold regular files only' });
    if (ownerUid !== null) assertOwner(file.absolute, info, ownerUid);
    if (info.size !== file.bytes) throw new SuanwangError('invalid_field', `${file.absolute} changed while it was read (${file.bytes} bytes, now ${info.size})`, { field: 'path', hint: 'leave the files alone until they are stored' });
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Reads `into.length` bytes at `position` (a read may return less than asked). A file that ends
 * first throws `endedEarly(at, missing)`: by default, a file changed while it was being stored.
 */
export async function readFully(
  handle: FileHandle,
  into: Buffer,
  position: number,
  endedEarly: (at: number, missing: number) => Error = (_at, missing) =>
    new SuanwangError('invalid_field', `a file ended ${missing} bytes early while it was read`, { field: 'path', hint: 'leave the files alone until they are stored' }),
): Promise<void> {
  for (let done = 0; done < into.length; ) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw endedEarly(position + done, into.length - done);
    done += bytesRead;
  }
}

const READ_BYTES = 1024 * 1024;

async function hashChunks(file: LocalFile, chunkBytes: number, ownerUid: number | null, onBytes?: (n: number) => void): Promise<string[]> {
  const out: string[] = [];
  const handle = await openScanned(file, ownerUid);
  try {
    const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, file.bytes)));
    for (const slice of planChunks(file.bytes, chunkBytes)) {
      const hash = createHash('sha256');
      for (let at = 0; at < slice.length; ) {
        const part = buffer.subarray(0, Math.min(buffer.length, slice.length - at));
        await readFully(handle, part, slice.offset + at);
        hash.update(part);
        at += part.length;
      }
      out.push(hash.digest('hex'));
      onBytes?.(slice.length);
    }
  } finally {
    await handle.close();
  }
  return out;
}
