import { DataPortClient } from '../../api/client/data-port.js';
import { SuanwangError } from '../../core/errors.js';
import type { Rng } from '../../core/rng.js';
import { retryDelayMs, uniqueChunks, type Manifest } from '../../data/index.js';

/** What paces a transfer: `take(n)` is the wait in ms before sending n bytes (a `TokenBucket`). */
export interface Pacer {
  take(bytes: number): number;
}
import type { ChunkStore } from './chunk-store.js';

export interface Source {
  readonly url: string;
  readonly grant: string;
  /** The link's limit from this source into the store's center (shared by every transfer over it); absent: none. */
  readonly limiter?: Pacer | null;
}

export interface FetchOptions {
  readonly store: ChunkStore;
  readonly versionId: string;
  readonly manifest: Manifest;
  /** Centers holding the version, best first: a chunk that keeps failing at one is asked of the next. */
  readonly sources: readonly Source[];
  /** The receiving center's limit, shared by all its transfers; null: none. A source's link limit applies too. */
  readonly limiter?: Pacer | null;
  /** Called after each chunk with the bytes held so far of the version. */
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
  readonly signal?: AbortSignal;
  readonly rng: Rng;
  /** Chunks in flight at once (default 4). */
  readonly concurrency?: number;
  /** Attempts per chunk before the transfer fails (default 6). */
  readonly attempts?: number;
}

/**
 * Brings every chunk of a version into `store` from its sources, then seals it there. Chunks held
 * already are skipped, a partial chunk resumes with a range request from the bytes it has, every
 * chunk is verified by the store as it lands, and a failed request is retried with backoff (a
 * corrupt chunk is fetched again). Returns the bytes actually moved.
 */
export async function fetchVersion(o: FetchOptions): Promise<number> {
  const chunks = uniqueChunks(o.manifest);
  const total = chunks.reduce((s, c) => s + c.bytes, 0);
  const missing = new Set(await o.store.missing(chunks.map((c) => c.sha256)));
  let done = chunks.filter((c) => !missing.has(c.sha256)).reduce((s, c) => s + c.bytes, 0);
  let moved = 0;
  o.onProgress?.(done, total);
  const clients = o.sources.map((s) => new DataPortClient({ url: s.url, grant: s.grant, version: o.versionId }));
  // Each source's pacer: the tighter of the center's limit and that source's link limit.
  const pacers = o.sources.map((s) => both(o.limiter ?? null, s.limiter ?? null));
  if (missing.size > 0 && clients.length === 0) throw new SuanwangError('data_not_ready', `no center holds version ${o.versionId} complete to copy it from`, { hint: 'push it again' });
  const attempts = o.attempts ?? 6;
  const queue = chunks.filter((c) => missing.has(c.sha256));
  let next = 0;
  let failed = false;
  // A few chunks in flight at once: one request's round trips and disk writes overlap the others'.
  const worker = async (w: number) => {
    while (next < queue.length && !failed) {
      const chunk = queue[next++]!;
      for (let attempt = 1; ; attempt++) {
        o.signal?.throwIfAborted();
        const from = (w + attempt - 1) % clients.length;
        const client = clients[from]!;
        const pacer = pacers[from]!;
        const offset = await o.store.partialBytes(chunk.sha256);
        try {
          await o.store.receive(chunk.sha256, chunk.bytes, offset, (into, onFilled) => {
            let paced = 0;
            return client.getInto(chunk.sha256, offset, into, (filled) => {
              onFilled(filled);
              const wait = pacer?.take(filled - paced) ?? 0;
              paced = filled;
              return wait;
            }, o.signal);
          });
          moved += chunk.bytes - offset;
          break;
        } catch (error) {
          if (o.signal?.aborted) throw o.signal.reason as Error;
          const fatal = error instanceof SuanwangError && !error.retryable && error.code !== 'chunk_corrupt';
          if (fatal || (error instanceof SuanwangError && error.code === 'storage_full') || attempt >= attempts) throw error;
          await sleep(retryDelayMs(attempt, o.rng), o.signal);
        }
      }
      done += chunk.bytes;
      o.onProgress?.(done, total);
    }
  };
  // When one chunk fails the others take no new chunk, and the transfer ends only once every
  // receive has ended and kept what it got (a partial chunk to resume from), never while one writes.
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(o.concurrency ?? 4, queue.length) }, (_, w) =>
      worker(w).catch((error: unknown) => {
        failed = true;
        throw error;
      }),
    ),
  );
  const failure = settled.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
  await o.store.seal(o.versionId, o.manifest);
  return moved;
}

/** Both limits at once: every part takes from each, and waits for the longer of the two. */
function both(a: Pacer | null, b: Pacer | null): Pacer | null {
  if (!a || !b) return a ?? b;
  return { take: (n) => Math.max(a.take(n), b.take(n)) };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
