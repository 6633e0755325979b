/**
 * Output bytes as text whose UTF-8 encoding has exactly as many bytes: every byte that is not part of
 * a well-formed UTF-8 sequence becomes '?'. Log offsets are byte offsets into the output file, and
 * the control plane measures chunks by their UTF-8 length, so the two must agree even for programs
 * that print GBK or binary (a U+FFFD replacement would be 3 bytes for 1).
 */
export function utf8TextOf(bytes: Uint8Array): string {
  let clean: Buffer | undefined;
  let i = 0;
  while (i < bytes.length) {
    const size = sequenceLength(bytes, i);
    if (size === 0) {
      clean ??= Buffer.from(bytes);
      clean[i] = 0x3f; // '?'
      i += 1;
    } else i += size;
  }
  return (clean ?? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)).toString('utf8');
}

/** Length of the well-formed UTF-8 sequence at `i` (1–4), or 0 when the byte there does not start one. */
function sequenceLength(b: Uint8Array, i: number): number {
  const x = b[i]!;
  if (x < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (x >= 0xc2 && x <= 0xdf) return cont(1) ? 2 : 0;
  if (x >= 0xe0 && x <= 0xef) {
    const y = b[i + 1];
    if (y === undefined) return 0;
    if (x === 0xe0 && y < 0xa0) return 0; // overlong
    if (x === 0xed && y > 0x9f) return 0; // surrogates
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (x >= 0xf0 && x <= 0xf4) {
    const y = b[i + 1];
    if (y === undefined) return 0;
    if (x === 0xf0 && y < 0x90) return 0;
    if (x === 0xf4 && y > 0x8f) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}
