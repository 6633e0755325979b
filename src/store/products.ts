import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { ProductsTable } from './schema.js';
import type { Queryable } from './transaction.js';

/**
 * Store products and their versions, and the catalog search. A product's search columns are derived
 * from its text on every write: `search_text` (lower-cased, for trigram substring matches — how
 * Chinese names are found) and `search_vector` (`simple` full text, for words).
 */

export interface ProductFields {
  readonly title: string;
  readonly summary: string;
  readonly description: string;
  readonly category: string;
  readonly tags: readonly string[];
  readonly licence: string;
  readonly visibility: 'public' | 'org';
  readonly families: readonly string[];
  /** Lower-cased name, title, summary and tags, kept for display and trigram look-ups. */
  readonly searchText: string;
  /** The full-text index's words for it (catalog's `indexText`: words, Han bigrams). */
  readonly searchTokens: string;
}

export async function insertProduct(q: Queryable, p: { id: string; providerOrgId: string; name: string; at: Date } & ProductFields): Promise<void> {
  await q
    .insertInto('products')
    .values({
      id: p.id,
      provider_org_id: p.providerOrgId,
      name: p.name,
      title: p.title,
      summary: p.summary,
      description: p.description,
      category: p.category,
      tags: JSON.stringify(p.tags),
      licence: p.licence,
      visibility: p.visibility,
      families: JSON.stringify(p.families),
      search_text: p.searchText,
      search_vector: sql`to_tsvector('simple', ${p.searchTokens})`,
      created_at: p.at,
      updated_at: p.at,
    })
    .execute();
}

/** Rewrites a product's descriptive fields (from its newest manifest) and its search columns. */
export async function updateProduct(q: Queryable, id: string, f: ProductFields, at: Date): Promise<void> {
  await q
    .updateTable('products')
    .set({
      title: f.title,
      summary: f.summary,
      description: f.description,
      category: f.category,
      tags: JSON.stringify(f.tags),
      licence: f.licence,
      visibility: f.visibility,
      families: JSON.stringify(f.families),
      search_text: f.searchText,
      search_vector: sql`to_tsvector('simple', ${f.searchTokens})`,
      updated_at: at,
    })
    .where('id', '=', id)
    .execute();
}

