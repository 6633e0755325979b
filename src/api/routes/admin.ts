import { changeRole, createApiToken, createOrg, revokeApiToken } from '../../engine/accounts.js';
import { listOrgs, listTokens, listUsers } from '../../store/accounts.js';
import {
  ApiTokenCreated,
  ApiTokenList,
  ApiTokenListQuery,
  NewApiToken,
  NewOrg,
  OrgList,
  OrgResource,
  RoleChange,
  UserList,
  UserListQuery,
  UserResource,
} from '../client/schemas.js';
import { route } from '../route.js';
import { z } from 'zod';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Platform administration (admins only): orgs, users and their roles, API tokens. */
export const adminRoutes = [
  route({
    method: 'get',
    path: '/v1/orgs',
    summary: 'Every org, with its number of users (admins).',
    tag: 'admin',
    access: 'admin',
    response: { status: 200, schema: OrgList },
    async handle({ ctx }) {
      return { items: (await listOrgs(ctx.store.db)).map((o) => ({ id: o.id, name: o.name, users: o.users, createdAt: o.createdAt.toISOString() })) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/orgs',
    summary: 'Create an org (admins).',
    tag: 'admin',
    access: 'admin',
    body: NewOrg,
    response: { status: 201, schema: OrgResource },
    async handle({ ctx, body }) {
      const org = await createOrg(ctx, body.name);
      return { id: org.id, name: org.name, users: 0, createdAt: ctx.now().toISOString() };
    },
  }),
  route({
    method: 'get',
    path: '/v1/users',
    summary: 'Every user, or those of one org, with their roles (admins).',
    tag: 'admin',
    access: 'admin',
    query: UserListQuery,
    response: { status: 200, schema: UserList },
    async handle({ ctx, query }) {
      const users = await listUsers(ctx.store.db, query.org);
      return { items: users.map((u) => ({ id: u.id, name: u.name, org: u.org, role: u.role, createdAt: u.createdAt.toISOString() })) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/users/:name/role',
    summary: "Change a user's role (admins). The last admin cannot be demoted.",
    tag: 'admin',
    access: 'admin',
    body: RoleChange,
    response: { status: 200, schema: UserResource },
    async handle({ ctx, params, body }) {
      await changeRole(ctx, params.name!, body.role);
      const u = (await listUsers(ctx.store.db)).find((x) => x.name === params.name)!;
      return { id: u.id, name: u.name, org: u.org, role: u.role, createdAt: u.createdAt.toISOString() };
    },
  }),
  route({
    method: 'get',
    path: '/v1/tokens',
    summary: 'API tokens (never their secrets) with their last use, newest first; `revoked=true` includes revoked ones (admins).',
    tag: 'admin',
    access: 'admin',
    query: ApiTokenListQuery,
    response: { status: 200, schema: ApiTokenList },
    async handle({ ctx, query }) {
      const tokens = await listTokens(ctx.store.db, { ...(query.user ? { user: query.user } : {}), includeRevoked: query.revoked });
      return {
        items: tokens.map((t) => ({
          id: t.id,
          label: t.label,
          user: t.user,
          center: t.center,
          createdAt: t.createdAt.toISOString(),
          expiresAt: iso(t.expiresAt),
          lastUsedAt: iso(t.lastUsedAt),
          revokedAt: iso(t.revokedAt),
        })),
      };
    },
  }),
  route({
    method: 'post',
    path: '/v1/tokens',
    summary: 'A new API token for a user, optionally expiring (admins); the secret is shown once.',
    tag: 'admin',
    access: 'admin',
    body: NewApiToken,
    response: { status: 201, schema: ApiTokenCreated },
    async handle({ ctx, body }) {
      const t = await createApiToken(ctx, body);
      return { id: t.id, user: body.user, label: t.label, token: t.token, expiresAt: iso(t.expiresAt) };
    },
  }),
  route({
    method: 'delete',
    path: '/v1/tokens/:id',
    summary: 'Revoke a token (admins): it stops authenticating at once.',
    tag: 'admin',
    access: 'admin',
    response: { status: 200, schema: z.object({ id: z.string(), revokedAt: z.string() }) },
    async handle({ ctx, params }) {
      const at = await revokeApiToken(ctx, params.id!);
      return { id: params.id!, revokedAt: at.toISOString() };
    },
  }),
];
