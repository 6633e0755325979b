import { SuanwangError } from '../core/errors.js';
import { MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, planChunks } from './chunk-plan.js';
import { datasetPath } from './dataset-path.js';

/** A sha256 in lower-case hex: a chunk's name. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface ManifestFile {
  /** Relative path inside the dataset (`datasetPath`'s canonical spelling). */
  readonly path: string;
  readonly bytes: number;
  /** The sha256 of each chunk of the file, in order (`planChunks(bytes, chunkBytes)` of them). */
  readonly chunks: readonly string[];
}

/**
 * What one version of a dataset is: its files, each a list of chunk hashes. Sealed, it never
 * changes; its digest (sha256 of `canonicalManifest`) names the version's content.
 */
export interface Manifest {
  readonly chunkBytes: number;
  /** Sorted by path, each path once. */
  readonly files: readonly ManifestFile[];
}

const invalid = (field: string, message: string, hint: string) => new SuanwangError('invalid_manifest', message, { field, hint });

/**
 * Checks a manifest from outside (a user's upload, a stored row) and returns it canonical (files
 * sorted by path). Refuses, naming the field: a path outside the dataset, a path given twice or
 * both as a file and a folder, a chunk count that does not fit the size, a hash that is not sha256.
 */
export function checkManifest(input: { chunkBytes: number; files: readonly { path: string; bytes: number; chunks: readonly string[] }[] }, field = 'manifest'): Manifest {
  const { chunkBytes } = input;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) {
    throw invalid(`${field}.chunkBytes`, `${field}.chunkBytes is ${chunkBytes}`, `use a whole number from ${MIN_CHUNK_BYTES} to ${MAX_CHUNK_BYTES}`);
  }
  const files = input.files.map((f, i) => {
    const at = `${field}.files[${i}]`;
    const path = datasetPath(f.path, `${at}.path`);
    if (!Number.isSafeInteger(f.bytes) || f.bytes < 0) throw invalid(`${at}.bytes`, `${at}.bytes is ${f.bytes}`, 'a size is a whole number of bytes >= 0');
    const want = planChunks(f.bytes, chunkBytes).length;
    if (f.chunks.length !== want) {
      throw invalid(`${at}.chunks`, `${at} (${path}) has ${f.chunks.length} chunks, its ${f.bytes} bytes make ${want}`, `cut files into chunks of ${chunkBytes} bytes, the last one shorter`);
    }
    f.chunks.forEach((c, k) => {
      if (!SHA256_HEX.test(c)) throw invalid(`${at}.chunks[${k}]`, `${at}.chunks[${k}] is ${JSON.stringify(c)}, not a sha256`, 'give 64 lower-case hex digits');
    });
    return { path, bytes: f.bytes, chunks: [...f.chunks] };
  });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < files.length; i++) {
    const prev = files[i - 1]!.path;
    const path = files[i]!.path;
    if (prev === path) throw invalid(`${field}.files`, `${field} lists ${path} twice`, 'list each file once');
  }
  const paths = new Set(files.map((f) => f.path));
  for (const f of files) {
    const segments = f.path.split('/');
    for (let k = 1; k < segments.length; k++) {
      const dir = segments.slice(0, k).join('/');
      if (paths.has(dir)) throw invalid(`${field}.files`, `${field} has ${dir} both as a file and as the folder of ${f.path}`, 'rename one of them');
    }
  }
  return { chunkBytes, files };
}

/** The manifest as one canonical JSON text: the same content always gives the same text (and digest). */
export function canonicalManifest(m: Manifest): string {
  return JSON.stringify({ chunkBytes: m.chunkBytes, files: m.files.map((f) => ({ path: f.path, bytes: f.bytes, chunks: f.chunks })) });
}

/** The total size of a manifest's files. */
export function manifestBytes(m: Manifest): number {
  return m.files.reduce((sum, f) => sum + f.bytes, 0);
}

/** Each chunk of the manifest once, with its length, in first-use order. */
export function uniqueChunks(m: Manifest): { sha256: string; bytes: number }[] {
  const seen = new Map<string, number>();
  for (const f of m.files) {
    const slices = planChunks(f.bytes, m.chunkBytes);
    f.chunks.forEach((c, k) => {
      if (!seen.has(c)) seen.set(c, slices[k]!.length);
    });
  }
  return [...seen].map(([sha256, bytes]) => ({ sha256, bytes }));
}

/** The chunks of `m` not among `present`, each once: what still has to move. */
export function missingChunks(m: Manifest, present: ReadonlySet<string>): { sha256: string; bytes: number }[] {
  return uniqueChunks(m).filter((c) => !present.has(c.sha256));
}
