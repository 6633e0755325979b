import { createHash } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { DataPortClient } from '../../api/client/data-port.js';
import { SuanwangError } from '../../core/errors.js';
import { planChunks, uniqueChunks, type Manifest } from '../../data/index.js';

// Hashing a folder into a manifest is shared with the agent (a job's outputs): src/data/io.
export { scanDataset, type LocalFile } from '../../data/io/scan-files.js';
import type { LocalFile } from '../../data/io/scan-files.js';

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
