import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { SuanwangError } from '../../core/errors.js';
import { giveBack, takeBuffer } from './buffer-pool.js';
import { hashChunk } from './chunk-hasher.js';
import { readFully } from '../../data/io/scan-files.js';
import { checkManifest, planChunks, SHA256_HEX, uniqueChunks, type Manifest } from '../../data/index.js';

/*
 * A center's dataset storage, owned by its agent (root 0700: jobs never read it directly):
 *
 *   <root>/chunks/<aa>/<sha256>     verified chunks, named by their content, never changed
 *   <root>/partial/<sha256>         a chunk being received; kept across restarts, so a transfer resumes mid-chunk
 *   <root>/versions/<id>.json       a version's sealed manifest: present means this center holds it complete
 *   <root>/views/<owner>/<id>/      a version as files, read-only, owned by the org user its jobs run as
 *
 * A chunk enters `chunks/` only after its sha256 and length were checked, by a rename: a crash
 * leaves at worst a partial file, never a wrong chunk.
 */
export class ChunkStore {
  readonly root: string;
  readonly #quotaBytes: number | null;
  #usedBytes: number | null = null;
  /** Chunk lengths by name of sealed versions a data port sent from (`sealedChunkBytes`). */
  readonly #sealedChunks = new Map<string, Map<string, number>>();
  #drops = 0;

  /** `quotaBytes`: the most this store may hold (chunks and partial files); null: the disk's size. */
  get quotaBytes(): number | null {
    return this.#quotaBytes;
  }

  constructor(root: string, options: { quotaBytes?: number | null } = {}) {
    this.root = root;
    this.#quotaBytes = options.quotaBytes ?? null;
  }

