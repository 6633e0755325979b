/**
 * How a dataset's files are cut into fixed-size chunks. A chunk is named by the sha256 of its bytes,
 * so a chunk already present at a center (from an interrupted upload, or another version sharing
 * it) is never sent again. 8 MiB: each chunk costs its own request, connection, file and ~10
 * threadpool round trips, ~1–2 ms of CPU over both ends of a transfer on a 2-core VM: at 4 MiB
 * that was ~0.2 s per GB (~10% of a transfer's CPU; docs/data.md, "Figures"), at 8 MiB half. Small
 * enough that a chunk corrupted on the way wastes little, that the chunk buffers of a
 * transfer in flight (4 each way) stay within the pool's 64 MiB (buffer-pool.ts), and that
 * versions sharing most of their bytes still share most chunks. Versions keep the size they were
 * pushed with (the manifest's `chunkBytes`).
 */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

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
