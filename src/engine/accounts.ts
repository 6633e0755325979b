import { SuanwangError } from '../core/errors.js';
import type { Role } from '../store/schema.js';
import { consumeEnrollmentToken, revokeToken, setUserRole, findOrgByName, findTokenOwner, findUserByName, insertEnrollmentToken, insertOrg, insertToken, insertUser, linkEnrollment, touchToken } from '../store/accounts.js';
import { findCenterByName } from '../store/centers.js';
import { inTransaction } from '../store/transaction.js';
import type { EngineContext } from './context.js';
import { hashSecret, newSecret } from './secrets.js';

/** How stale a token's recorded last use may be. */
const LAST_USED_EVERY_MS = 60_000;

/** Who is calling: a person (through a user token) or a center's agent (through a center token). */
export type Principal =
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly orgId: string;
      /** The org's name where it was at hand (a principal from a token has it): saves a lookup. */
      readonly orgName?: string;
      readonly name: string;
      readonly role: Role;
    }
  | { readonly kind: 'agent'; readonly centerId: string };

/**
 * Who changes tokens or their owners' rights (revocation, a new role) wakes this topic after the
 * change commits, here and in the other control-plane processes: caches of principals clear on it.
 */
export const TOKENS_TOPIC = 'tokens';

/**
 * The principal behind a bearer secret and when its token expires (null: never), or an
 * `unauthenticated` error that says what to do. Requests go through the cache of principals
 * (src/api/token-cache.ts).
 */
