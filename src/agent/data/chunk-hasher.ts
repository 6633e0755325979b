import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/*
 * The sha256 of a chunk being received, computed on a worker thread beside the socket reads.
 *
 * A receiving agent's event loop both reads the sockets (a kernel copy per read plus TCP's work,
 * ~0.7 s of CPU per GB) and would hash every byte (~0.6 s/GB more): on the event loop the two take
 * turns on one core, and on an idle 2-core machine that loop is what a transfer waits on (its
 * utilization ~0.9). The chunk's bytes are already in a shared buffer (the pool hands out
 * SharedArrayBuffers), so the worker hashes them where they lie: the event loop posts only "bytes
 * from..to are in" every HASH_BATCH_BYTES, and the hash runs beside the next reads. It costs ~0.1 s
 * of CPU per GB more (the bytes are read from the other core's cache, and the messages), and buys
 * ~20% of speed where a core is free (docs/data.md, "Figures"). One worker serves every chunk of
 * the process; it holds the process open only while a digest is awaited.
 *
 * A buffer that is not shared (a caller's own memory) is hashed on the calling thread instead, by
 * the same interface.
 */

/** One chunk's running hash over `buffer`: tell it which bytes are in, then ask for the digest. */
export interface ChunkHash {
  /** Bytes `from`..`to` of the buffer are final: hash them (in order: `from` is the previous `to`). */
  update(from: number, to: number): void;
  /** The sha256 (hex) of every byte given to `update`. The buffer must stay untouched until this resolves. */
  digest(): Promise<string>;
  /** Forget this hash (the receive failed); the buffer may be reused at once, the result is dropped. */
  abort(): void;
}

/** Starts the sha256 of a chunk held in `buffer`. */
export function hashChunk(buffer: Buffer): ChunkHash {
  if (!(buffer.buffer instanceof SharedArrayBuffer)) return localHash(buffer);
  return sharedWorker().start(buffer);
}

function localHash(buffer: Buffer): ChunkHash {
  const hash = createHash('sha256');
  return {
    update: (from, to) => void hash.update(buffer.subarray(from, to)),
    digest: () => Promise.resolve(hash.digest('hex')),
    abort: () => undefined,
  };
}

// The worker's source: plain CommonJS, so it runs the same under tsx and from dist/.
// In: ['begin', id, sharedBuffer, byteOffset] · ['update', id, from, to] · ['digest', id] · ['abort', id].
// Out: [id, hex], or [id, null, why].
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const open = new Map();
parentPort.on('message', ([what, id, a, b]) => {
  if (what === 'begin') open.set(id, { hash: createHash('sha256'), bytes: new Uint8Array(a, b) });
  else if (what === 'update') open.get(id)?.hash.update(open.get(id).bytes.subarray(a, b));
  else if (what === 'abort') open.delete(id);
  else if (what === 'digest') {
    const o = open.get(id);
    open.delete(id);
    parentPort.postMessage(o ? [id, o.hash.digest('hex')] : [id, null, 'no such hash']);
  }
});
`;

interface Waiting {
  resolve(hex: string): void;
  reject(error: Error): void;
}

class HashWorker {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  #next = 1;
  #failed: Error | null = null;

  constructor() {
    // No execArgv: the worker is plain JavaScript and needs none of the loaders the process may run with (tsx).
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    this.#worker.unref();
    this.#worker.on('message', ([id, hex, message]: [number, string | null, string?]) => {
      const w = this.#waiting.get(id);
      if (!w) return;
      this.#waiting.delete(id);
      if (this.#waiting.size === 0) this.#worker.unref();
      if (hex === null) w.reject(new Error(`the hashing thread failed: ${message}`));
      else w.resolve(hex);
    });
    const fail = (error: Error) => {
      this.#failed = error;
      if (worker === this) worker = null; // the next chunk starts a new one
      for (const w of this.#waiting.values()) w.reject(error);
      this.#waiting.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`the hashing thread exited (code ${code})`)));
  }

  start(buffer: Buffer): ChunkHash {
    const id = this.#next++;
    const post = (m: readonly unknown[]) => {
      if (!this.#failed) this.#worker.postMessage(m);
    };
    const base = buffer.byteOffset;
    post(['begin', id, buffer.buffer, base]);
    let ended = false;
    let posted = 0;
    let upTo = 0;
    const flush = () => {
      if (upTo > posted) post(['update', id, posted, upTo]);
      posted = upTo;
    };
    return {
      update: (from, to) => {
        if (from !== upTo) throw new RangeError(`chunk hash: bytes ${from}..${to} given after ${upTo}`);
        upTo = to;
        if (upTo - posted >= HASH_BATCH_BYTES) flush();
      },
      digest: () => {
        ended = true;
        flush();
        if (this.#failed) return Promise.reject(this.#failed);
        return new Promise<string>((resolve, reject) => {
          if (this.#waiting.size === 0) this.#worker.ref(); // a pending digest keeps the process alive
          this.#waiting.set(id, { resolve, reject });
          post(['digest', id]);
        });
      },
      abort: () => {
        if (ended) return;
        ended = true;
        post(['abort', id]);
      },
    };
  }
}

/** Bytes posted to the worker at a time: a message per socket read (~0.5 MiB) or per 64 KiB part of an upload would cost more than it buys. */
const HASH_BATCH_BYTES = 256 * 1024;

let worker: HashWorker | null = null;

function sharedWorker(): HashWorker {
  worker ??= new HashWorker();
  return worker;
}
