import { createEnrollmentToken, requireUser } from '../../engine/accounts.js';
import { createCenter, newAgentToken } from '../../engine/centers.js';
import { listCenters, listPools } from '../../store/centers.js';
import { activeJobs } from '../../store/jobs.js';
import { CenterCreated, CenterList, EnrollmentTokenCreated, NewCenter, NewEnrollmentToken, TokenCreated } from '../client/schemas.js';
import { route } from '../route.js';
import { centerResource } from '../views.js';

export const centerRoutes = [
  route({
    method: 'get',
    path: '/v1/centers',
    summary: 'The centers of the network: state, pools, free capacity and prices.',
    tag: 'centers',
    access: 'user',
    response: { status: 200, schema: CenterList },
    async handle({ ctx, principal }) {
      requireUser(principal!);
      const db = ctx.store.db;
      const [centers, pools, active] = await Promise.all([listCenters(db), listPools(db), activeJobs(db)]);
      return { items: centers.map((c) => centerResource(c, pools, active, ctx.now())) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/centers',
    summary: 'Add a center (admins). Returns the token its agent connects with, shown once.',
    tag: 'centers',
    access: 'admin',
    body: NewCenter,
    response: { status: 201, schema: CenterCreated },
    async handle({ ctx, principal, body }) {
      const admin = requireUser(principal!);
      const operatorOrg = body.operatorOrg ?? (await ctx.store.db.selectFrom('orgs').select('name').where('id', '=', admin.orgId).executeTakeFirstOrThrow()).name;
      const { operatorOrg: _o, enrollmentExpiresInSeconds, ...definition } = body;
      const { centerId, agentToken } = await createCenter(ctx, { ...definition, displayName: definition.displayName ?? definition.name, operatorOrg });
      const enrollment = await createEnrollmentToken(ctx, body.name, enrollmentExpiresInSeconds);
      return { id: centerId, agentToken, enrollmentToken: enrollment.token, enrollmentExpiresAt: enrollment.expiresAt.toISOString() };
    },
  }),
  route({
    method: 'post',
    path: '/v1/centers/:name/enrollment-tokens',
    summary: "A new enrollment token for a center's agent (admins): single use, expiring; shown once.",
    tag: 'centers',
    access: 'admin',
    body: NewEnrollmentToken,
    response: { status: 201, schema: EnrollmentTokenCreated },
    async handle({ ctx, params, body }) {
      const r = await createEnrollmentToken(ctx, params.name!, body.expiresInSeconds);
      return { center: r.center, enrollmentToken: r.token, expiresAt: r.expiresAt.toISOString() };
    },
  }),
  route({
    method: 'post',
    path: '/v1/centers/:name/tokens',
    summary: 'A new agent token for a center (admins), shown once.',
    tag: 'centers',
    access: 'admin',
    response: { status: 201, schema: TokenCreated },
    async handle({ ctx, params }) {
      return { token: await newAgentToken(ctx, params.name!) };
    },
  }),
];
