import { connect as netConnect, isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { ERROR_CODES, SuanwangError, type ErrorCode } from '../../core/errors.js';

/**
 * A client of a center's data port (src/agent/data/data-server.ts): every call carries the grant the
 * control plane signed. Bodies stream both ways; nothing holds a whole chunk list's bytes.
 */
export class DataPortClient {
  readonly #url: string;
  readonly #grant: string;
  readonly #version: string;

  constructor(options: { url: string; grant: string; version: string }) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#grant = options.grant;
    this.#version = options.version;
  }

  #path(rest: string): string {
    return `${this.#url}/v1/data/versions/${this.#version}/${rest}`;
  }

  /** Of `chunks`, those the center lacks, and of those the bytes it already has of partial ones. */
  async missing(chunks: readonly string[], signal?: AbortSignal): Promise<{ missing: string[]; partial: Record<string, number> }> {
    const res = await fetch(this.#path('missing'), {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#grant}`, 'content-type': 'application/json' },
      body: JSON.stringify({ chunks }),
      ...(signal ? { signal } : {}),
    });
    return (await (await ok(res)).json()) as { missing: string[]; partial: Record<string, number> };
  }

  /** Sends one chunk (from byte `offset` on, when resuming a partial one). */
  async put(sha: string, bytes: number, body: Readable | Uint8Array, offset = 0, signal?: AbortSignal): Promise<void> {
    const res = await fetch(this.#path(`chunks/${sha}`), {
      method: 'PUT',
      headers: { authorization: `Bearer ${this.#grant}`, 'content-type': 'application/octet-stream', 'x-chunk-bytes': String(bytes), 'x-chunk-offset': String(offset) },
      body: body as unknown as RequestInit['body'],
      duplex: 'half',
      ...(signal ? { signal } : {}),
    } as RequestInit);
    await (await ok(res)).arrayBuffer();
  }

  /**
   * Reads chunk `sha` from byte `offset` on (a range request when offset > 0) into `into`, which
   * is exactly as long as what is left of the chunk. One GET on its own connection, read with
   * `onread` straight into `into`: node:http hands a body over in 64 KiB socket reads, each a
   * fresh buffer and an event, which alone cost more CPU per GB than the sha256 (docs/data.md,
   * "Figures"). After each socket read `onRead(filled)` says how many bytes are in; it answers how
   * long (ms) to wait before reading on (a pacer), 0 for not at all.
   */
  getInto(sha: string, offset: number, into: Buffer, onRead?: (filled: number) => number, signal?: AbortSignal): Promise<void> {
    const url = new URL(this.#path(`chunks/${sha}`));
    const head = [`GET ${url.pathname} HTTP/1.1`, `host: ${url.host}`, `authorization: Bearer ${this.#grant}`, 'connection: close', ...(offset > 0 ? [`range: bytes=${offset}-`] : [])];
    return readResponse(url, `${head.join('\r\n')}\r\n\r\n`, into, onRead ?? (() => 0), signal).then(async (res) => {
      if (res.status < 200 || res.status >= 300) {
        await ok(new Response(res.error, { status: res.status }));
        throw new Error(`HTTP ${res.status}`);
      }
      if (offset > 0 && res.status !== 206) throw new SuanwangError('unavailable', `the data port ignored the range request for chunk ${sha}`);
    });
  }
}

const HEAD_BYTES = 64 * 1024;

/**
 * Sends `request` (a GET's head) on a new connection and reads the answer: a success's body goes
 * into `into` (its content-length must be `into`'s length), an error's body is returned. The
 * connection closes after it.
 */
function readResponse(url: URL, request: string, into: Buffer, onRead: (filled: number) => number, signal?: AbortSignal): Promise<{ status: number; error: Buffer }> {
  return new Promise((resolve, reject) => {
    let target: Buffer = Buffer.allocUnsafe(HEAD_BYTES);
    let filled = 0;
    let status = 0;
    let length = -1;
    let settled = false;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve({ status, error: target === into ? Buffer.alloc(0) : target.subarray(0, filled) });
    };
    const onBytes = (n: number): boolean => {
      filled += n;
      if (length < 0) {
        const end = target.subarray(0, filled).indexOf('\r\n\r\n');
        if (end < 0) {
          if (filled === target.length) finish(new SuanwangError('unavailable', `the data port at ${url.host} sent a response head over ${HEAD_BYTES} bytes`));
          return true;
        }
        const lines = target.toString('latin1', 0, end).split('\r\n');
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1]);
        length = Number(lines.find((l) => /^content-length:/i.test(l))?.slice(15).trim());
        if (!Number.isSafeInteger(status) || !Number.isSafeInteger(length) || length < 0) {
          finish(new SuanwangError('unavailable', `the data port at ${url.host} sent a response without a status or a content-length`));
          return false;
        }
        const ok = status >= 200 && status < 300;
        if (ok && length !== into.length) {
          finish(new SuanwangError('chunk_corrupt', `the data port at ${url.host} sends ${length} bytes of the chunk, ${into.length} were asked for`, { hint: 'the transfer asks again' }));
          return false;
        }
        const early = target.subarray(end + 4, filled);
        const body = ok ? into : Buffer.allocUnsafe(length);
        filled = early.copy(body, 0, 0, Math.min(early.length, body.length));
        target = body;
        if (early.length > body.length) {
          finish(new SuanwangError('unavailable', `the data port at ${url.host} sent more than its ${length} bytes`));
          return false;
        }
      }
      const wait = target === into && filled > 0 ? onRead(filled) : 0;
      if (filled === length) {
        finish(null);
        return false;
      }
      if (wait > 0) {
        socket.pause();
        setTimeout(() => socket.resume(), wait).unref();
      }
      return true;
    };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const options = {
      host,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      ...(isIP(host) ? {} : { servername: host }),
      // Each read lands where the bytes belong; a byte past the body's end lands in a scrap buffer.
      onread: { buffer: () => (filled < target.length ? target.subarray(filled) : Buffer.allocUnsafe(1)), callback: onBytes },
    };
    const socket = url.protocol === 'https:' ? tlsConnect(options) : netConnect(options);
    socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('error', finish);
    socket.on('close', () => finish(new SuanwangError('unavailable', `the data port at ${url.host} closed the connection ${length < 0 ? 'before its answer' : `after ${filled} of ${length} bytes`}`)));
    if (signal) {
      const onAbort = () => finish(signal.reason as Error);
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  });
}

/** The response when it is a success; else the SuanwangError the port sent (its code, message, field and hint). */
async function ok(res: Response): Promise<Response> {
  if (res.ok) return res;
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; field?: string; hint?: string } } | null;
  const e = body?.error;
  const code = (e?.code && e.code in ERROR_CODES ? e.code : res.status === 404 ? 'not_found' : 'unavailable') as ErrorCode;
  throw new SuanwangError(code, e?.message ?? `the data port answered HTTP ${res.status}`, { ...(e?.field ? { field: e.field } : {}), ...(e?.hint ? { hint: e.hint } : {}) });
}
