import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { ProductsTable } from './schema.js';
import type { Queryable } from './transaction.js';

/**
 * Store products and their versions, and the catalog search. A product's search columns are derived
 * from its text on every write: `search_text` (lower-cased name, title, summary and tags) and
 * `search_vector` (`simple` full text over catalog's `indexText`: words and Han bigrams, which is
 * how Chinese substrings are found). Triggers (migration 0005) copy every listed product into the
 * narrow `product_search` table and keep the facet counters; search reads only those.
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
  /** Whether `total` and the facet counts are exact counts. Always true: nothing is estimated. */
  readonly exact: boolean;
}

/**
 * Listed products visible to the caller that match the query, filtered by facets, in the requested
 * order, with the exact total and facet counts over the match with the OTHER dimensions' filters
 * applied (as shops count facets). One statement over `product_search` (0005: narrow rows of listed
 * products, kept by triggers), then the page's rows are fetched from `products` by id.
 *
 * Both paths reduce the match to `cells` (count per category × family mask, provider filter
 * applied) and `providers` (count per provider, category and family filters applied); total and
 * the category and family facets are sums over the few cells.
 * - With words: the GIN match is materialized once (narrow rows, in memory), counted into cells
 *   and providers by two small hash aggregations (cheaper than one with two grouping sets), and
 *   the page is a top-N sort of the same rows.
 * - Without words (browsing every listed product): public products are already counted per cell in
 *   `product_facet_cells` and `product_provider_cells`; the caller's own org-only products are added
 *   from their rows. Only a provider filter (cells from that provider's rows) or a family filter
 *   (provider counts from the rows of those families) counts rows. The page walks the launches or
 *   created_at index.
 */
export async function searchProducts(q: Queryable, s: SearchQuery): Promise<SearchResultRows> {
  const categories = s.categories?.length ? [...s.categories] : null;
  const providers = s.providers?.length ? [...s.providers] : null;
  const families = s.families?.length ? [...s.families] : null;
  const mask = families ? sql`accelerator_family_mask(${JSON.stringify(families)}::jsonb)` : null;
  // filters on any relation with category, families (mask) and provider_org_id columns
  const catOk = (r: string) => (categories ? sql`${sql.ref(`${r}.category`)} = ANY(${sql.val(categories)}::text[])` : sql`true`);
  const provOk = (r: string) => (providers ? sql`${sql.ref(`${r}.provider_org_id`)} = ANY(${sql.val(providers)}::text[])` : sql`true`);
  const famOk = (r: string) => (mask ? sql`${sql.ref(`${r}.families`)} & ${mask} <> 0` : sql`true`);
  const allOk = (r: string) => sql`${catOk(r)} AND ${provOk(r)} AND ${famOk(r)}`;
  const visible = sql`(s.public OR s.provider_org_id = ${s.orgId})`;
  const ownHidden = sql`s.provider_org_id = ${s.orgId} AND NOT s.public`;
  // relevance: text rank weighted up by popularity (log-scaled, so a famous product does not bury a
  // good match); without words every rank is 0 and that order is the popularity order
  const relevance = s.sort === 'relevance' && s.tsquery !== null;
  const order = (r: string) =>
    relevance
      ? sql`(${sql.ref(`${r}.rank`)} + 0.01) * (1 + ln(1 + ${sql.ref(`${r}.launches`)}) / 10) DESC, ${sql.ref(`${r}.product_id`)}`
      : s.sort === 'newest'
        ? sql`${sql.ref(`${r}.created_at`)} DESC, ${sql.ref(`${r}.product_id`)}`
        : sql`${sql.ref(`${r}.launches`)} DESC, ${sql.ref(`${r}.product_id`)}`;

  const sources = s.tsquery
    ? sql`
      m AS MATERIALIZED (
        SELECT s.product_id, s.category, s.families, s.provider_org_id, s.launches, s.created_at,
               ${relevance ? sql`ts_rank(s.search_vector, to_tsquery('simple', ${s.tsquery}))` : sql`0::real`} AS rank
        FROM product_search s
        WHERE s.search_vector @@ to_tsquery('simple', ${s.tsquery}) AND ${visible}
      ),
      cells AS (SELECT m.category, m.families, count(*) AS n FROM m WHERE ${provOk('m')} GROUP BY 1, 2),
      providers AS (SELECT m.provider_org_id, count(*) AS n FROM m WHERE ${catOk('m')} AND ${famOk('m')} GROUP BY 1),
      page AS (SELECT m.product_id FROM m WHERE ${allOk('m')} ORDER BY ${order('m')} LIMIT ${s.limit} OFFSET ${s.offset})`
    : sql`
      cells AS (${
        providers
          ? sql`SELECT s.category, s.families, count(*) AS n FROM product_search s WHERE ${provOk('s')} AND ${visible} GROUP BY 1, 2`
          : sql`SELECT c.category, c.families, c.n FROM product_facet_cells c WHERE c.n > 0
                UNION ALL
                SELECT s.category, s.families, count(*) FROM product_search s WHERE ${ownHidden} GROUP BY 1, 2`
      }),
      providers AS (${
        mask
          ? sql`SELECT s.provider_org_id, count(*) AS n FROM product_search s WHERE ${visible} AND ${catOk('s')} AND ${famOk('s')} GROUP BY 1`
          : sql`SELECT x.provider_org_id, sum(x.n) AS n FROM (
                  SELECT c.provider_org_id, c.n FROM product_provider_cells c WHERE ${catOk('c')}
                  UNION ALL
                  SELECT s.provider_org_id, 1 FROM product_search s WHERE ${ownHidden} AND ${catOk('s')}
                ) x GROUP BY 1`
      }),
      page AS (SELECT s.product_id FROM product_search s WHERE ${visible} AND ${allOk('s')} ORDER BY ${order('s')} LIMIT ${s.limit} OFFSET ${s.offset})`;

  const result = await sql<{ ids: string[] | null; total: number; cat: Record<string, number> | null; prov: Record<string, number> | null; fam: Record<string, number> | null }>`
    WITH ${sources}
    SELECT
      (SELECT json_agg(page.product_id) FROM page) AS ids,
      (SELECT coalesce(sum(c.n), 0) FROM cells c WHERE ${catOk('c')} AND ${famOk('c')})::int AS total,
      (SELECT json_object_agg(x.category, x.n) FROM (
        SELECT c.category, sum(c.n) AS n FROM cells c WHERE ${famOk('c')} GROUP BY 1 HAVING sum(c.n) > 0) x) AS cat,
      (SELECT json_object_agg(p.provider_org_id, p.n) FROM providers p WHERE p.n > 0) AS prov,
      (SELECT json_object_agg(a.f, x.n)
       FROM unnest(accelerator_family_names()) WITH ORDINALITY AS a(f, i),
            LATERAL (SELECT sum(c.n) AS n FROM cells c WHERE ${catOk('c')} AND c.families & (1 << (a.i::int - 1)) <> 0) x
       WHERE x.n > 0) AS fam
  `.execute(q);
  const row = result.rows[0]!;
  const ids = row.ids ?? [];
  const rows = ids.length ? await q.selectFrom('products').selectAll().where('id', 'in', ids).execute() : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return {
    items: ids.map((id) => byId.get(id)!).filter(Boolean),
    total: Number(row.total),
    facets: { category: row.cat ?? {}, provider: row.prov ?? {}, family: row.fam ?? {} },
    exact: true,
  };
}
