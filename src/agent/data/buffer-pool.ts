/*
 * Chunk-sized buffers, reused: a fresh 8 MiB buffer per chunk costs its page faults every time
 * (about 0.8 s of system CPU per GB on this machine, more than the copy it holds), a reused one
 * none. A few are kept, at most KEEP_BYTES in all (eight chunks of the default 8 MiB: one per
 * chunk in flight, four receiving and four sending); bigger chunks (up to 64 MiB) come and go.
 * The memory is shared (SharedArrayBuffer) so that the hashing thread (chunk-hasher.ts) reads a
 * chunk where it lies, without a copy.
 */
const spare: SharedArrayBuffer[] = [];
const KEEP_BYTES = 64 * 1024 * 1024;
let spareBytes = 0;

/** A buffer of exactly `bytes` bytes, its contents undefined; hand it back with `giveBack` once nothing reads or writes it. */
export function takeBuffer(bytes: number): Buffer {
  const k = spare.findIndex((b) => b.byteLength >= bytes);
  if (k < 0) return Buffer.from(new SharedArrayBuffer(bytes));
  const memory = spare.splice(k, 1)[0]!;
  spareBytes -= memory.byteLength;
  return Buffer.from(memory, 0, bytes);
}

/** Returns a buffer `takeBuffer` gave (no other): the next `takeBuffer` may hand its memory out again. */
export function giveBack(buffer: Buffer): void {
  const memory = buffer.buffer;
  if (!(memory instanceof SharedArrayBuffer) || spareBytes + memory.byteLength > KEEP_BYTES) return;
  spare.push(memory);
  spareBytes += memory.byteLength;
}
