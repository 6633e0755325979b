import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyGrant, type DataGrant } from '../../core/data-grant.js';
import { SuanwangError } from '../../core/errors.js';
import { SHA256_HEX, TokenBucket } from '../../data/index.js';
import { giveBack } from './buffer-pool.js';
import type { ChunkStore } from './chunk-store.js';

/*
 * A center's data port: the storage endpoint of its agent (as Rucio's storage elements are
 * endpoints FTS talks to). Users push and pull chunks here, and other centers' agents fetch
 * replicas from here; every request carries a grant the control plane signed for this center
 * (core/data-grant.ts), naming one version and a mode.
 *
 *   POST /v1/data/versions/:v/missing        {chunks: [sha]} → {missing: [sha], partial: {sha: bytes}}   (w)
 *   PUT  /v1/data/versions/:v/chunks/:sha    body: the chunk (X-Chunk-Bytes: its length;
 *                                            X-Chunk-Offset: where this body starts, to resume)          (w)
 *   GET  /v1/data/versions/:v/chunks/:sha    a chunk of a version held complete here; Range: bytes=N-    (r)
 *   GET  /v1/data/versions/:v/manifest       the version's manifest, when held complete here             (r)
 */

export interface DataServerOptions {
  readonly store: ChunkStore;
  /** The center's id: grants for other centers are refused. */
  readonly centerId: () => string | null;
  /** The key grants are signed with (the agent chose it and told the control plane). */
  readonly key: string;
  readonly host?: string;
  readonly port?: number;
  /** Bytes per second this center sends at most, over all requests; null: no limit. */
  readonly sendBytesPerSecond?: number | null;
  /**
   * Called when an uploaded chunk would not fit in the quota: frees `bytes` for version `versionId`
   * by evicting unpinned replicas, or throws `storage_full` (the agent's eviction, docs/data.md).
   */
  readonly makeRoom?: (versionId: string, bytes: number) => Promise<void>;
}

