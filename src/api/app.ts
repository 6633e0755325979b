import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { allAccelerators } from '../core/accelerators.js';
import { SuanwangError } from '../core/errors.js';
import type { EngineContext } from '../engine/context.js';
import { noLog, type Log } from '../core/log.js';
import { InFlight } from './in-flight.js';
import { createMetrics, type Metrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { mountPortal } from './portal.js';
import { requestLog } from './request-log.js';
import type { Route } from './route.js';
import { mount, route } from './route.js';
import { accountRoutes } from './routes/accounts.js';
import { adminRoutes } from './routes/admin.js';
import { billingRoutes } from './routes/billing.js';
import { agentRoutes } from './routes/agent.js';
import { centerRoutes } from './routes/centers.js';
import { datasetRoutes } from './routes/datasets.js';
import { dataPlaneRoutes } from './routes/data-plane.js';
import { replicationRuleRoutes } from './routes/replication-rules.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { storeRoutes } from './routes/store.js';
import { endpointRoutes } from './routes/endpoints.js';
import { mountGateway } from './gateway.js';
import type { ServingController } from '../engine/serving/controller.js';

export const API_VERSION = '0.1.0';
/** Request bodies above this are refused (413): jobs and accounts are small; agents send more. */
export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_AGENT_BODY_BYTES = 8 * 1024 * 1024;

const metaRoutes: Route[] = [
  route({
    method: 'get',
    path: '/v1/health',
    summary: 'Liveness and the store in use.',
    tag: 'meta',
    access: 'public',
    response: { status: 200, schema: z.object({ ok: z.boolean(), store: z.string(), version: z.string() }) },
    async handle({ ctx }) {
      return { ok: true, store: ctx.store.kind, version: API_VERSION };
    },
  }),
  route({
    method: 'get',
    path: '/v1/accelerators',
    summary: 'The built-in accelerator table (public datasheet figures).',
    tag: 'meta',
    access: 'public',
    response: { status: 200, schema: null },
    async handle() {
      return { items: allAccelerators() };
    },
  }),
];

export interface AppOptions {
  /** Request lines and internal errors (default: none). */
  readonly log?: Log;
  /** Served at /metrics; HTTP durations are observed into it (default: a fresh registry). */
  readonly metrics?: Metrics;
  /** When set, /metrics requires `Authorization: Bearer <token>` (default: $SUANWANG_METRICS_TOKEN). */
  readonly metricsToken?: string | undefined;
  /** The built web portal served at `/` (default: web/dist of this checkout; false: none). */
  readonly portalDir?: string | false;
  /** Inference endpoints: the gateway at /e/NAME/ routes through it (default: none; the gateway answers 503). */
  readonly serving?: ServingController;
}

/**
 * Marks the app as shutting down (/readyz answers 503), ends its long polls and waits up to
 * `timeoutMs` for its in-flight requests; true when none is left. `listen()` calls it on close.
 */
export type AppDrain = (timeoutMs: number) => Promise<boolean>;
const drains = new WeakMap<Hono, { readonly drain: AppDrain; readonly inFlight: InFlight }>();

/** The drain of an app made by `createApp` (undefined for any other Hono app). */
export function appDrain(app: Hono): AppDrain | undefined {
  return drains.get(app)?.drain;
}

/** How many requests an app made by `createApp` is handling now (0 for any other app). */
export function requestsInFlight(app: Hono): number {
  return drains.get(app)?.inFlight.count ?? 0;
}

/**
 * The HTTP API as a Hono app: testable with `app.request()` without a port. The second argument
 * may still be a plain line logger (it then gets warnings and errors only).
 */
export function createApp(ctx: EngineContext, options: AppOptions | ((line: string) => void) = {}): Hono {
  const { log = noLog, metrics = createMetrics(ctx.store.db), metricsToken = process.env.SUANWANG_METRICS_TOKEN || undefined, portalDir, serving } =
    typeof options === 'function' ? { log: lineLog(options) } : options;
  const app = new Hono();
  const inFlight = new InFlight();
  let draining = false;
  drains.set(app, {
    inFlight,
    drain: (timeoutMs) => {
      draining = true;
      inFlight.endLongPolls();
      return inFlight.idle(timeoutMs);
    },
  });
  app.use('*', inFlight.middleware());
  app.use('*', requestLog(log, metrics));
  const routes: Route[] = [
    ...metaRoutes,
    ...healthRoutes(metrics, metricsToken, () => draining),
    ...accountRoutes,
    ...adminRoutes,
    ...centerRoutes,
    ...datasetRoutes,
    ...dataPlaneRoutes,
    ...replicationRuleRoutes,
    ...jobRoutes,
    ...storeRoutes,
    ...billingRoutes,
    ...endpointRoutes(serving),
    ...agentRoutes,
  ];
  const tooLarge = (limit: number) => () => {
    throw new SuanwangError('payload_too_large', `the request body is over ${limit / 1024 / 1024} MiB`, { hint: 'send less: jobs carry commands, not data' });
  };
  app.use('/v1/agent/*', bodyLimit({ maxSize: MAX_AGENT_BODY_BYTES, onError: tooLarge(MAX_AGENT_BODY_BYTES) }));
  app.use('*', async (c, next) => {
    // The gateway reads its own bodies (at most MAX_GATEWAY_BODY_BYTES) from the Node request.
    if (c.req.path.startsWith('/v1/agent/') || c.req.path.startsWith('/e/')) return next();
    return bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge(MAX_BODY_BYTES) })(c, next);
  });
  const document = openApiDocument([...routes, openApiRoute], API_VERSION);
  app.get('/v1/openapi.json', (c) => {
    c.set('routePattern', '/v1/openapi.json');
    return c.json(document);
  });
  mount(app, ctx, routes);
  mountGateway(app, ctx, serving);
  if (portalDir !== false) mountPortal(app, portalDir);
  app.notFound((c) =>
    c.json(new SuanwangError('not_found', `no such endpoint: ${c.req.method} ${c.req.path}`, { hint: 'see /v1/openapi.json' }).toJSON(), 404),
  );
  app.onError((error, c) => {
    if (error instanceof SuanwangError) return c.json(error.toJSON(), error.status as 400);
    log.error({ err: error, reqId: c.get('requestId'), method: c.req.method, path: c.req.path }, 'internal error');
    return c.json(new SuanwangError('internal', 'internal error; it has been logged').toJSON(), 500);
  });
  return app;
}

// Documented here so the document lists itself.
const openApiRoute = route({
  method: 'get',
  path: '/v1/openapi.json',
  summary: 'This document.',
  tag: 'meta',
  access: 'public',
  response: { status: 200, schema: null },
  async handle() {
    return {};
  },
});

/** A Log over a plain line writer (the older `createApp(ctx, line => …)` form): warnings and errors only. */
function lineLog(write: (line: string) => void): Log {
  const at =
    (level: string) =>
    (fields: object | string, message?: string): void => {
      if (typeof fields === 'string') return write(`${level}: ${fields}`);
      const { err, ...rest } = fields as { err?: unknown };
      write(`${level}: ${message ?? ''} ${JSON.stringify(rest)}${err instanceof Error ? `\n${err.stack}` : ''}`);
    };
  const log: Log = { debug: () => {}, info: () => {}, warn: at('warn'), error: at('error'), child: () => log };
  return log;
}
