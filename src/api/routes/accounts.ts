import { z } from 'zod';
import { createUser, requireUser } from '../../engine/accounts.js';
import { NewUser } from '../client/schemas.js';
import { route } from '../route.js';

export const accountRoutes = [
  route({
    method: 'get',
    path: '/v1/whoami',
    summary: 'The user behind the token.',
    tag: 'accounts',
    access: 'user',
    response: { status: 200, schema: z.object({ user: z.string(), org: z.string(), role: z.string() }).meta({ id: 'WhoAmI' }) },
    async handle({ ctx, principal }) {
      const user = requireUser(principal!);
      const org = await ctx.store.db.selectFrom('orgs').select('name').where('id', '=', user.orgId).executeTakeFirstOrThrow();
      return { user: user.name, org: org.name, role: user.role };
    },
  }),
  route({
    method: 'post',
    path: '/v1/users',
    summary: 'Create a user (and its org when new); returns its first token, shown once (admins).',
    tag: 'accounts',
    access: 'admin',
    body: NewUser,
    response: { status: 201, schema: z.object({ id: z.string(), org: z.string(), token: z.string() }) },
    async handle({ ctx, body }) {
      const u = await createUser(ctx, { orgName: body.org, name: body.name, role: body.role });
      return { id: u.userId, org: body.org, token: u.token };
    },
  }),
];
