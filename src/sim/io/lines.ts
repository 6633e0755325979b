import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** True when the file starts with the gzip magic bytes (whatever its name). */
export function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === GZIP_MAGIC[0] && b[1] === GZIP_MAGIC[1];
  } finally {
    closeSync(fd);
  }
}

/**
 * The lines of a text file, gzip or plain (told apart by the magic bytes), streamed in batches: the
 * lines of one chunk (1 MiB of text) at a time, never the whole file. A trailing '\r' is dropped
 * (CRLF files); a last line without '\n' is still a line. Stopping the iteration early closes the
 * file. Batches spare the per-line promise of an async iterator: readers loop over each batch
 * synchronously.
 */
export async function* readLineBatches(path: string): AsyncGenerator<string[]> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream: Readable = isGzip(path) ? file.pipe(createGunzip({ chunkSize: 1 << 18 })) : file;
  if (stream !== file) file.on('error', (e) => stream.destroy(e));
  stream.setEncoding('utf8');
  let rest = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let nl = chunk.indexOf('\n');
      if (nl < 0) {
        rest += chunk;
        continue;
      }
      // The first line of the chunk completes the partial line of the chunk before.
      const batch = [trimCr(rest + chunk.slice(0, nl))];
      let start = nl + 1;
      while ((nl = chunk.indexOf('\n', start)) >= 0) {
        batch.push(trimCr(chunk.slice(start, nl)));
        start = nl + 1;
      }
      rest = chunk.slice(start);
      yield batch;
    }
    if (rest !== '') yield [trimCr(rest)];
  } finally {
    stream.destroy();
    file.destroy();
  }
}

/** The lines of a text file one by one (see `readLineBatches`). */
export async function* readLines(path: string): AsyncGenerator<string> {
  for await (const batch of readLineBatches(path)) yield* batch;
}

function trimCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
