import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
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
   * A chunk's bytes from `offset` on (a range request when offset > 0), as a node stream: node:http
   * rather than fetch here, since its web streams cost a third of a loopback transfer's speed.
   */
  get(sha: string, offset = 0, signal?: AbortSignal): Promise<Readable> {
    const url = new URL(this.#path(`chunks/${sha}`));
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Readable>((resolve, reject) => {
      const req = request(url, { agent: url.protocol === 'https:' ? httpsAgent : httpAgent, headers: { authorization: `Bearer ${this.#grant}`, ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) }, ...(signal ? { signal } : {}) }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          if (offset > 0 && status !== 206) {
            res.destroy();
            reject(new SuanwangError('unavailable', `the data port ignored the range request for chunk ${sha}`));
          } else resolve(res);
          return;
        }
        const parts: Buffer[] = [];
        res.on('data', (p: Buffer) => parts.push(p));
        res.on('error', reject);
        res.on('end', () => ok(new Response(Buffer.concat(parts), { status })).then(() => reject(new Error(`HTTP ${status}`)), reject));
      });
      req.on('error', reject);
      req.end();
    });
  }
}

const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

/** The response when it is a success; else the SuanwangError the port sent (its code, message, field and hint). */
async function ok(res: Response): Promise<Response> {
  if (res.ok) return res;
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; field?: string; hint?: string } } | null;
  const e = body?.error;
  const code = (e?.code && e.code in ERROR_CODES ? e.code : res.status === 404 ? 'not_found' : 'unavailable') as ErrorCode;
  throw new SuanwangError(code, e?.message ?? `the data port answered HTTP ${res.status}`, { ...(e?.field ? { field: e.field } : {}), ...(e?.hint ? { hint: e.hint } : {}) });
}
