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
  token: { id: string; secretHash: string; userId?: string; centerId?: string; label: string; at: Date },
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
    })
    .execute();
}

export interface TokenOwner {
  readonly tokenId: string;
  readonly user: { id: string; orgId: string; name: string; role: Role } | null;
  readonly centerId: string | null;
}

/** The owner of a live (not revoked) token, by the hash of its secret. */
export async function findTokenOwner(q: Queryable, secretHash: string): Promise<TokenOwner | undefined> {
  const row = await q
    .selectFrom('api_tokens as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .select(['t.id as tokenId', 't.center_id as centerId', 'u.id as userId', 'u.org_id as orgId', 'u.name as userName', 'u.role as role'])
    .where('t.secret_hash', '=', secretHash)
    .where('t.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    tokenId: row.tokenId,
    centerId: row.centerId,
    user: row.userId && row.orgId && row.userName && row.role ? { id: row.userId, orgId: row.orgId, name: row.userName, role: row.role } : null,
  };
}

export async function revokeCenterTokens(q: Queryable, centerId: string, at: Date): Promise<void> {
  await q.updateTable('api_tokens').set({ revoked_at: at }).where('center_id', '=', centerId).where('revoked_at', 'is', null).execute();
}
