/*
 * Chunk-sized buffers, reused: a fresh 4 MiB buffer per chunk costs its page faults every time
 * (about 0.8 s of system CPU per GB on this machine, more than the copy it holds), a reused one
 * none. A few are kept: about one per chunk in flight.
 */
const spare: ArrayBuffer[] = [];
const KEEP = 16;

/** A buffer of exactly `bytes` bytes, its contents undefined; hand it back with `giveBack` once nothing reads or writes it. */
export function takeBuffer(bytes: number): Buffer {
  const k = spare.findIndex((b) => b.byteLength >= bytes);
  const memory = k >= 0 ? spare.splice(k, 1)[0]! : new ArrayBuffer(bytes);
  return Buffer.from(memory, 0, bytes);
}

/** Returns a buffer `takeBuffer` gave (no other): the next `takeBuffer` may hand its memory out again. */
export function giveBack(buffer: Buffer): void {
  if (spare.length < KEEP && buffer.buffer instanceof ArrayBuffer) spare.push(buffer.buffer);
}
