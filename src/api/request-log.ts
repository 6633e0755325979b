import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Log } from '../core/log.js';
import type { Principal } from '../engine/accounts.js';
import type { Metrics } from './metrics.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** This request's id: the caller's `X-Request-Id` when usable, else a fresh UUID. */
    requestId: string;
    /** The pattern of the route that answered (`/v1/jobs/:id`), set by `mount`. */
    routePattern: string;
    /** Who called, once authenticated (set by `mount`). */
    principal: Principal;
  }
}

export const REQUEST_ID_HEADER = 'X-Request-Id';
// Printable, no spaces or quotes, bounded: it goes into every log line and back in a header.
const USABLE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * Routes whose request lines are logged at debug, not info: agents' long polls and periodic
 * reports (a center's agent calls several times a second) and probes (`/healthz` every few
 * seconds). Their durations still go to the metrics.
 */
function quietRoute(method: string, route: string, hasWait: boolean): boolean {
  if (route.startsWith('/v1/agent/')) return route !== '/v1/agent/register';
  if (route === '/healthz' || route === '/readyz' || route === '/metrics') return true;
  return method === 'GET' && route === '/v1/jobs/:id/logs' && hasWait;
}

/**
 * Assigns each request its id (the caller's `X-Request-Id` when it is 1–128 safe characters, else a
 * UUID), returns it in `X-Request-Id`, and when the request ends logs one line (method, route
 * pattern, status, ms, request id, principal) and observes its duration in `metrics`.
 */
export function requestLog(log: Log, metrics?: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header(REQUEST_ID_HEADER);
    const id = incoming && USABLE_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', id);
    try {
      await next();
    } finally {
      c.header(REQUEST_ID_HEADER, id);
      const ms = performance.now() - started;
      const method = c.req.method;
      const status = c.res.status;
      const route = c.get('routePattern') ?? (status === 404 ? 'unmatched' : c.req.path === '/v1/openapi.json' ? c.req.path : 'unmatched');
      metrics?.observeRequest(method, route, status, ms / 1000);
      const principal = c.get('principal');
      const fields = {
        reqId: id,
        method,
        route,
        status,
        ms: Math.round(ms * 10) / 10,
        ...(principal ? { principal: principal.kind === 'agent' ? 'agent' : principal.role, principalId: principal.kind === 'agent' ? principal.centerId : principal.userId } : {}),
      };
      if (status >= 500) log.warn(fields, 'request failed');
      else if (quietRoute(method, route, c.req.query('waitMs') !== undefined)) log.debug(fields, 'request');
      else log.info(fields, 'request');
    }
  };
}
