import { z } from 'zod';
import { JOB_STATES } from '../../core/job-state.js';
import { requireUser } from '../../engine/accounts.js';
import type { EngineContext } from '../../engine/context.js';
import { cancelJob, jobDetail, listVisibleJobs, quoteJob, readJobLogs, submitBatch, submitJob } from '../../engine/jobs.js';
import { listCenters, listPools } from '../../store/centers.js';
import { BatchJobSubmission, JobBatch, JobBatchResult, JobDetailResource, JobList, JobResource, JobSubmission, LogPage, QuoteResource } from '../client/schemas.js';
import { HandlerResult, route } from '../route.js';
import type { Names } from '../views.js';
import { jobResource } from '../views.js';
import { SuanwangError } from '../../core/errors.js';
import { assertQueueQuota } from '../../engine/quotas.js';

/** Names of centers, pools, orgs and users, to show instead of ids. */
export async function jobRoutesNames(ctx: EngineContext): Promise<Names> {
  const db = ctx.store.db;
  const [centers, pools, orgs, users] = await Promise.all([
    listCenters(db),
    listPools(db),
    db.selectFrom('orgs').select(['id', 'name']).execute(),
    db.selectFrom('users').select(['id', 'name']).execute(),
  ]);
  return {
    centers: new Map(centers.map((c) => [c.id, c.name])),
    pools: new Map(pools.map((p) => [p.id, p.name])),
    orgs: new Map(orgs.map((o) => [o.id, o.name])),
    users: new Map(users.map((u) => [u.id, u.name])),
  };
}

const IdempotencyKey = /^[\w.:-]{1,128}$/;

function checkKey(key: string | undefined): string | undefined {
  if (key !== undefined && !IdempotencyKey.test(key)) {
    throw new SuanwangError('invalid_field', `Idempotency-Key "${key.slice(0, 40)}" is not 1–128 letters, digits or _.:-`, { field: 'Idempotency-Key' });
  }
  return key;
}

/** Names for a job just submitted: its org and user (it has no center yet), from the principal when it has them. */
async function submitterNames(ctx: EngineContext, user: { orgId: string; orgName?: string; userId: string; name: string }): Promise<Names> {
  const orgName = user.orgName ?? (await ctx.store.db.selectFrom('orgs').select('name').where('id', '=', user.orgId).executeTakeFirst())?.name;
  return { centers: new Map(), pools: new Map(), orgs: new Map([[user.orgId, orgName ?? user.orgId]]), users: new Map([[user.userId, user.name]]) };
}

