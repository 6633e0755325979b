import { z } from 'zod';
import { requireUser } from '../../engine/accounts.js';
import type { EngineContext } from '../../engine/context.js';
import { latencyPercentiles, type ServingController } from '../../engine/serving/controller.js';
import { changeEndpoint, createEndpoint, deleteEndpoint, endpointReplicas, listVisibleEndpoints, visibleEndpoint } from '../../engine/serving/endpoints.js';
import { unbilledFen } from '../../engine/serving/metering.js';
import { listCenters } from '../../store/centers.js';
import type { EndpointRow } from '../../store/endpoints.js';
import { EndpointChange, EndpointList, EndpointResource, EndpointSubmission, type EndpointResource as EndpointView } from '../client/endpoint-schemas.js';
import { HandlerResult, route, type Route } from '../route.js';

/** The endpoints API (`/v1/endpoints`); the gateway itself is src/api/gateway.ts. */
export function endpointRoutes(serving: ServingController | undefined): Route[] {
  const view = (ctx: EngineContext, rows: readonly EndpointRow[]) => endpointViews(ctx, serving, rows);
  return [
    route({
      method: 'post',
      path: '/v1/endpoints',
      summary: 'Create an inference endpoint of a servable app: replicas placed near the callers\' region, autoscaled, served at /e/NAME/.',
      tag: 'endpoints',
      access: 'user',
      body: EndpointSubmission,
      response: { status: 201, schema: EndpointResource },
      rate: 'launch',
      async handle({ ctx, principal, body }) {
        const user = requireUser(principal!);
        const row = await createEndpoint(ctx, user, {
          name: body.name,
          app: body.app,
          version: body.version,
          params: body.params,
          acceleratorsPerNode: body.acceleratorsPerNode,
          region: body.region,
          min: body.min,
          max: body.max,
          targetConcurrency: body.targetConcurrency,
          idleToZeroSeconds: body.idleToZeroSeconds,
        });
        return new HandlerResult(201, (await view(ctx, [row]))[0]);
      },
    }),
    route({
      method: 'get',
      path: '/v1/endpoints',
      summary: "Your org's endpoints with replicas, metering and latency (admins: ?all=true for every org's).",
      tag: 'endpoints',
      access: 'user',
      query: z.object({ all: z.enum(['true', 'false']).default('false') }).strict(),
      response: { status: 200, schema: EndpointList },
      async handle({ ctx, principal, query }) {
        const rows = await listVisibleEndpoints(ctx, requireUser(principal!), query.all === 'true');
        return { items: await view(ctx, rows) };
      },
    }),
    route({
      method: 'get',
      path: '/v1/endpoints/:name',
      summary: 'One endpoint: its replicas (state, region, readiness, why placed there), metering and latency.',
      tag: 'endpoints',
      access: 'user',
      response: { status: 200, schema: EndpointResource },
      async handle({ ctx, principal, params }) {
        return (await view(ctx, [await visibleEndpoint(ctx, requireUser(principal!), params.name!)]))[0];
      },
    }),
    route({
      method: 'post',
      path: '/v1/endpoints/:name',
      summary: 'Change an endpoint: a new version is rolled out replica by replica; min, max and idle change at once.',
      tag: 'endpoints',
      access: 'user',
      body: EndpointChange,
      response: { status: 200, schema: EndpointResource },
      async handle({ ctx, principal, params, body }) {
        const row = await changeEndpoint(ctx, requireUser(principal!), params.name!, body);
        return (await view(ctx, [row]))[0];
      },
    }),
    route({
      method: 'delete',
      path: '/v1/endpoints/:name',
      summary: 'Delete an endpoint: its replica jobs are cancelled.',
      tag: 'endpoints',
      access: 'user',
      response: { status: 200, schema: z.object({ deleted: z.string() }) },
      async handle({ ctx, principal, params }) {
        const row = await deleteEndpoint(ctx, requireUser(principal!), params.name!);
        return { deleted: row.name };
      },
    }),
  ];
}

async function endpointViews(ctx: EngineContext, serving: ServingController | undefined, rows: readonly EndpointRow[]): Promise<EndpointView[]> {
  const [replicas, centers, orgs] = await Promise.all([
    endpointReplicas(ctx, rows.map((r) => r.id)),
    listCenters(ctx.store.db),
    ctx.store.db.selectFrom('orgs').select(['id', 'name']).where('id', 'in', [...new Set(rows.map((r) => r.org_id)), '']).execute(),
  ]);
  const centerName = new Map(centers.map((c) => [c.id, c.name]));
  const orgName = new Map(orgs.map((o) => [o.id, o.name]));
  return rows.map((row) => {
    const live = serving?.live(row.id);
    const unwritten = live ? serving!.unwritten(live) : undefined;
    const mine = replicas.filter((r) => r.replica.endpoint_id === row.id);
    const views = mine.map(({ replica, job }) => {
      const l = live?.replicas.get(replica.job_id);
      const explanation = replica.explanation as { summary?: string } | null;
      return {
        jobId: replica.job_id,
        version: replica.version,
        state: job?.state ?? 'unknown',
        region: replica.region,
        center: job?.center_id ? (centerName.get(job.center_id) ?? null) : null,
        accelerator: l?.accelerator ?? null,
        address: replica.address,
        ready: l?.ready ?? false,
        draining: replica.draining_since !== null,
        inflight: l?.inflight ?? 0,
        capacity: l?.capacity ?? 0,
        placement: explanation?.summary ?? '',
      };
    });
    return {
      id: row.id,
      name: row.name,
      org: orgName.get(row.org_id) ?? row.org_id,
      app: row.app,
      version: row.version,
      region: row.region,
      url: `/e/${row.name}/`,
      min: row.min_replicas,
      max: row.max_replicas,
      targetConcurrency: row.target_concurrency,
      idleToZeroSeconds: row.idle_to_zero_ms === null ? null : row.idle_to_zero_ms / 1000,
      replicas: views,
      ready: views.filter((v) => v.ready && !v.draining).length,
      scaling: live?.lastDecision ?? (serving ? 'not looked at yet' : 'serving does not run in this process'),
      requests: row.requests + (unwritten?.requests ?? 0),
      failedRequests: row.failed_requests + (unwritten?.failed ?? 0),
      tokens: row.tokens + (unwritten?.tokens ?? 0),
      coldStarts: row.cold_starts + (unwritten?.coldStarts ?? 0),
      price: { fenPerRequest: row.fen_per_request, fenPer1kTokens: row.fen_per_1k_tokens },
      unbilledFen: unbilledFen(row),
      latency: live ? latencyPercentiles(live) : null,
      createdAt: row.created_at.toISOString(),
    };
  });
}
