import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { SuanwangError } from '../../core/errors.js';
import { listMigrations } from '../../store/migrate.js';
import { appliedMigrationVersion, ping } from '../../store/stats.js';
import type { Metrics } from '../metrics.js';
import { HandlerResult, route, type Route } from '../route.js';

/** How long /readyz waits for the store's `SELECT 1` before answering 503. */
export const READY_TIMEOUT_MS = 2000;

let codeMigration: number | undefined;
/** The newest migration this build ships (read from the migrations folder once). */
function latestMigration(): number {
  codeMigration ??= listMigrations().at(-1)?.version ?? 0;
  return codeMigration;
}

/** Rejects with `message` after `ms` unless `work` settles first (the timer never outlives it). */
async function within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Probes and metrics, outside /v1 where load balancers and Prometheus look for them:
 * `/healthz` (the process answers; no store), `/readyz` (the store answers `SELECT 1` within
 * READY_TIMEOUT_MS and has every migration of this build; not while shutting down), `/metrics`
 * (Prometheus text; behind `Bearer <metricsToken>` when one is set).
 */
export function healthRoutes(metrics: Metrics, metricsToken: string | undefined, shuttingDown: () => boolean): Route[] {
  return [
    route({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness: the process answers HTTP (the store is not consulted).',
      tag: 'meta',
      access: 'public',
      response: { status: 200, schema: z.object({ ok: z.literal(true) }) },
      async handle() {
        return { ok: true };
      },
    }),
    route({
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: the store answers and its schema is up to date; 503 with a reason otherwise.',
      tag: 'meta',
      access: 'public',
      response: {
        status: 200,
        schema: z.object({ ok: z.boolean(), store: z.string().optional(), migration: z.number().optional(), reason: z.string().optional() }),
        description: '503 with `{ ok: false, reason }` when not ready',
      },
      async handle({ ctx }) {
        const notReady = (reason: string) => new HandlerResult(503, { ok: false, reason });
        if (shuttingDown()) return notReady('shutting down');
        let applied: number;
        try {
          applied = await within(
            ping(ctx.store.db).then(() => appliedMigrationVersion(ctx.store.db)),
            READY_TIMEOUT_MS,
            `the store did not answer within ${READY_TIMEOUT_MS} ms`,
          );
        } catch (error) {
          return notReady(`store: ${(error as Error).message}`);
        }
        const wanted = latestMigration();
        if (applied < wanted) return notReady(`store schema at migration ${applied}, this build needs ${wanted}: restart to migrate`);
        return { ok: true, store: ctx.store.kind, migration: applied };
      },
    }),
    route({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (text format). Firewall it, or set SUANWANG_METRICS_TOKEN to require a bearer token.',
      tag: 'meta',
      access: 'public',
      response: { status: 200, schema: null, description: 'text/plain; version=0.0.4' },
      async handle({ c }) {
        if (metricsToken) {
          const given = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
          if (!given || !sameSecret(given, metricsToken)) {
            throw new SuanwangError('unauthenticated', 'this server requires its metrics token for /metrics', {
              field: 'Authorization',
              hint: 'send "Authorization: Bearer $SUANWANG_METRICS_TOKEN" (Prometheus: authorization.credentials_file)',
            });
          }
        }
        const { contentType, body } = await metrics.render();
        return new Response(body, { status: 200, headers: { 'content-type': contentType } });
      },
    }),
  ];
}
