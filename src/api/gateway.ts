import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Context, Hono } from 'hono';
import { SuanwangError } from '../core/errors.js';
import { requireUser } from '../engine/accounts.js';
import type { EngineContext } from '../engine/context.js';
import type { LiveEndpoint, LiveReplica, ServingController } from '../engine/serving/controller.js';
import { findEndpoint } from '../store/endpoints.js';
import { principalsFor } from './token-cache.js';

/** How many replicas one request is tried on when they fail before answering. */
export const MAX_TRIES = 3;
/** Retry-After of a 503 when no replica became ready in time. */
export const RETRY_AFTER_SECONDS = 5;
/** The largest request body the gateway takes (it keeps the body to re-send it to another replica). */
export const MAX_GATEWAY_BODY_BYTES = 1024 * 1024;

// Request headers passed to a replica: never the caller's token, cookies or hop-by-hop headers.
const FORWARDED_REQUEST = ['content-type', 'accept', 'accept-encoding', 'x-request-id'] as const;
const FORWARDED_RESPONSE = ['content-type', 'content-encoding', 'x-tokens', 'x-backend', 'retry-after', 'cache-control'] as const;

/** What @hono/node-server puts in `c.env`: the Node request and response, written to directly. */
interface NodeBindings {
  readonly incoming?: IncomingMessage;
  readonly outgoing?: ServerResponse;
}

/**
 * The endpoint gateway: `ANY /e/NAME/PATH` goes to `PATH` on a ready replica of the caller's org's
 * endpoint NAME. The caller's org's user tokens authenticate; another org's endpoint does not exist
 * for it (404). A replica that fails before answering (refused, reset: it died) is routed around
 * and the request tried on another, up to MAX_TRIES; an answer that has begun is streamed through
 * as it comes and never retried. With no ready replica the request is held up to the controller's
 * `coldStartHoldMs` while one starts, then 503 with Retry-After; a held request's answer says how
 * long it waited in `X-Suanwang-Cold-Start-Ms`. `X-Suanwang-Region` (a region name) says where the
 * caller is (default: the endpoint's region).
 *
 * The hot path works on the Node request and response under Hono (read once, piped through, no Web
 * Request/Response made): Hono routes it and its middleware counts and logs it as any other.
 */
export function mountGateway(app: Hono, ctx: EngineContext, serving: ServingController | undefined): void {
  const tokens = principalsFor(ctx);

  app.all('/e/:name/*', async (c) => {
    c.set('routePattern', '/e/:name/*');
    const node = c.env as NodeBindings | undefined;
    const header = node?.incoming?.headers.authorization ?? c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (header && !match) throw new SuanwangError('unauthenticated', 'the Authorization header is not "Bearer <token>"', { field: 'Authorization' });
    const user = requireUser(await tokens.principal(match?.[1]));
    if (!serving || !node?.incoming || !node.outgoing) {
      throw new SuanwangError('unavailable', 'this control-plane process does not serve endpoints', { hint: 'call the process started by `suanwang up` or `suanwang server`' });
    }
    const name = c.req.param('name');
    // Not seen by a pass yet: a new endpoint is loaded at once; a name that does not exist costs one lookup, not a pass.
    const e = serving.endpoint(user.orgId, name) ?? ((await findEndpoint(ctx.store.db, user.orgId, name)) ? await serving.refresh(user.orgId, name) : undefined);
    if (!e) throw new SuanwangError('endpoint_not_found', `no endpoint "${name.slice(0, 70)}" in your org`, { field: 'name', hint: 'list yours with `suanwang endpoints`' });
    const refused = serving.admission(e);
    if (refused) throw refused;
    return proxy(c, node.incoming, node.outgoing, serving, e, name);
  });
}

