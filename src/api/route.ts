import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import { SuanwangError } from '../core/errors.js';
import type { Principal } from '../engine/accounts.js';
import { requireAdmin, requireAgent, requireUser } from '../engine/accounts.js';
import type { EngineContext } from '../engine/context.js';
import { QUOTA_RETRY_AFTER_SECONDS } from '../engine/quotas.js';
import { rateLimiterFor, RateLimitedError, type RateKind } from './rate-limit.js';
import { principalsFor } from './token-cache.js';
import { parseOrThrow } from './validate.js';

/** Who may call a route. */
export type Access = 'public' | 'user' | 'admin' | 'agent';

/**
 * One HTTP operation, declared once: the server mounts it, and the OpenAPI document is generated from
 * the same declaration (its body, query and response schemas are the ones that validate).
 */
export interface Route<B extends z.ZodType | undefined = z.ZodType | undefined, Q extends z.ZodType | undefined = z.ZodType | undefined> {
  readonly method: 'get' | 'post' | 'delete';
  /** Hono-style path: `/v1/jobs/:id`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly body?: B;
  readonly query?: Q;
  /** Success status and the schema of its body. */
  readonly response: { readonly status: 200 | 201 | 202; readonly schema: z.ZodType | null; readonly description?: string };
  readonly headers?: Readonly<Record<string, string>>;
  /** The per-org rate limit this call counts against (src/api/rate-limit.ts). */
  readonly rate?: RateKind;
  handle(input: RouteInput<B, Q>): Promise<unknown | HandlerResult>;
}

export interface RouteInput<B, Q> {
  readonly ctx: EngineContext;
  readonly c: Context;
  readonly principal: Principal | null;
  readonly body: B extends z.ZodType ? z.output<B> : undefined;
  readonly query: Q extends z.ZodType ? z.output<Q> : undefined;
  readonly params: Readonly<Record<string, string>>;
}

/** A handler may choose its status (e.g. 200 instead of 201 for an idempotent replay). */
export class HandlerResult {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/** Declares a route with its types inferred from its schemas. */
export function route<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(r: Route<B, Q>): Route {
  return r as unknown as Route;
}

/** Mounts the routes on `app`. */
export function mount(app: Hono, ctx: EngineContext, routes: readonly Route[]): void {
  for (const r of routes) {
    app.on(r.method.toUpperCase(), r.path, async (c) => {
      try {
        refuseNul(c.req.param() as Record<string, string>, 'path');
        refuseNul(c.req.query(), 'query');
        c.set('routePattern', r.path);
        const principal = r.access === 'public' ? null : await authorize(ctx, c, r.access);
        if (principal) c.set('principal', principal);
        // Counted before the body is read: a flood is turned away at the cheapest point.
        if (r.rate && principal?.kind === 'user') rateLimiterFor(ctx).take(principal.orgId, r.rate);
        const body = r.body ? parseOrThrow(r.body, await readJson(c)) : undefined;
        const query = r.query ? parseOrThrow(r.query, c.req.query(), 'query') : undefined;
        const out = await r.handle({ ctx, c, principal, body, query, params: c.req.param() as Record<string, string> });
        if (out instanceof Response) return out;
        if (out instanceof HandlerResult) return c.json(out.body as object, out.status as 200);
        return c.json(out as object, r.response.status);
      } catch (error) {
        // A 429 says when to come back.
        if (error instanceof SuanwangError && error.status === 429) {
          const after = error instanceof RateLimitedError ? error.retryAfterSeconds : QUOTA_RETRY_AFTER_SECONDS;
          return c.json(error.toJSON(), 429, { 'Retry-After': String(after) });
        }
        throw error;
      }
    });
  }
}

/**
 * Refuses a NUL byte in a path or query value (400 naming it): PostgreSQL cannot take one in text,
 * so it would otherwise fail the query with a 500.
 */
function refuseNul(values: Readonly<Record<string, string>>, where: 'path' | 'query'): void {
  for (const [name, value] of Object.entries(values)) {
    if (value.includes('\u0000')) {
      throw new SuanwangError('invalid_field', `the ${where} parameter ${name} contains a NUL byte`, { field: name, hint: 'remove control characters from it' });
    }
  }
}

async function authorize(ctx: EngineContext, c: Context, access: Exclude<Access, 'public'>): Promise<Principal> {
  const header = c.req.header('authorization');
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (header && !match) {
    throw new SuanwangError('unauthenticated', 'the Authorization header is not "Bearer <token>"', { field: 'Authorization' });
  }
  const principal = await principalsFor(ctx).principal(match?.[1]);
  if (access === 'user') requireUser(principal);
  if (access === 'admin') requireAdmin(principal);
  if (access === 'agent') requireAgent(principal);
  return principal;
}

async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  if (text.trim() === '') return {};
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new SuanwangError('unsupported_media_type', `the body is sent as "${type || 'no content type'}"`, {
      field: 'Content-Type',
      hint: 'send JSON with "Content-Type: application/json"',
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SuanwangError('invalid_json', `the body is not valid JSON: ${(error as Error).message}`, { hint: 'check quotes and commas' });
  }
}