export async function authenticateToken(ctx: EngineContext, secret: string | undefined): Promise<{ readonly principal: Principal; readonly expiresAt: Date | null }> {
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
  const now = ctx.now();
  if (owner.expiresAt && owner.expiresAt <= now) {
    throw new SuanwangError('unauthenticated', `the bearer token expired at ${owner.expiresAt.toISOString()}`, {
      field: 'Authorization',
      hint: 'ask an admin for a new one (`suanwang admin tokens create`)',
    });
  }
  // At most one write per token per minute, however busy it is (agents call many times a second).
  if (!owner.lastUsedAt || now.getTime() - owner.lastUsedAt.getTime() >= LAST_USED_EVERY_MS) {
    await touchToken(ctx.store.db, owner.tokenId, now, LAST_USED_EVERY_MS);
  }
  if (owner.centerId) return { principal: { kind: 'agent', centerId: owner.centerId }, expiresAt: owner.expiresAt };
  const user = owner.user!;
  return { principal: { kind: 'user', userId: user.id, orgId: user.orgId, orgName: user.orgName, name: user.name, role: user.role }, expiresAt: owner.expiresAt };
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

/** A new token for an existing user (the secret is returned once), expiring at `expiresAt` when given. */
export async function createUserToken(ctx: EngineContext, userId: string, label: string, expiresAt?: Date | null): Promise<string> {
  return (await createUserTokenWithId(ctx, userId, label, expiresAt)).token;
}

/** As createUserToken, also returning the token's id (what `revoke` takes). */
export async function createUserTokenWithId(ctx: EngineContext, userId: string, label: string, expiresAt?: Date | null): Promise<{ id: string; token: string }> {
  const token = newSecret('user');
  const id = ctx.newId('token');
  await insertToken(ctx.store.db, { id, secretHash: hashSecret(token), userId, label, at: ctx.now(), expiresAt: expiresAt ?? null });
  return { id, token };
}

/** A new agent token for a center (the secret is returned once). */
export async function createCenterToken(ctx: EngineContext, centerId: string, label: string): Promise<string> {
  const token = newSecret('agent');
  await insertToken(ctx.store.db, { id: ctx.newId('token'), secretHash: hashSecret(token), centerId, label, at: ctx.now() });
  return token;
}

/** How long an enrollment token lasts unless the admin says otherwise. */
export const DEFAULT_ENROLLMENT_SECONDS = 24 * 3600;

/**
 * A new enrollment token for a center (the secret, `swe_…`, is returned once): an agent exchanges
 * it once, within `expiresInSeconds`, for an agent token of that center (`enrollAgent`).
 */
export async function createEnrollmentToken(
  ctx: EngineContext,
  centerName: string,
  expiresInSeconds = DEFAULT_ENROLLMENT_SECONDS,
): Promise<{ token: string; center: string; expiresAt: Date }> {
  const center = await findCenterByName(ctx.store.db, centerName);
  if (!center) throw new SuanwangError('center_not_found', `no center named ${centerName}`, { field: 'name', hint: '`suanwang admin centers list` lists them' });
  const token = newSecret('enrollment');
  const now = ctx.now();
  const expiresAt = new Date(now.getTime() + expiresInSeconds * 1000);
  await insertEnrollmentToken(ctx.store.db, { id: ctx.newId('enrollment'), secretHash: hashSecret(token), centerId: center.id, label: `enrollment of ${center.name}`, at: now, expiresAt });
  return { token, center: center.name, expiresAt };
}

/**
 * Exchanges an enrollment token for a new agent token of its center, once: a used, expired or
 * unknown enrollment token is refused (401) and nothing is written.
 */
export async function enrollAgent(ctx: EngineContext, enrollmentToken: string): Promise<{ centerId: string; centerName: string; agentToken: string }> {
  const now = ctx.now();
  const agentToken = newSecret('agent');
  const result = await inTransaction(ctx.store.db, async (trx) => {
    const used = await consumeEnrollmentToken(trx, hashSecret(enrollmentToken), now);
    if (!used) return undefined;
    const center = (await trx.selectFrom('centers').select(['id', 'name']).where('id', '=', used.centerId).executeTakeFirst())!;
    const tokenId = ctx.newId('token');
    await insertToken(trx, { id: tokenId, secretHash: hashSecret(agentToken), centerId: center.id, label: `agent of ${center.name} (enrolled)`, at: now });
    await linkEnrollment(trx, used.id, tokenId);
    return { centerId: center.id, centerName: center.name, agentToken };
  });
  if (!result) {
    throw new SuanwangError('unauthenticated', 'the enrollment token is unknown, used already or expired', {
      field: 'enrollmentToken',
      hint: 'an enrollment token works once; ask an admin for a new one (`suanwang admin centers enroll CENTER`)',
    });
  }
  return result;
}

/** Creates an org; `conflict` when the name is taken. */
export async function createOrg(ctx: EngineContext, name: string): Promise<{ id: string; name: string }> {
  if (await findOrgByName(ctx.store.db, name)) {
    throw new SuanwangError('conflict', `an org named ${name} exists already`, { field: 'name', hint: 'pick another name' });
  }
  const id = ctx.newId('org');
  await insertOrg(ctx.store.db, { id, name, at: ctx.now() });
  return { id, name };
}

/** Changes a user's role. Refuses to demote the last admin (nobody could govern the platform after). */
export async function changeRole(ctx: EngineContext, name: string, role: Role): Promise<void> {
  await inTransaction(ctx.store.db, async (trx) => {
    const user = await findUserByName(trx, name);
    if (!user) throw new SuanwangError('user_not_found', `no user named ${name}`, { field: 'name', hint: '`suanwang admin users list` lists them' });
    if (user.role === 'admin' && role !== 'admin') {
      // Lock the admins' rows so two concurrent demotions cannot both pass the check.
      const admins = await trx.selectFrom('users').select('id').where('role', '=', 'admin').forUpdate().execute();
      if (admins.length <= 1) {
        throw new SuanwangError('conflict', `${name} is the last admin`, { field: 'role', hint: 'make another user admin first' });
      }
    }
    await setUserRole(trx, name, role);
  });
  ctx.signals.wake(TOKENS_TOPIC);
}

/** A new API token for a user by name (the secret is returned once), expiring after `expiresInSeconds` when given. */
export async function createApiToken(
  ctx: EngineContext,
  input: { user: string; label?: string | undefined; expiresInSeconds?: number | undefined },
): Promise<{ id: string; token: string; label: string; expiresAt: Date | null }> {
  const user = await findUserByName(ctx.store.db, input.user);
  if (!user) throw new SuanwangError('user_not_found', `no user named ${input.user}`, { field: 'user', hint: '`suanwang admin users list` lists them' });
  const expiresAt = input.expiresInSeconds ? new Date(ctx.now().getTime() + input.expiresInSeconds * 1000) : null;
  const label = input.label ?? `token of ${user.name}`;
  const { id, token } = await createUserTokenWithId(ctx, user.id, label, expiresAt);
  return { id, token, label, expiresAt };
}

/** Revokes a token by id: it stops authenticating at once. `token_not_found` when unknown or revoked already. */
export async function revokeApiToken(ctx: EngineContext, tokenId: string): Promise<Date> {
  const at = ctx.now();
  if (!(await revokeToken(ctx.store.db, tokenId, at))) {
    throw new SuanwangError('token_not_found', `no live token with id ${tokenId}`, { field: 'id', hint: '`suanwang admin tokens list` shows the ids' });
  }
  ctx.signals.wake(TOKENS_TOPIC);
  return at;
}