/** Routes one request to a replica and writes its answer to `res` itself; resolves with what Hono should log. */
async function proxy(c: Context, req: IncomingMessage, res: ServerResponse, serving: ServingController, e: LiveEndpoint, name: string): Promise<Response> {
  const started = performance.now();
  const raw = req.url ?? '/';
  const path = raw.slice(`/e/${name}`.length) || '/';
  const region = (req.headers['x-suanwang-region'] as string | undefined) ?? e.row.region;
  const method = req.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
  const headers: OutgoingHttpHeaders = { 'content-length': body?.length ?? 0 };
  for (const h of FORWARDED_REQUEST) {
    const v = req.headers[h];
    if (v !== undefined) headers[h] = v;
  }
  // The caller leaving aborts the request to the replica.
  const left = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) left.abort();
  };
  res.once('close', onClose);
  serving.touch(e);
  const tried = new Set<string>();
  let coldMs: number | null = null;
  try {
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      let r = serving.pick(e, region, tried);
      if (!r) {
        const waitFrom = performance.now();
        r = await serving.acquire(e, region, tried, serving.config.coldStartHoldMs, left.signal);
        coldMs = (coldMs ?? 0) + (performance.now() - waitFrom);
      }
      if (!r) {
        serving.record(e, { ok: false, tokens: 0, seconds: (performance.now() - started) / 1000, coldStart: coldMs !== null });
        const error = new SuanwangError('no_ready_replica', `endpoint "${name}" has no ready replica after ${Math.round(coldMs ?? 0)} ms`, {
          hint: `it is starting one (cold start); retry in ${RETRY_AFTER_SECONDS} s, or keep --min 1 to avoid cold starts`,
        });
        return c.json(error.toJSON(), 503, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
      }
      tried.add(r.jobId);
      serving.begin(e, r);
      let upstream: IncomingMessage;
      let whole: Buffer | null = null;
      try {
        upstream = await forward(r.address!, path, method, headers, body, left.signal);
        // An answer of known length is read whole before anything is sent on: if the replica dies
        // mid-answer, nothing has reached the caller yet and another replica can answer instead.
        if (upstream.headers['content-length'] !== undefined) whole = await readAll(upstream);
      } catch (error) {
        serving.end(r);
        if (left.signal.aborted) throw error; // the caller left
        serving.failed(r); // died before answering: another replica may
        continue;
      }
      const status = upstream.statusCode ?? 502;
      res.writeHead(status, answerHeaders(upstream.headers, r, coldMs, c.get('requestId')));
      const ok = whole !== null ? await send(res, whole) : await pipe(upstream, res);
      serving.end(r);
      serving.record(e, { ok: ok && status < 500, tokens: ok ? Number(upstream.headers['x-tokens'] ?? 0) || 0 : 0, seconds: (performance.now() - started) / 1000, coldStart: coldMs !== null });
      // Already written: Hono and @hono/node-server write nothing more, the request log sees the status.
      return new Response(null, { status, headers: { 'x-hono-already-sent': '1' } });
    }
  } finally {
    res.off('close', onClose);
  }
  serving.record(e, { ok: false, tokens: 0, seconds: (performance.now() - started) / 1000, coldStart: coldMs !== null });
  throw new SuanwangError('replica_failed', `${MAX_TRIES} replicas of endpoint "${name}" failed before answering`, { hint: 'retry; `suanwang endpoints show NAME` shows their state' });
}

/** The request body, once (at most MAX_GATEWAY_BODY_BYTES), so it can be re-sent to another replica. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_GATEWAY_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_GATEWAY_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

function tooLarge(): SuanwangError {
  return new SuanwangError('payload_too_large', `the request body is over ${MAX_GATEWAY_BODY_BYTES / 1024 / 1024} MiB`, { field: 'body', hint: 'send less to an endpoint per request' });
}

// Kept-alive connections to the replicas, reused across requests (no new TCP connection per request).
const agent = new Agent({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 256 });

/** Sends one request to a replica; resolves with its answer's head (the body still to be read). */
function forward(address: string, path: string, method: string, headers: OutgoingHttpHeaders, body: Buffer | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(address + path, { method, agent, signal, headers }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

/** The whole body of an answer; rejects when the connection ends before it does. */
function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => (res.complete ? resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)) : reject(new Error('the replica closed the connection mid-answer'))));
    res.on('error', reject);
  });
}

function answerHeaders(upstream: IncomingHttpHeaders, r: LiveReplica, coldMs: number | null, requestId: string | undefined): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const h of FORWARDED_RESPONSE) {
    const v = upstream[h];
    if (typeof v === 'string') headers[h] = v;
  }
  if (upstream['content-length'] !== undefined) headers['content-length'] = upstream['content-length'];
  headers['x-suanwang-replica'] = r.jobId;
  headers['x-suanwang-region'] = r.region;
  if (coldMs !== null) headers['x-suanwang-cold-start-ms'] = String(Math.round(coldMs));
  if (requestId) headers['x-request-id'] = requestId;
  return headers;
}

/** Writes a whole answer; true once the caller has it all. */
function send(res: ServerResponse, whole: Buffer): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    res.on('error', () => {}); // the caller went away: the close says so
    res.once('close', () => resolve(res.writableFinished));
    res.end(whole);
  });
}

/**
 * Streams an answer through as it comes (with backpressure); true when it ended whole. A replica
 * that dies mid-stream cannot be retried (the caller has part of it): the caller's stream is cut.
 */
function pipe(upstream: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (res.destroyed) {
    upstream.destroy();
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      resolve(ok);
    };
    // A reset connection is an 'error' then a 'close': the close below handles both.
    upstream.on('error', () => {});
    res.on('error', () => {});
    upstream.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) upstream.pause();
    });
    res.on('drain', () => upstream.resume());
    upstream.once('end', () => {
      if (!upstream.complete) return;
      res.end();
    });
    upstream.once('close', () => {
      if (upstream.complete) return;
      res.destroy(new Error('the replica closed the connection mid-answer'));
      finish(false);
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
      finish(res.writableFinished && upstream.complete);
    });
  });
}
