/**
 * How a dataset's files are cut into fixed-size chunks. A chunk is named by the sha256 of its bytes,
 * so a chunk already present at a center (from an interrupted upload, or another version sharing
 * it) is never sent again. 4 MiB: large enough that a request per chunk costs little next to its
 * bytes, small enough that a retried chunk wastes little.
 */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

/** The smallest and largest chunk size a manifest may declare. */
export const MIN_CHUNK_BYTES = 64 * 1024;
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

/** One chunk's place in its file. */
export interface ChunkSlice {
  readonly index: number;
  readonly offset: number;
  readonly length: number;
}

/** The slices of a file of `bytes` bytes: every chunk full but the last; an empty file has none. */
export function planChunks(bytes: number, chunkBytes: number = DEFAULT_CHUNK_BYTES): ChunkSlice[] {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`a file size is a whole number of bytes >= 0, got ${bytes}`);
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`a chunk size is a whole number of bytes >= 1, got ${chunkBytes}`);
  const slices: ChunkSlice[] = [];
  for (let offset = 0, index = 0; offset < bytes; offset += chunkBytes, index++) {
    slices.push({ index, offset, length: Math.min(chunkBytes, bytes - offset) });
  }
  return slices;
}
