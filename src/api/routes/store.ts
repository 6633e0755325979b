import { z } from 'zod';
import { requireUser } from '../../engine/accounts.js';
import { assertQueueQuota } from '../../engine/quotas.js';
import { changeVersionStatus, launchApp, productDetail, publishManifest, searchCatalog } from '../../engine/catalog.js';
import type { Selectable } from 'kysely';
import type { ProductsTable } from '../../store/schema.js';
import { JobResource, LaunchRequest, ProductDetail, PublishRequest, ReviewQueue, ReviewRequest, SearchResult } from '../client/schemas.js';
import { HandlerResult, route } from '../route.js';
import { jobRoutesNames } from './jobs.js';
import { jobResource } from '../views.js';

const list = (s: string | undefined) => (s ? s.split(',').filter(Boolean) : undefined);

function summary(p: Selectable<ProductsTable>, provider: string) {
  return {
    name: p.name,
    title: p.title,
    summary: p.summary,
    category: p.category,
    tags: p.tags,
    provider,
    families: p.families,
    launches: p.launches,
    licence: p.licence,
    createdAt: p.created_at.toISOString(),
  };
}

export const storeRoutes = [
  route({
    method: 'get',
    path: '/v1/products',
    summary: 'Search the store: full text over names, summaries and tags; facets by category, accelerator family and provider.',
    tag: 'store',
    access: 'user',
    query: z.object({
      q: z.string().max(200).default(''),
      category: z.string().max(200).optional().describe('comma-separated'),
      family: z.string().max(200).optional().describe('accelerator families, comma-separated: cuda, cann, dtk, cpu …'),
      provider: z.string().max(200).optional().describe('provider org names, comma-separated'),
      sort: z.enum(['relevance', 'popularity', 'newest']).default('relevance'),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      offset: z.coerce.number().int().min(0).max(10_000).default(0),
    }),
    response: { status: 200, schema: SearchResult },
    async handle({ ctx, principal, query }) {
      const r = await searchCatalog(ctx, requireUser(principal!), {
        text: query.q,
        sort: query.sort,
        limit: query.limit,
        offset: query.offset,
        ...(list(query.category) ? { categories: list(query.category)! } : {}),
        ...(list(query.family) ? { families: list(query.family)! } : {}),
        ...(list(query.provider) ? { providers: list(query.provider)! } : {}),
      });
      return {
        items: r.items.map((p) => summary(p, r.providerName(p.provider_org_id))),
        total: r.total,
        facets: { ...r.facets, provider: Object.fromEntries(Object.entries(r.facets.provider).map(([id, n]) => [r.providerName(id), n])) },
        exact: r.exact,
      };
    },
  }),
  route({
    method: 'get',
    path: '/v1/products/:name',
    summary: 'A product, its versions and their manifests (parameters render as a form).',
    tag: 'store',
    access: 'user',
    response: { status: 200, schema: ProductDetail },
    async handle({ ctx, principal, params }) {
      const d = await productDetail(ctx, requireUser(principal!), params.name!);
      return {
        product: { ...summary(d.product, d.provider), description: d.product.description, visibility: d.product.visibility, listed: d.product.listed },
        versions: d.versions.map((v) => ({
          version: v.version,
          status: v.status,
          createdAt: v.created_at.toISOString(),
          listedAt: v.listed_at?.toISOString() ?? null,
          reviewNote: v.review_note,
          manifest: v.manifest,
        })),
      };
    },
  }),
  route({
    method: 'post',
    path: '/v1/products',
    summary: 'Publish a manifest (providers): a new version, submitted for review unless `draft`. Errors point at line and field.',
    tag: 'store',
    access: 'user',
    body: PublishRequest,
    response: { status: 201, schema: z.object({ product: z.string(), version: z.string(), status: z.string() }) },
    async handle({ ctx, principal, body }) {
      return publishManifest(ctx, requireUser(principal!), body.manifest, { draft: body.draft });
    },
  }),
  route({
    method: 'get',
    path: '/v1/reviews',
    summary: 'Product versions by review status (default in-review, oldest first): every provider for admins, your own org for others.',
    tag: 'store',
    access: 'user',
    query: z.object({ status: z.enum(['draft', 'in-review', 'listed', 'delisted']).default('in-review'), limit: z.coerce.number().int().min(1).max(500).default(100) }),
    response: { status: 200, schema: ReviewQueue },
    async handle({ ctx, principal, query }) {
      const user = requireUser(principal!);
      let q = ctx.store.db
        .selectFrom('product_versions as v')
        .innerJoin('products as p', 'p.id', 'v.product_id')
        .innerJoin('orgs as o', 'o.id', 'p.provider_org_id')
        .select(['p.name as product', 'p.title', 'p.category', 'o.name as provider', 'v.version', 'v.status', 'v.created_at', 'v.review_note', 'p.launches'])
        .where('v.status', '=', query.status);
      if (user.role !== 'admin') q = q.where('p.provider_org_id', '=', user.orgId);
      const rows = await q.orderBy('v.created_at').orderBy('v.id').limit(query.limit).execute();
      return {
        items: rows.map((r) => ({ product: r.product, title: r.title, category: r.category, provider: r.provider, version: r.version, status: r.status, createdAt: r.created_at.toISOString(), reviewNote: r.review_note, launches: r.launches })),
      };
    },
  }),
  route({
    method: 'post',
    path: '/v1/products/:name/versions/:version/review',
    summary: 'Move a version through review: submit (provider), approve / reject / relist (admins), delist (admins or provider).',
    tag: 'store',
    access: 'user',
    body: ReviewRequest,
    response: { status: 200, schema: z.object({ product: z.string(), version: z.string(), status: z.string() }) },
    async handle({ ctx, principal, params, body }) {
      return changeVersionStatus(ctx, requireUser(principal!), params.name!, params.version!, body.action, body.note ?? null);
    },
  }),
  route({
    method: 'post',
    path: '/v1/apps/:name/launch',
    summary: "Launch an app: parameters checked against its schema, one job submitted that runs only on chips in the app's adaptation matrix.",
    tag: 'store',
    access: 'user',
    body: LaunchRequest,
    headers: { 'Idempotency-Key': 'optional; a retry with the same key and body returns the same job (200)' },
    response: { status: 201, schema: JobResource },
    rate: 'launch',
    async handle({ ctx, c, principal, params, body }) {
      await assertQueueQuota(ctx, requireUser(principal!).orgId);
      const { job, created } = await launchApp(
        ctx,
        requireUser(principal!),
        params.name!,
        {
          version: body.version,
          params: body.params,
          ...(body.resources ? { resources: body.resources } : {}),
          ...(body.accelerators ? { accelerators: body.accelerators } : {}),
          job: {
            objective: body.objective,
            priority: body.priority,
            maxAttempts: body.maxAttempts,
            forbidAccelerators: body.forbidAccelerators,
            regions: body.regions,
            inputs: body.inputs,
            name: body.name,
            deadline: body.deadline,
            budgetFen: body.budgetFen,
            runtimeSeconds: body.runtimeSeconds,
          },
        },
        c.req.header('idempotency-key'),
      );
      return new HandlerResult(created ? 201 : 200, jobResource(job, await jobRoutesNames(ctx)));
    },
  }),
];

