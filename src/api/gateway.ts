import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';
import { SuanwangError } from '../core/errors.js';
import { authenticate, requireUser, type Principal } from '../engine/accounts.js';
import type { EngineContext } from '../engine/context.js';
import type { LiveEndpoint, LiveReplica, ServingController } from '../engine/serving/controller.js';
import { findEndpoint } from '../store/endpoints.js';

/** How many replicas one request is tried on when they fail before answering. */
export const MAX_TRIES = 3;
/** How long a token's owner is remembered by the gateway (a revoked token works at most this long more). */
export const TOKEN_CACHE_MS = 1_000;
/** Retry-After of a 503 when no replica became ready in time. */
export const RETRY_AFTER_SECONDS = 5;

// Request headers passed to a replica: never the caller's token, cookies or hop-by-hop headers.
const FORWARDED_REQUEST = ['content-type', 'accept', 'accept-encoding', 'x-request-id'];
const FORWARDED_RESPONSE = ['content-type', 'content-encoding', 'x-tokens', 'x-backend', 'retry-after', 'cache-control'];

/**
 * The endpoint gateway: `ANY /e/NAME/PATH` goes to `PATH` on a ready replica of the caller's org's
 * endpoint NAME. The caller's org's user tokens authenticate; another org's endpoint does not exist
 * for it (404). A replica that fails before answering (refused, reset: it died) is routed around
 * and the request tried on another, up to MAX_TRIES; an answer that has begun is streamed through
 * as it comes and never retried. With no ready replica the request is held up to the controller's
 * `coldStartHoldMs` while one starts, then 503 with Retry-After; a held request's answer says how
 * long it waited in `X-Suanwang-Cold-Start-Ms`. `X-Suanwang-Region` (a region name) says where the
 * caller is (default: the endpoint's region).
 */
export function mountGateway(app: Hono, ctx: EngineContext, serving: ServingController | undefined): void {
  const tokens = new Map<string, { principal: Principal; at: number }>();
  const principalOf = async (c: Context): Promise<Extract<Principal, { kind: 'user' }>> => {
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (header && !match) throw new SuanwangError('unauthenticated', 'the Authorization header is not "Bearer <token>"', { field: 'Authorization' });
    const secret = match?.[1];
    const now = performance.now();
    const hit = secret ? tokens.get(secret) : undefined;
    if (hit && now - hit.at < TOKEN_CACHE_MS) return requireUser(hit.principal);
    const principal = await authenticate(ctx, secret);
    if (tokens.size > 10_000) tokens.clear();
    tokens.set(secret!, { principal, at: now });
    return requireUser(principal);
  };

  app.all('/e/:name/*', async (c) => {
    c.set('routePattern', '/e/:name/*');
    const user = await principalOf(c);
    if (!serving) throw new SuanwangError('unavailable', 'this control-plane process does not serve endpoints', { hint: 'call the process started by `suanwang up` or `suanwang server`' });
    const name = c.req.param('name');
    // Not seen by a pass yet: a new endpoint is loaded at once; a name that does not exist costs one lookup, not a pass.
    const e = serving.endpoint(user.orgId, name) ?? ((await findEndpoint(ctx.store.db, user.orgId, name)) ? await serving.refresh(user.orgId, name) : undefined);
    if (!e) throw new SuanwangError('endpoint_not_found', `no endpoint "${name.slice(0, 70)}" in your org`, { field: 'name', hint: 'list yours with `suanwang endpoints`' });
    const url = new URL(c.req.url);
    const path = url.pathname.slice(`/e/${name}`.length) || '/';
    const region = c.req.header('x-suanwang-region') ?? e.row.region;
    const method = c.req.method;
    const body = method === 'GET' || method === 'HEAD' ? undefined : await c.req.arrayBuffer();
    const headers: Record<string, string> = {};
    for (const h of FORWARDED_REQUEST) {
      const v = c.req.header(h);
      if (v !== undefined) headers[h] = v;
    }
    const started = performance.now();
    serving.touch(e);
    const tried = new Set<string>();
    let coldMs: number | null = null;
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      let r = serving.pick(e, region, tried);
      if (!r) {
        const waitFrom = performance.now();
        r = await serving.acquire(e, region, tried, serving.config.coldStartHoldMs, c.req.raw.signal);
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
        upstream = await forward(`${r.address}${path}${url.search}`, method, headers, body, c.req.raw.signal);
        // An answer of known length is read whole before anything is sent on: if the replica dies
        // mid-answer, nothing has reached the caller yet and another replica can answer instead.
        if (upstream.headers['content-length'] !== undefined) whole = await readAll(upstream);
      } catch (error) {
        serving.end(r);
        if (c.req.raw.signal.aborted) throw error; // the caller left
        serving.failed(r); // died before answering: another replica may
        continue;
      }
      return relay(upstream, whole, serving, e, r, started, coldMs);
    }
    serving.record(e, { ok: false, tokens: 0, seconds: (performance.now() - started) / 1000, coldStart: coldMs !== null });
    throw new SuanwangError('replica_failed', `${MAX_TRIES} replicas of endpoint "${name}" failed before answering`, { hint: 'retry; `suanwang endpoints show NAME` shows their state' });
  });
}

