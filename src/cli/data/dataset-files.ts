import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { DataPortClient } from '../../api/client/data-port.js';
import { SuanwangError } from '../../core/errors.js';
import { checkManifest, DEFAULT_CHUNK_BYTES, planChunks, uniqueChunks, type Manifest } from '../../data/index.js';

/** A file of a local folder being pushed, where its bytes are. */
export interface LocalFile {
  readonly path: string;
  readonly absolute: string;
  readonly bytes: number;
}

/**
 * The manifest of a file or a folder (every regular file under it; symlinks and other special
 * files are refused, naming them): each file read once, chunk by chunk, hashed as it streams.
 */
export async function scanDataset(root: string, chunkBytes = DEFAULT_CHUNK_BYTES, onBytes?: (n: number) => void): Promise<{ manifest: Manifest; files: LocalFile[] }> {
  const info = await stat(root).catch(() => null);
  if (!info) throw new SuanwangError('invalid_field', `${root} does not exist`, { field: 'path', hint: 'give a file or a folder to push' });
  const files: LocalFile[] = [];
  if (info.isFile()) files.push({ path: basename(root), absolute: root, bytes: info.size });
  else await walk(root, root, files);
  const entries = [];
  for (const f of files) entries.push({ path: f.path, bytes: f.bytes, chunks: await hashChunks(f.absolute, f.bytes, chunkBytes, onBytes) });
  return { manifest: checkManifest({ chunkBytes, files: entries }, 'files'), files };
}

async function walk(root: string, dir: string, out: LocalFile[]): Promise<void> {
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const absolute = join(dir, entry.name);
    if (entry.isDirectory()) await walk(root, absolute, out);
    else if (entry.isFile()) out.push({ path: relative(root, absolute).split(sep).join('/'), absolute, bytes: (await stat(absolute)).size });
    else throw new SuanwangError('invalid_field', `${absolute} is not a regular file or a folder`, { field: 'path', hint: 'datasets hold regular files only: copy what a link points to, or leave it out' });
  }
}

async function hashChunks(path: string, bytes: number, chunkBytes: number, onBytes?: (n: number) => void): Promise<string[]> {
  const out: string[] = [];
  for (const slice of planChunks(bytes, chunkBytes)) {
    const hash = createHash('sha256');
    for await (const part of createReadStream(path, { start: slice.offset, end: slice.offset + slice.length - 1, highWaterMark: 1024 * 1024 })) hash.update(part as Buffer);
    out.push(hash.digest('hex'));
    onBytes?.(slice.length);
  }
  return out;
}

/**
 * Sends the chunks the center lacks (asked first: an interrupted push resumes where it stopped),
 * each streamed from its file, `concurrency` at a time. Returns the bytes sent.
 */
export async function pushChunks(client: DataPortClient, manifest: Manifest, files: readonly LocalFile[], onBytes?: (n: number) => void, concurrency = 4): Promise<number> {
  const where = new Map<string, { absolute: string; offset: number; bytes: number }>();
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const f of manifest.files) {
    const local = byPath.get(f.path)!;
    planChunks(f.bytes, manifest.chunkBytes).forEach((s, k) => {
      if (!where.has(f.chunks[k]!)) where.set(f.chunks[k]!, { absolute: local.absolute, offset: s.offset, bytes: s.length });
    });
  }
  const all = uniqueChunks(manifest);
  const missing: string[] = [];
  for (let i = 0; i < all.length; i += 10_000) missing.push(...(await client.missing(all.slice(i, i + 10_000).map((c) => c.sha256))).missing);
  onBytes?.(all.reduce((s, c) => s + c.bytes, 0) - missing.reduce((s, sha) => s + where.get(sha)!.bytes, 0));
  let sent = 0;
  let next = 0;
  const worker = async () => {
    while (next < missing.length) {
      const sha = missing[next++]!;
      const at = where.get(sha)!;
      const handle = await open(at.absolute, 'r');
      try {
        const data = Buffer.allocUnsafe(at.bytes);
        await handle.read(data, 0, at.bytes, at.offset);
        await client.put(sha, at.bytes, data);
      } finally {
        await handle.close();
      }
      sent += at.bytes;
      onBytes?.(at.bytes);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, missing.length) }, worker));
  return sent;
}

/**
 * Writes a version's files under `dir` from a center's data port, each chunk checked against its
 * sha256 as it arrives (a mismatch is refused, naming the chunk); a file is written beside its
 * place and renamed in when whole, so an interrupted pull leaves no half file under its name.
 */
export async function pullFiles(client: DataPortClient, manifest: Manifest, dir: string, onBytes?: (n: number) => void): Promise<void> {
  const buffer = Buffer.allocUnsafe(manifest.chunkBytes);
  for (const f of manifest.files) {
    const target = join(dir, ...f.path.split('/'));
    if (!target.startsWith(join(dir) + sep) && target !== join(dir)) throw new SuanwangError('invalid_field', `${f.path} lies outside ${dir}`, { field: 'path' });
    await mkdir(dirname(target), { recursive: true });
    const out = await open(`${target}.part`, 'w');
    try {
      const slices = planChunks(f.bytes, manifest.chunkBytes);
      for (let k = 0; k < f.chunks.length; k++) {
        const sha = f.chunks[k]!;
        const data = buffer.subarray(0, slices[k]!.length);
        let had = 0;
        await client.getInto(sha, 0, data, (filled) => {
          onBytes?.(filled - had);
          had = filled;
          return 0;
        });
        if (createHash('sha256').update(data).digest('hex') !== sha) throw new SuanwangError('chunk_corrupt', `chunk ${sha} of ${f.path} arrived damaged`, { hint: 'pull again' });
        await out.write(data);
      }
    } finally {
      await out.close();
    }
    await rename(`${target}.part`, target);
  }
}
