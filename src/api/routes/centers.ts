import { requireUser } from '../../engine/accounts.js';
import { createCenter, newAgentToken } from '../../engine/centers.js';
import { listCenters, listPools } from '../../store/centers.js';
import { activeJobs } from '../../store/jobs.js';
import { CenterList, NewCenter, TokenCreated } from '../client/schemas.js';
import { route } from '../route.js';
import { centerResource } from '../views.js';
import { z } from 'zod';

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
      return { items: centers.map((c) => centerResource(c, pools, active)) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/centers',
    summary: 'Add a center (admins). Returns the token its agent connects with, shown once.',
    tag: 'centers',
    access: 'admin',
    body: NewCenter,
    response: { status: 201, schema: z.object({ id: z.string(), agentToken: z.string() }) },
    async handle({ ctx, principal, body }) {
      const org = requireUser(principal!);
      const { centerId, agentToken } = await createCenter(ctx, { ...body, operatorOrg: (await ctx.store.db.selectFrom('orgs').select('name').where('id', '=', org.orgId).executeTakeFirstOrThrow()).name });
      return { id: centerId, agentToken };
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