// Kept-alive connections to the replicas (node:http is leaner per request than fetch).
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

/** Sends one request to a replica; resolves with its answer's head (the body still to be read). */
function forward(url: string, method: string, headers: Record<string, string>, body: ArrayBuffer | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const bytes = body === undefined ? undefined : Buffer.from(body);
    const req = httpRequest(url, { method, agent, signal, headers: { ...headers, 'content-length': String(bytes?.length ?? 0) } }, resolve);
    req.on('error', reject);
    req.end(bytes);
  });
}

/** The whole body of an answer; rejects when the connection ends before it does. */
function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => (res.complete ? resolve(Buffer.concat(chunks)) : reject(new Error('the replica closed the connection mid-answer'))));
    res.on('error', reject);
  });
}

/** The replica's answer (whole, or streamed as it comes) with the gateway's headers; metered when its last byte is sent. */
function relay(upstream: IncomingMessage, whole: Buffer | null, serving: ServingController, e: LiveEndpoint, r: LiveReplica, started: number, coldMs: number | null): Response {
  const headers = new Headers();
  for (const h of FORWARDED_RESPONSE) {
    const v = upstream.headers[h];
    if (typeof v === 'string') headers.set(h, v);
  }
  headers.set('x-suanwang-replica', r.jobId);
  headers.set('x-suanwang-region', r.region);
  if (coldMs !== null) headers.set('x-suanwang-cold-start-ms', String(Math.round(coldMs)));
  const status = upstream.statusCode ?? 502;
  const tokens = Number(upstream.headers['x-tokens'] ?? 0) || 0;
  let finished = false;
  const finish = (ok: boolean) => {
    if (finished) return;
    finished = true;
    serving.end(r);
    serving.record(e, { ok: ok && status < 500, tokens: ok ? tokens : 0, seconds: (performance.now() - started) / 1000, coldStart: coldMs !== null });
  };
  if (whole !== null) {
    finish(true);
    return new Response(whole.length > 0 ? whole : null, { status, headers });
  }
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      upstream.on('data', (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        if ((controller.desiredSize ?? 1) <= 0) upstream.pause();
      });
      upstream.on('end', () => {
        if (!upstream.complete) return;
        finish(true);
        controller.close();
      });
      upstream.on('close', () => {
        if (upstream.complete) return;
        // The replica died mid-stream: the caller has part of the answer, so it cannot be retried.
        finish(false);
        controller.error(new Error('the replica closed the connection mid-answer'));
      });
    },
    pull() {
      upstream.resume();
    },
    cancel() {
      finish(false);
      upstream.destroy();
    },
  });
  return new Response(stream, { status, headers });
}