export async function findProductByName(q: Queryable, name: string) {
  return q.selectFrom('products').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertVersion(
  q: Queryable,
  v: { id: string; productId: string; version: string; status: 'draft' | 'in-review'; manifest: unknown; source: string; at: Date },
): Promise<void> {
  await q
    .insertInto('product_versions')
    .values({ id: v.id, product_id: v.productId, version: v.version, status: v.status, manifest: JSON.stringify(v.manifest), source: v.source, created_at: v.at })
    .execute();
}

/** Replaces a version still in draft (a listed or reviewed version is immutable: callers check). */
export async function replaceDraftVersion(q: Queryable, id: string, manifest: unknown, source: string, status: 'draft' | 'in-review'): Promise<void> {
  await q.updateTable('product_versions').set({ manifest: JSON.stringify(manifest), source, status }).where('id', '=', id).where('status', '=', 'draft').execute();
}

export async function findVersion(q: Queryable, productId: string, version: string) {
  return q.selectFrom('product_versions').selectAll().where('product_id', '=', productId).where('version', '=', version).executeTakeFirst();
}

export async function listVersions(q: Queryable, productId: string) {
  return q.selectFrom('product_versions').selectAll().where('product_id', '=', productId).orderBy('created_at', 'desc').execute();
}

export async function setVersionStatus(
  q: Queryable,
  id: string,
  from: readonly string[],
  to: 'draft' | 'in-review' | 'listed' | 'delisted',
  at: Date,
  note: string | null,
): Promise<boolean> {
  const r = await q
    .updateTable('product_versions')
    .set({ status: to, review_note: note, ...(to === 'listed' ? { listed_at: at } : {}) })
    .where('id', '=', id)
    .where('status', 'in', [...from] as ('draft' | 'in-review' | 'listed' | 'delisted')[])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A product is listed (searchable, launchable) while at least one of its versions is. */
export async function refreshListed(q: Queryable, productId: string): Promise<void> {
  await q
    .updateTable('products')
    .set({
      listed: sql<boolean>`EXISTS (SELECT 1 FROM product_versions v WHERE v.product_id = ${productId} AND v.status = 'listed')`,
    })
    .where('id', '=', productId)
    .execute();
}

export async function countLaunch(q: Queryable, productId: string): Promise<void> {
  await q.updateTable('products').set({ launches: sql`launches + 1` }).where('id', '=', productId).execute();
}


export interface SearchQuery {
  /** A `to_tsquery('simple', …)` text (catalog's `searchQuery`), or null for no text filter. */
  readonly tsquery: string | null;
  /** The caller's org: org-only products of other orgs are invisible. */
  readonly orgId: string;
  readonly categories?: readonly string[];
  readonly families?: readonly string[];
  readonly providers?: readonly string[]; // provider org ids
  readonly sort: 'relevance' | 'popularity' | 'newest';
  readonly limit: number;
  readonly offset: number;
}

export interface SearchResultRows {
  readonly items: Selectable<ProductsTable>[];
  readonly total: number;
  readonly facets: { readonly category: Record<string, number>; readonly provider: Record<string, number>; readonly family: Record<string, number> };
}

/**
 * Listed products visible to the caller that match the query (GIN full-text index, words and Han
 * bigrams), filtered by facets, in the requested order, with facet counts over the text match with
 * the OTHER dimensions' filters applied (as shops count facets). One statement: the match is
 * computed once (a materialized CTE) and items, total and the three facets are read from it;
 * then the page's rows are fetched by id.
 */
export async function searchProducts(q: Queryable, s: SearchQuery): Promise<SearchResultRows> {
  const textMatch = s.tsquery ? sql`AND p.search_vector @@ to_tsquery('simple', ${s.tsquery})` : sql``;
  const rank = s.tsquery ? sql`ts_rank(p.search_vector, to_tsquery('simple', ${s.tsquery}))` : sql`0::real`;
  const cat = s.categories?.length ? sql`m.category = ANY(${sql.val([...s.categories])}::text[])` : sql`true`;
  const prov = s.providers?.length ? sql`m.provider_org_id = ANY(${sql.val([...s.providers])}::text[])` : sql`true`;
  const fam = s.families?.length ? sql`m.families ?| ${sql.val([...s.families])}::text[]` : sql`true`;
  // relevance: text rank weighted up by popularity (log-scaled, so a famous product does not bury a good match)
  const order =
    s.sort === 'popularity'
      ? sql`m.launches DESC, m.id`
      : s.sort === 'newest'
        ? sql`m.created_at DESC, m.id`
        : sql`(m.rank + 0.01) * (1 + ln(1 + m.launches) / 10) DESC, m.id`;
  const result = await sql<{ ids: string[] | null; total: number; cat: Record<string, number> | null; prov: Record<string, number> | null; fam: Record<string, number> | null }>`
    WITH m AS MATERIALIZED (
      SELECT p.id, p.category, p.provider_org_id, p.families, p.launches, p.created_at, ${rank} AS rank
      FROM products p
      WHERE p.listed AND (p.visibility = 'public' OR p.provider_org_id = ${s.orgId}) ${textMatch}
    )
    SELECT
      (SELECT json_agg(id) FROM (SELECT m.id FROM m WHERE ${cat} AND ${prov} AND ${fam} ORDER BY ${order} LIMIT ${s.limit} OFFSET ${s.offset}) page) AS ids,
      (SELECT count(*) FROM m WHERE ${cat} AND ${prov} AND ${fam})::int AS total,
      (SELECT json_object_agg(k, n) FROM (SELECT m.category AS k, count(*) AS n FROM m WHERE ${prov} AND ${fam} GROUP BY 1) c) AS cat,
      (SELECT json_object_agg(k, n) FROM (SELECT m.provider_org_id AS k, count(*) AS n FROM m WHERE ${cat} AND ${fam} GROUP BY 1) c) AS prov,
      (SELECT json_object_agg(k, n) FROM (SELECT f AS k, count(*) AS n FROM m, jsonb_array_elements_text(m.families) f WHERE ${cat} AND ${prov} GROUP BY 1) c) AS fam
  `.execute(q);
  const row = result.rows[0]!;
  const ids = row.ids ?? [];
  const rows = ids.length ? await q.selectFrom('products').selectAll().where('id', 'in', ids).execute() : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return {
    items: ids.map((id) => byId.get(id)!).filter(Boolean),
    total: Number(row.total),
    facets: { category: row.cat ?? {}, provider: row.prov ?? {}, family: row.fam ?? {} },
  };
}
