import { SuanwangError } from '../core/errors.js';
import type { Role } from '../store/schema.js';
import { findOrgByName, findTokenOwner, findUserByName, insertOrg, insertToken, insertUser } from '../store/accounts.js';
import { inTransaction } from '../store/transaction.js';
import type { EngineContext } from './context.js';
import { hashSecret, newSecret } from './secrets.js';

/** Who is calling: a person (through a user token) or a center's agent (through a center token). */
export type Principal =
  | { readonly kind: 'user'; readonly userId: string; readonly orgId: string; readonly name: string; readonly role: Role }
  | { readonly kind: 'agent'; readonly centerId: string };

/** The principal behind a bearer secret, or an `unauthenticated` error that says what to do. */
export async function authenticate(ctx: EngineContext, secret: string | undefined): Promise<Principal> {
  if (!secret) {
    throw new SuanwangError('unauthenticated', 'this request has no bearer token', {
      field: 'Authorization',
      hint: 'send "Authorization: Bearer <token>"; `suanwang login` stores one for the CLI',
    });
  }
  const owner = await findTokenOwner(ctx.store.db, hashSecret(secret));
  if (!owner) {
    throw new SuanwangError('unauthenticated', 'the bearer token is unknown or revoked', {
      field: 'Authorization',
      hint: 'check the token (it is shown once, when created) or ask an admin for a new one',
    });
  }
  if (owner.centerId) return { kind: 'agent', centerId: owner.centerId };
  const user = owner.user!;
  return { kind: 'user', userId: user.id, orgId: user.orgId, name: user.name, role: user.role };
}

/** Narrows a principal to a user, or throws `forbidden` (an agent token used on a user endpoint). */
export function requireUser(p: Principal): Extract<Principal, { kind: 'user' }> {
  if (p.kind !== 'user') throw new SuanwangError('forbidden', 'a center token can only call /v1/agent endpoints', { hint: 'use a user token' });
  return p;
}

export function requireAdmin(p: Principal): Extract<Principal, { kind: 'user' }> {
  const user = requireUser(p);
  if (user.role !== 'admin') throw new SuanwangError('forbidden', `user ${user.name} is a ${user.role}; this needs an admin`);
  return user;
}

export function requireAgent(p: Principal): Extract<Principal, { kind: 'agent' }> {
  if (p.kind !== 'agent') {
    throw new SuanwangError('forbidden', 'agent endpoints need a center token', { hint: 'create one with POST /v1/centers/{name}/tokens' });
  }
  return p;
}

/** Creates an org if it does not exist; returns its id. */
export async function ensureOrg(ctx: EngineContext, name: string): Promise<string> {
  const existing = await findOrgByName(ctx.store.db, name);
  if (existing) return existing.id;
  const id = ctx.newId('org');
  await insertOrg(ctx.store.db, { id, name, at: ctx.now() });
  return id;
}

/** Creates a user in an org, with a first token; the secret is returned once and never stored. */
export async function createUser(
  ctx: EngineContext,
  input: { orgName: string; name: string; role: Role },
): Promise<{ userId: string; orgId: string; token: string }> {
  if (await findUserByName(ctx.store.db, input.name)) {
    throw new SuanwangError('conflict', `a user named ${input.name} exists already`, { field: 'name', hint: 'pick another name' });
  }
  const orgId = await ensureOrg(ctx, input.orgName);
  const userId = ctx.newId('user');
  const token = newSecret('user');
  await inTransaction(ctx.store.db, async (trx) => {
    await insertUser(trx, { id: userId, orgId, name: input.name, role: input.role, at: ctx.now() });
    await insertToken(trx, { id: ctx.newId('token'), secretHash: hashSecret(token), userId, label: `first token of ${input.name}`, at: ctx.now() });
  });
  return { userId, orgId, token };
}

/** A new token for an existing user (the secret is returned once). */
export async function createUserToken(ctx: EngineContext, userId: string, label: string): Promise<string> {
  const token = newSecret('user');
  await insertToken(ctx.store.db, { id: ctx.newId('token'), secretHash: hashSecret(token), userId, label, at: ctx.now() });
  return token;
}

/** A new agent token for a center (the secret is returned once). */
export async function createCenterToken(ctx: EngineContext, centerId: string, label: string): Promise<string> {
  const token = newSecret('agent');
  await insertToken(ctx.store.db, { id: ctx.newId('token'), secretHash: hashSecret(token), centerId, label, at: ctx.now() });
  return token;
}
