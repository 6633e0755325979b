import type { Queryable } from './transaction.js';
import type { Role, UserRow } from './schema.js';

/** Orgs, users and API tokens (tokens are stored as a SHA-256 of the secret, never the secret). */

export async function insertOrg(q: Queryable, org: { id: string; name: string; at: Date }): Promise<void> {
  await q.insertInto('orgs').values({ id: org.id, name: org.name, created_at: org.at }).execute();
}

export async function findOrgByName(q: Queryable, name: string): Promise<{ id: string; name: string } | undefined> {
  return q.selectFrom('orgs').select(['id', 'name']).where('name', '=', name).executeTakeFirst();
}

/** Names of the given orgs by id (unknown ids are left out). */
export async function orgNamesById(q: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await q.selectFrom('orgs').select(['id', 'name']).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

export async function insertUser(q: Queryable, user: { id: string; orgId: string; name: string; role: Role; at: Date }): Promise<void> {
  await q
    .insertInto('users')
    .values({ id: user.id, org_id: user.orgId, name: user.name, role: user.role, created_at: user.at })
    .execute();
}

export async function findUserByName(q: Queryable, name: string): Promise<UserRow | undefined> {
  return q.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertToken(
  q: Queryable,
  token: { id: string; secretHash: string; userId?: string; centerId?: string; label: string; at: Date; expiresAt?: Date | null },
): Promise<void> {
  await q
    .insertInto('api_tokens')
    .values({
      id: token.id,
      secret_hash: token.secretHash,
      user_id: token.userId ?? null,
      center_id: token.centerId ?? null,
      label: token.label,
      created_at: token.at,
      expires_at: token.expiresAt ?? null,
    })
    .execute();
}

export interface TokenOwner {
  readonly tokenId: string;
  readonly user: { id: string; orgId: string; orgName: string; name: string; role: Role } | null;
  readonly centerId: string | null;
  /** After this the token no longer authenticates (null: never expires). */
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
}

/** The owner of a token that is not revoked (expiry is the caller's to check), by the hash of its secret. */
export async function findTokenOwner(q: Queryable, secretHash: string): Promise<TokenOwner | undefined> {
  const row = await q
    .selectFrom('api_tokens as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('orgs as o', 'o.id', 'u.org_id')
    .select(['t.id as tokenId', 't.center_id as centerId', 't.expires_at as expiresAt', 't.last_used_at as lastUsedAt', 'u.id as userId', 'u.org_id as orgId', 'o.name as orgName', 'u.name as userName', 'u.role as role'])
    .where('t.secret_hash', '=', secretHash)
    .where('t.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    tokenId: row.tokenId,
    centerId: row.centerId,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    user: row.userId && row.orgId && row.orgName && row.userName && row.role ? { id: row.userId, orgId: row.orgId, orgName: row.orgName, name: row.userName, role: row.role } : null,
  };
}

export async function revokeCenterTokens(q: Queryable, centerId: string, at: Date): Promise<void> {
  await q.updateTable('api_tokens').set({ revoked_at: at }).where('center_id', '=', centerId).where('revoked_at', 'is', null).execute();
}

/**
 * Records that a token was used at `at`, unless it was recorded less than `everyMs` before: at most
 * one write per token per interval, however busy the token.
 */
export async function touchToken(q: Queryable, tokenId: string, at: Date, everyMs: number): Promise<void> {
  await q
    .updateTable('api_tokens')
    .set({ last_used_at: at })
    .where('id', '=', tokenId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(at.getTime() - everyMs))]))
    .execute();
}

export interface OrgListing {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly users: number;
}

/** Every org with its number of users, by name. */
export async function listOrgs(q: Queryable): Promise<OrgListing[]> {
  const rows = await q
    .selectFrom('orgs as o')
    .leftJoin('users as u', 'u.org_id', 'o.id')
    .select((eb) => ['o.id', 'o.name', 'o.created_at', eb.fn.count<number>('u.id').as('users')])
    .groupBy(['o.id', 'o.name', 'o.created_at'])
    .orderBy('o.name')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, users: Number(r.users) }));
}

export interface UserListing {
  readonly id: string;
  readonly name: string;
  readonly org: string;
  readonly role: Role;
  readonly createdAt: Date;
}

/** Every user (optionally of one org), by name. */
export async function listUsers(q: Queryable, orgName?: string): Promise<UserListing[]> {
  let query = q.selectFrom('users as u').innerJoin('orgs as o', 'o.id', 'u.org_id').select(['u.id', 'u.name', 'o.name as org', 'u.role', 'u.created_at']);
  if (orgName) query = query.where('o.name', '=', orgName);
  const rows = await query.orderBy('u.name').execute();
  return rows.map((r) => ({ id: r.id, name: r.name, org: r.org, role: r.role, createdAt: r.created_at }));
}

/** Sets a user's role; returns false when there is no such user. */
export async function setUserRole(q: Queryable, name: string, role: Role): Promise<boolean> {
  const r = await q.updateTable('users').set({ role }).where('name', '=', name).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export interface TokenListing {
  readonly id: string;
  readonly label: string;
  /** The user's name, or null for a center's agent token. */
  readonly user: string | null;
  /** The center's name, for an agent token. */
  readonly center: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** Tokens (never their secrets), newest first; revoked ones only when asked. */
export async function listTokens(q: Queryable, options: { user?: string; includeRevoked?: boolean; limit?: number } = {}): Promise<TokenListing[]> {
  let query = q
    .selectFrom('api_tokens as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('centers as c', 'c.id', 't.center_id')
    .select(['t.id', 't.label', 'u.name as user', 'c.name as center', 't.created_at', 't.expires_at', 't.last_used_at', 't.revoked_at']);
  if (options.user) query = query.where('u.name', '=', options.user);
  if (!options.includeRevoked) query = query.where('t.revoked_at', 'is', null);
  const rows = await query.orderBy('t.created_at', 'desc').orderBy('t.id').limit(options.limit ?? 1000).execute();
  return rows.map((r) => ({
    id: r.id,
    label: r.label,
    user: r.user,
    center: r.center,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

/** Revokes a token by id; returns false when there is no such token or it was revoked already. */
export async function revokeToken(q: Queryable, tokenId: string, at: Date): Promise<boolean> {
  const r = await q.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', tokenId).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function insertEnrollmentToken(
  q: Queryable,
  token: { id: string; secretHash: string; centerId: string; label: string; at: Date; expiresAt: Date },
): Promise<void> {
  await q
    .insertInto('enrollment_tokens')
    .values({ id: token.id, secret_hash: token.secretHash, center_id: token.centerId, label: token.label, created_at: token.at, expires_at: token.expiresAt })
    .execute();
}

/**
 * Uses up an enrollment token: marks it used and returns its center, or undefined when it is
 * unknown, used already or expired. One UPDATE: two agents racing with one token cannot both win.
 */
export async function consumeEnrollmentToken(q: Queryable, secretHash: string, at: Date): Promise<{ id: string; centerId: string } | undefined> {
  const row = await q
    .updateTable('enrollment_tokens')
    .set({ used_at: at })
    .where('secret_hash', '=', secretHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', at)
    .returning(['id', 'center_id'])
    .executeTakeFirst();
  return row ? { id: row.id, centerId: row.center_id } : undefined;
}

/** Links a used enrollment token to the agent token it became (for audit). */
export async function linkEnrollment(q: Queryable, enrollmentId: string, agentTokenId: string): Promise<void> {
  await q.updateTable('enrollment_tokens').set({ agent_token_id: agentTokenId }).where('id', '=', enrollmentId).execute();
}