export const jobRoutes = [
  route({
    method: 'post',
    path: '/v1/jobs',
    summary: 'Submit a job. Returns at once; the scheduler places it. Send `Idempotency-Key` to make retries safe.',
    tag: 'jobs',
    access: 'user',
    body: BatchJobSubmission,
    headers: { 'Idempotency-Key': 'optional; a retry with the same key and body returns the same job (200)' },
    response: { status: 201, schema: JobResource },
    rate: 'submit',
    async handle({ ctx, c, principal, body }) {
      const key = c.req.header('idempotency-key');
      if (body.array !== undefined) {
        throw new SuanwangError('invalid_field', 'a job array is submitted with POST /v1/jobs/batch, not POST /v1/jobs', {
          field: 'array',
          hint: 'send { "jobs": [ <this job> ] } to /v1/jobs/batch (`suanwang submit --array` does)',
        });
      }
      const user = requireUser(principal!);
      await assertQueueQuota(ctx, user.orgId);
      const { job, created } = await submitJob(ctx, user, body, checkKey(key));
      return new HandlerResult(created ? 201 : 200, jobResource(job, await submitterNames(ctx, user)));
    },
  }),
  route({
    method: 'post',
    path: '/v1/jobs/batch',
    summary:
      'Submit many jobs in one request, all or nothing (an error names `jobs[i].field`); a spec with `array` ("1-1000", "0-99:2") becomes one job per index. Send `Idempotency-Key` to make retries safe.',
    tag: 'jobs',
    access: 'user',
    body: JobBatch,
    headers: { 'Idempotency-Key': 'optional; a retry with the same key and body returns the same jobs (200)' },
    response: { status: 201, schema: JobBatchResult },
    rate: 'submit',
    async handle({ ctx, c, principal, body }) {
      await assertQueueQuota(ctx, requireUser(principal!).orgId);
      const { jobs, created } = await submitBatch(ctx, requireUser(principal!), body.jobs, checkKey(c.req.header('idempotency-key')));
      return new HandlerResult(created ? 201 : 200, {
        items: jobs.map((j) => ({ id: j.id, name: j.name, state: j.state, arrayId: j.array_id ?? null, arrayIndex: j.array_index ?? null })),
        created,
      });
    },
  }),
  route({
    method: 'post',
    path: '/v1/quote',
    summary: 'Where a job would run now, at what cost, energy and carbon, and why not elsewhere; submits nothing.',
    tag: 'jobs',
    access: 'user',
    body: JobSubmission,
    response: { status: 200, schema: QuoteResource },
    rate: 'quote',
    async handle({ ctx, principal, body }) {
      return { now: await quoteJob(ctx, requireUser(principal!), body) };
    },
  }),
  route({
    method: 'get',
    path: '/v1/jobs',
    summary: 'List your jobs, newest first. Page with `cursor` (the `nextCursor` of the previous page).',
    tag: 'jobs',
    access: 'user',
    query: z.object({
      state: z
        .string()
        .optional()
        .transform((s) => (s ? s.split(',') : undefined))
        .pipe(z.array(z.enum(JOB_STATES)).optional()),
      limit: z.coerce.number().int().min(1).max(500).default(50),
      cursor: z.string().max(64).optional(),
      all: z.enum(['true', 'false']).optional().describe('admins: every org'),
    }),
    response: { status: 200, schema: JobList },
    async handle({ ctx, principal, query }) {
      const page = await listVisibleJobs(ctx, requireUser(principal!), {
        limit: query.limit,
        ...(query.state ? { states: query.state } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
        allOrgs: query.all === 'true',
      });
      const n = await jobRoutesNames(ctx);
      return { items: page.jobs.map((j) => jobResource(j, n)), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'get',
    path: '/v1/jobs/:id',
    summary: 'A job with its placements (where and why) and its event history.',
    tag: 'jobs',
    access: 'user',
    response: { status: 200, schema: JobDetailResource },
    async handle({ ctx, principal, params }) {
      const d = await jobDetail(ctx, requireUser(principal!), params.id!);
      const n = await jobRoutesNames(ctx);
      return {
        job: jobResource(d.job, n),
        placements: d.placements.map((p) => ({
          attempt: p.attempt,
          center: n.centers.get(p.center_id) ?? p.center_id,
          pool: n.pools.get(p.pool_id) ?? p.pool_id,
          decidedAt: p.decided_at.toISOString(),
          explanation: p.explanation,
        })),
        events: d.events.map((e) => ({ at: e.at.toISOString(), attempt: e.attempt, from: e.from_state, to: e.to_state, message: e.message })),
      };
    },
  }),
  route({
    method: 'post',
    path: '/v1/jobs/:id/cancel',
    summary: 'Cancel a job. A running job is stopped at its center (its whole process group); the job then ends `cancelled`.',
    tag: 'jobs',
    access: 'user',
    response: { status: 202, schema: JobResource },
    async handle({ ctx, principal, params }) {
      return jobResource(await cancelJob(ctx, requireUser(principal!), params.id!), await jobRoutesNames(ctx));
    },
  }),
  route({
    method: 'get',
    path: '/v1/jobs/:id/logs',
    summary: 'Output after `after` (a sequence number). With `waitMs`, waits for more (long poll); `done` once the job ended and all is read.',
    tag: 'jobs',
    access: 'user',
    query: z.object({
      after: z.coerce.number().int().min(0).default(0),
      waitMs: z.coerce.number().int().min(0).max(60_000).default(0),
    }),
    response: { status: 200, schema: LogPage },
    rate: 'logs',
    async handle({ ctx, c, principal, params, query }) {
      return readJobLogs(ctx, requireUser(principal!), params.id!, query.after, query.waitMs, c.req.raw.signal);
    },
  }),
];