  chunkPath(sha: string): string {
    return join(this.root, 'chunks', sha.slice(0, 2), sha);
  }
  #partialPath(sha: string): string {
    return join(this.root, 'partial', sha);
  }
  #versionPath(id: string): string {
    return join(this.root, 'versions', `${checkId(id)}.json`);
  }

  async has(sha: string): Promise<boolean> {
    return (await stat(this.chunkPath(checkSha(sha))).catch(() => null)) !== null;
  }

  /** Of `shas`, those not held yet. */
  async missing(shas: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const sha of new Set(shas)) if (!(await this.has(sha))) out.push(sha);
    return out;
  }

  /** Bytes already received of a chunk still partial (0 when none): where a transfer resumes. */
  async partialBytes(sha: string): Promise<number> {
    return (await stat(this.#partialPath(checkSha(sha))).catch(() => null))?.size ?? 0;
  }

  /** Bytes held: chunks and partial files. */
  async usedBytes(): Promise<number> {
    if (this.#usedBytes === null) this.#usedBytes = (await sizeOf(join(this.root, 'chunks'))) + (await sizeOf(join(this.root, 'partial')));
    return this.#usedBytes;
  }

  /** Bytes the quota leaves free (Infinity without a quota). */
  async freeBytes(): Promise<number> {
    return this.#quotaBytes === null ? Infinity : this.#quotaBytes - (await this.usedBytes());
  }

  /**
   * Receives chunk `sha` of `bytes` bytes from `body`, which starts at byte `offset` (0, or the
   * `partialBytes` of an interrupted receive). Checks length and sha256 over the whole chunk;
   * refuses with `chunk_corrupt` (and drops the partial file) when they do not match, with
   * `storage_full` when the quota or the disk has no room. A chunk already held is left alone.
   */
  async put(sha: string, bytes: number, body: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, offset = 0): Promise<void> {
    if (await this.has(checkSha(sha))) {
      for await (const _ of body); // drain: the caller's stream must end
      return;
    }
    await this.receive(sha, bytes, offset, (into, onFilled) => {
      let filled = 0;
      return eachPart(body, (part) => {
        if (filled + part.length > into.length) throw new SuanwangError('chunk_corrupt', `chunk ${sha} is longer than its ${bytes} bytes`, { hint: 'send the chunk again' });
        into.set(part, filled);
        onFilled((filled += part.length));
      });
    });
  }

  /**
   * As `put`, for a sender that writes into memory itself: `fill(into, onFilled)` puts the chunk's
   * bytes from `offset` on into `into` (as long as what is left of the chunk), calls
   * `onFilled(n)` as the first n bytes of it are in, and resolves when it is done.
   */
  async receive(sha: string, bytes: number, offset: number, fill: (into: Buffer, onFilled: (n: number) => void) => Promise<void>): Promise<void> {
    checkSha(sha);
    if (await this.has(sha)) return;
    const partial = this.#partialPath(sha);
    // A receive from byte 0 opens the partial file truncating what it held; only a resume asks how much that is.
    const had = offset > 0 ? await this.partialBytes(sha) : 0;
    if (offset !== 0 && offset !== had) {
      throw new SuanwangError('invalid_request', `chunk ${sha} resumes at byte ${offset}, the center has ${had}`, { field: 'offset', hint: `resume at byte ${had}` });
    }
    const room = await this.freeBytes();
    const incoming = bytes - offset;
    if (incoming > room) {
      throw new SuanwangError('storage_full', `the center's dataset storage has ${Math.max(0, room)} bytes free, chunk ${sha.slice(0, 12)}… needs ${incoming}`, {
        hint: 'free space (unpinned replicas are evicted at the quota) or raise the storage quota, then send again; nothing was lost',
      });
    }
    // The chunk is gathered into one pooled buffer (≤ MAX_CHUNK_BYTES) as it arrives, written out
    // in ~1 MiB slices as they fill (the writes run on libuv's threadpool, beside the socket
    // reads), and hashed as it lands, on the hashing thread (chunk-hasher.ts), beside the next
    // reads: hashing the whole chunk at its end read it back from memory (~0.9 s of CPU per GB
    // against ~0.6 while the bytes are fresh) and, on this thread, left the socket waiting.
    // WebCrypto's digest on the threadpool measured no better: it copies the chunk first.
    const chunk = takeBuffer(bytes);
    try {
      await this.#receive(sha, bytes, offset, fill, partial, chunk);
    } finally {
      giveBack(chunk);
    }
    await inDir(this.chunkPath(sha), (final) => rename(partial, final));
    if (this.#usedBytes !== null) this.#usedBytes += incoming;
  }

  /** Receives the rest of a chunk into `chunk` and its partial file, and checks it whole (see `put`). */
  async #receive(sha: string, bytes: number, offset: number, fill: (into: Buffer, onFilled: (n: number) => void) => Promise<void>, partial: string, chunk: Buffer): Promise<void> {
    const out = await inDir(partial, (path) => open(path, offset > 0 ? 'r+' : 'w', 0o600));
    let received = offset;
    let written = offset;
    let writing: Promise<void> = Promise.resolve();
    const flush = () => {
      const at = written;
      const slice = chunk.subarray(written, received);
      written = received;
      writing = writing.then(() => writeAll(out, slice, at));
    };
    const hash = hashChunk(chunk);
    try {
      if (offset > 0) await readAll(out, chunk.subarray(0, offset), 0);
      hash.update(0, offset);
      await fill(chunk.subarray(offset), (n) => {
        hash.update(received, offset + n);
        received = offset + n;
        if (received - written >= WRITE_BATCH_BYTES) flush();
      });
      if (received > written) flush();
      const digest = received === bytes ? await hash.digest() : null;
      await writing;
      if (digest !== sha) {
        throw new SuanwangError('chunk_corrupt', `chunk ${sha} arrived with ${received} bytes that do not hash to its name`, { hint: 'send the chunk again; the corrupt copy was dropped' });
      }
    } catch (error) {
      hash.abort();
      // An interrupted receive keeps what arrived (the next one resumes from it): flush the rest.
      // Bytes that proved wrong are dropped.
      const corrupt = error instanceof SuanwangError && error.code === 'chunk_corrupt';
      if (!corrupt && received > written) flush();
      await writing.catch(() => undefined);
      await out.close().catch(() => undefined);
      this.#usedBytes = null;
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        await rm(partial, { force: true });
        throw new SuanwangError('storage_full', `the disk under ${this.root} is full while receiving chunk ${sha.slice(0, 12)}…`, { hint: 'free disk space, then send again; nothing was lost' });
      }
      if (corrupt) await rm(partial, { force: true });
      throw error; // an interrupted receive keeps its partial file: the next one resumes from it
    }
    await out.close();
  }

  /**
   * A held chunk's bytes from `start` to its end, read whole (a chunk is at most MAX_CHUNK_BYTES)
   * into a buffer of the pool: the caller hands it back (`giveBack`) once it is sent. `bytes`, the
   * chunk's length when the caller knows it (its manifest's), saves asking the file.
   */
  async read(sha: string, start = 0, bytes?: number): Promise<Buffer> {
    const file = await open(this.chunkPath(checkSha(sha)), 'r');
    try {
      const into = takeBuffer(Math.max(0, (bytes ?? (await file.stat()).size) - start));
      await readAll(file, into, start).catch((error: unknown) => {
        giveBack(into);
        throw error;
      });
      return into;
    } finally {
      await file.close();
    }
  }

  /** Records `m` as held complete here, after checking every chunk is held. */
  async seal(id: string, m: Manifest): Promise<void> {
    const missing = await this.missing(uniqueChunks(m).map((c) => c.sha256));
    if (missing.length > 0) {
      throw new SuanwangError('data_not_ready', `${missing.length} chunks of version ${id} are not at this center yet (first: ${missing[0]})`, { hint: 'send the missing chunks (push again: chunks already there are skipped)' });
    }
    const path = this.#versionPath(id);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(`${path}.tmp`, JSON.stringify(m), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
    this.#drops++; // (sealed again: a chunk list kept of it, or being read, is not taken for this one)
    this.#sealedChunks.delete(id);
  }

  /**
   * The length of chunk `sha` in version `id` when this center holds that version complete:
   * null when it does not, undefined when the version has no such chunk. A data port asks this
   * for every chunk it sends; a sealed version never changes, so its manifest is read once (not
   * once per chunk: a read, a parse and a check of the whole list each time) until `dropVersion`.
   */
  async sealedChunkBytes(id: string, sha: string): Promise<number | null | undefined> {
    let chunks = this.#sealedChunks.get(id);
    if (!chunks) {
      const drops = this.#drops;
      const m = await this.version(id);
      if (m === null) return null;
      chunks = new Map(uniqueChunks(m).map((c) => [c.sha256, c.bytes]));
      if (drops === this.#drops) {
        // (not when a drop came meanwhile); a few versions are kept, the latest asked for
        this.#sealedChunks.set(id, chunks);
        if (this.#sealedChunks.size > SEALED_KEPT) this.#sealedChunks.delete(this.#sealedChunks.keys().next().value!);
      }
    } else {
      this.#sealedChunks.delete(id); // the latest asked for goes last, the first to go is the oldest
      this.#sealedChunks.set(id, chunks);
    }
    return chunks.get(sha);
  }

  /** The manifest of a version held complete here, or null. */
  async version(id: string): Promise<Manifest | null> {
    const text = await readFile(this.#versionPath(id), 'utf8').catch(() => null);
    return text === null ? null : checkManifest(JSON.parse(text) as Manifest);
  }

  /**
   * The version as files under `views/<owner>/<id>` (made once, reused by every later job of that
   * owner): files 0444, folders 0555, owned by `user` when given (the org's OS user; no other org's
   * user can read them). Every file is re-hashed chunk by chunk as it is written.
   */
  async view(id: string, owner: string, user: { uid: number; gid: number } | null): Promise<string> {
    const m = await this.version(id);
    if (m === null) throw new SuanwangError('data_not_ready', `version ${id} is not complete at this center`, { hint: 'stage it in first' });
    const ownerDir = join(this.root, 'views', checkId(owner));
    const dir = join(ownerDir, checkId(id));
    if (await stat(join(dir, '.complete')).catch(() => null)) return dir;
    await mkdir(join(this.root, 'views'), { recursive: true, mode: 0o711 });
    await mkdir(ownerDir, { recursive: true, mode: 0o700 });
    if (user) await chown(ownerDir, user.uid, user.gid);
    await rm(`${dir}.tmp`, { recursive: true, force: true });
    const dirs = new Set<string>([`${dir}.tmp`]);
    for (const f of m.files) {
      const target = join(`${dir}.tmp`, ...f.path.split('/'));
      for (let d = dirname(target); d.length > dir.length + 4; d = dirname(d)) dirs.add(d);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      const out = await open(target, 'w', 0o600);
      try {
        const slices = planChunks(f.bytes, m.chunkBytes);
        for (let k = 0; k < f.chunks.length; k++) {
          const sha = f.chunks[k]!;
          const data = await readFile(this.chunkPath(sha));
          if (data.length !== slices[k]!.length || createHash('sha256').update(data).digest('hex') !== sha) {
            throw new SuanwangError('chunk_corrupt', `chunk ${sha} of ${f.path} is damaged at this center`, { hint: 'the agent drops it; stage the version in again' });
          }
          await out.write(data);
        }
      } finally {
        await out.close();
      }
      if (user) await chown(target, user.uid, user.gid);
      await chmod(target, 0o444);
    }
    await writeFile(join(`${dir}.tmp`, '.complete'), '', { mode: 0o444 });
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      if (user) await chown(d, user.uid, user.gid);
      await chmod(d, 0o555);
    }
    await rename(`${dir}.tmp`, dir);
    return dir;
  }

  /** The ids of the versions held complete here. */
  async versions(): Promise<string[]> {
    return (await readdir(join(this.root, 'versions')).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));
  }

  /** Drops a version's manifest and views (its chunks stay while another version uses them: `sweep`). */
  async dropVersion(id: string): Promise<void> {
    this.#drops++;
    this.#sealedChunks.delete(id);
    await rm(this.#versionPath(id), { force: true });
    for (const owner of await readdir(join(this.root, 'views')).catch(() => [] as string[])) {
      const dir = join(this.root, 'views', owner, id);
      await chmodTree(dir);
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Deletes those of chunks `among` (a dropped version's) that no held version uses, nor `keep`
   * (chunks of versions being received); returns the bytes freed. Only candidates are looked at:
   * a chunk of an upload still open belongs to no held version yet, and stays.
   */
  async sweep(among: ReadonlySet<string>, keep: ReadonlySet<string> = new Set()): Promise<number> {
    const used = new Set<string>(keep);
    for (const name of await readdir(join(this.root, 'versions')).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const m = await this.version(name.slice(0, -5));
      if (m) for (const f of m.files) for (const c of f.chunks) used.add(c);
    }
    let freed = 0;
    for (const prefix of await readdir(join(this.root, 'chunks')).catch(() => [] as string[])) {
      for (const sha of await readdir(join(this.root, 'chunks', prefix))) {
        if (used.has(sha) || !among.has(sha)) continue;
        const path = join(this.root, 'chunks', prefix, sha);
        freed += (await stat(path)).size;
        await rm(path, { force: true });
      }
    }
    this.#usedBytes = null;
    return freed;
  }
}

function checkSha(sha: string): string {
  if (!SHA256_HEX.test(sha)) throw new SuanwangError('invalid_field', `chunk name ${JSON.stringify(sha).slice(0, 80)} is not a sha256`, { field: 'sha256', hint: 'give 64 lower-case hex digits' });
  return sha;
}

/** Ids become file names: letters, digits, `_` and `-` only. */
function checkId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new SuanwangError('invalid_field', `${JSON.stringify(id).slice(0, 80)} is not an id`, { field: 'id', hint: 'ids are letters, digits, _ and -' });
  return id;
}

const WRITE_BATCH_BYTES = 1024 * 1024;

/** Sealed versions whose chunk lists a store keeps in memory for its data port (a list is ~100 bytes a chunk). */
const SEALED_KEPT = 16;

/**
 * Runs `act(path)` (an open or a rename into `path`'s folder), making the folder first only when
 * it is missing: the folders exist after a store's first chunks, and a mkdir per chunk is a
 * threadpool round trip (~25–50 µs of CPU with its wake-ups) for nothing.
 */
async function inDir<T>(path: string, act: (path: string) => Promise<T>): Promise<T> {
  try {
    return await act(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    return act(path);
  }
}

/** Writes every byte of `data` at `position` (a write may take less than asked, e.g. near a full disk). */
async function writeAll(out: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) done += (await out.write(data, done, data.length - done, position + done)).bytesWritten;
}

/** Fills `into` from the file's byte `position` on (a file that ends first is damaged: `chunk_corrupt`). */
function readAll(file: FileHandle, into: Buffer, position: number): Promise<void> {
  return readFully(file, into, position, (at) => new SuanwangError('chunk_corrupt', `a chunk file at this center ended at byte ${at}`, { hint: 'the agent drops it; send or copy the chunk again' }));
}

/**
 * Calls `onPart` with each part of `body` as it comes. A node stream is read by its `data` events
 * (one call per socket read, no promise per part, as async iteration costs); the stream is
 * destroyed when `onPart` throws.
 */
function eachPart(body: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, onPart: (part: Uint8Array) => void): Promise<void> {
  const stream = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
  return new Promise<void>((resolve, reject) => {
    stream.on('data', (part: Uint8Array) => {
      try {
        onPart(part);
      } catch (error) {
        stream.destroy();
        reject(error as Error);
      }
    });
    stream.once('end', resolve);
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('the sender closed the chunk before its end')));
  });
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await sizeOf(path) : (await stat(path)).size;
  }
  return total;
}

async function chmodTree(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) return;
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isDirectory()) await chmodTree(join(dir, entry.name));
}