export interface DataServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the data port; resolves once it listens. */
export async function startDataServer(options: DataServerOptions): Promise<DataServer> {
  const clock = { now: () => Date.now() };
  const limiter = options.sendBytesPerSecond ? new TokenBucket(options.sendBytesPerSecond, clock) : null;
  const server: Server = createServer((req, res) => {
    handle(options, limiter, req, res).catch((error: unknown) => fail(res, error));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const SEND_SLICE_BYTES = 1024 * 1024;

const ROUTE = /^\/v1\/data\/versions\/([A-Za-z0-9_-]{1,128})\/(missing|manifest|chunks\/([^/]*))$/;

async function handle(o: DataServerOptions, limiter: TokenBucket | null, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const m = ROUTE.exec(url.pathname);
  if (!m) throw new SuanwangError('not_found', `no data route ${req.method} ${url.pathname}`, { hint: 'see docs/data.md for the data port' });
  const version = m[1]!;
  const sha = m[3];
  if (sha !== undefined && !SHA256_HEX.test(sha)) throw new SuanwangError('invalid_field', `chunk name ${JSON.stringify(sha).slice(0, 80)} is not a sha256`, { field: 'sha256', hint: 'give 64 lower-case hex digits' });
  const mode = req.method === 'GET' || req.method === 'HEAD' ? 'r' : 'w';
  grantFor(o, req, version, mode);
  if (m[2] === 'missing' && req.method === 'POST') {
    const body = JSON.parse((await readBody(req, 4 * 1024 * 1024)).toString('utf8')) as { chunks?: unknown };
    if (!Array.isArray(body.chunks) || !body.chunks.every((c) => typeof c === 'string' && SHA256_HEX.test(c))) {
      throw new SuanwangError('invalid_field', 'chunks must be a list of sha256 names', { field: 'chunks', hint: 'give 64 lower-case hex digits each' });
    }
    const missing = await o.store.missing(body.chunks as string[]);
    const partial: Record<string, number> = {};
    for (const c of missing) {
      const n = await o.store.partialBytes(c);
      if (n > 0) partial[c] = n;
    }
    return json(res, 200, { missing, partial });
  }
  if (m[2] === 'manifest' && req.method === 'GET') {
    const manifest = await o.store.version(version);
    if (!manifest) throw new SuanwangError('data_not_ready', `version ${version} is not complete at this center`, { hint: 'read it from a center that holds it' });
    return json(res, 200, manifest);
  }
  if (sha !== undefined && req.method === 'PUT') {
    const bytes = Number(req.headers['x-chunk-bytes']);
    const offset = Number(req.headers['x-chunk-offset'] ?? 0);
    if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > 64 * 1024 * 1024) {
      throw new SuanwangError('invalid_field', `X-Chunk-Bytes is ${JSON.stringify(req.headers['x-chunk-bytes'])}`, { field: 'X-Chunk-Bytes', hint: "give the chunk's length in bytes" });
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= bytes) {
      throw new SuanwangError('invalid_field', `X-Chunk-Offset is ${JSON.stringify(req.headers['x-chunk-offset'])}`, { field: 'X-Chunk-Offset', hint: 'give 0, or the bytes the center already has of this chunk' });
    }
    if (o.makeRoom && bytes - offset > (await o.store.freeBytes()) && !(await o.store.has(sha))) await o.makeRoom(version, bytes - offset);
    await o.store.put(sha, bytes, req, offset);
    return json(res, 201, { ok: true });
  }
  if (sha !== undefined && req.method === 'GET') {
    // Only chunks of the version the grant names: a grant for one org's dataset reads nothing else.
    const bytes = await o.store.sealedChunkBytes(version, sha);
    if (bytes === null) throw new SuanwangError('data_not_ready', `version ${version} is not complete at this center`, { hint: 'read it from a center that holds it' });
    if (bytes === undefined) throw new SuanwangError('not_found', `chunk ${sha} is not part of version ${version}`, { hint: "read the version's manifest for its chunks" });
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start >= bytes && bytes > 0) {
      res.writeHead(416, { 'content-range': `bytes */${bytes}`, 'content-length': '0' });
      res.end();
      return;
    }
    // The chunk is read whole, before the head goes out (a failed read is still an error
    // answer), and handed to the socket at once (a read stream's 1 MiB parts cost a read, a write
    // and a drain each); with a send limit it goes out in 1 MiB slices, each after its wait. Its
    // length is the manifest's: the port trusts its sealed store (every chunk was hashed as it
    // entered it) and neither re-hashes nor asks the file.
    const data = await o.store.read(sha, start, bytes);
    res.once('close', () => giveBack(data));
    res.writeHead(range ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes - start),
      ...(range ? { 'content-range': `bytes ${start}-${bytes - 1}/${bytes}` } : {}),
    });
    const slice = limiter ? SEND_SLICE_BYTES : data.length;
    for (let at = 0; at < data.length && !res.destroyed; at += slice) {
      const part = data.subarray(at, at + slice);
      const wait = limiter?.take(part.length) ?? 0;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      res.write(part);
    }
    res.end();
    return;
  }
  throw new SuanwangError('not_found', `no data route ${req.method} ${url.pathname}`, { hint: 'see docs/data.md for the data port' });
}

function grantFor(o: DataServerOptions, req: IncomingMessage, version: string, mode: 'r' | 'w'): DataGrant {
  const auth = req.headers.authorization ?? '';
  const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  if (!token) throw new SuanwangError('unauthenticated', 'the data port needs a grant (Authorization: Bearer <grant>)', { hint: 'ask the control plane for one (suanwang datasets push / pull do)' });
  const grant = verifyGrant(token, o.key, Date.now());
  if ('refused' in grant) throw new SuanwangError('unauthenticated', `data grant refused: ${grant.refused}`, { hint: 'ask the control plane for a new grant' });
  if (grant.center !== o.centerId()) throw new SuanwangError('forbidden', 'the grant is for another center', { hint: "use the grant at the center it names" });
  if (grant.version !== version) throw new SuanwangError('forbidden', `the grant is for version ${grant.version}, not ${version}`, { hint: 'a grant opens one dataset version only' });
  if (mode === 'w' && grant.mode !== 'w') throw new SuanwangError('forbidden', 'the grant may read, not write', { hint: 'ask for an upload grant' });
  return grant;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const part of req) {
    n += (part as Buffer).length;
    if (n > limit) throw new SuanwangError('payload_too_large', `the body is over ${limit} bytes`, { hint: 'ask about fewer chunks at a time' });
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function fail(res: ServerResponse, error: unknown): void {
  const e = error instanceof SuanwangError ? error : error instanceof SyntaxError ? new SuanwangError('invalid_json', `the body is not JSON: ${error.message}`) : new SuanwangError('internal', (error as Error).message ?? String(error));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // An unread request body (a refused PUT) would otherwise keep the connection busy.
  res.setHeader('connection', 'close');
  json(res, e.status, e.toJSON());
}
