import { sql } from 'kysely';
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
}

function searchText(name: string, f: ProductFields): string {
  return [name, f.title, f.summary, f.tags.join(' ')].join(' ').toLowerCase();
}

export async function insertProduct(q: Queryable, p: { id: string; providerOrgId: string; name: string; at: Date } & ProductFields): Promise<void> {
  const text = searchText(p.name, p);
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
      search_text: text,
      search_vector: sql`to_tsvector('simple', ${text})`,
      created_at: p.at,
      updated_at: p.at,
    })
    .execute();
}

/** Rewrites a product's descriptive fields (from its newest manifest) and its search columns. */
export async function updateProduct(q: Queryable, id: string, name: string, f: ProductFields, at: Date): Promise<void> {
  const text = searchText(name, f);
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
      search_text: text,
      search_vector: sql`to_tsvector('simple', ${text})`,
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
  readonly text: string;
  /** The caller's org: org-only products of other orgs are invisible. */
  readonly orgId: string;
  readonly categories?: readonly string[];
  readonly families?: readonly string[];
  readonly providers?: readonly string[]; // provider org ids
  readonly sort: 'relevance' | 'popularity' | 'newest';
  readonly limit: number;
  readonly offset: number;
}

/**
 * Listed products visible to the caller that match the text (words through the full-text index, or a
 * substring through the trigram index), filtered by facets, in the requested order, with the facet
 * counts of the whole match (before the facet filters of other dimensions — each facet counts with
 * the others' filters applied, as shops do).
 */
export async function searchProducts(q: Queryable, s: SearchQuery) {
  const text = s.text.trim().toLowerCase();
  const base = (except?: 'category' | 'family' | 'provider') => {
    let w = q
      .selectFrom('products as p')
      .where('p.listed', '=', true)
      .where((eb) => eb.or([eb('p.visibility', '=', 'public'), eb('p.provider_org_id', '=', s.orgId)]));
    if (text) {
      w = w.where((eb) =>
        eb.or([
          eb(sql`p.search_vector`, '@@', sql`plainto_tsquery('simple', ${text})`),
          eb('p.search_text', 'like', `%${escapeLike(text)}%`),
        ]),
      );
    }
    if (except !== 'category' && s.categories?.length) w = w.where('p.category', 'in', [...s.categories]);
    if (except !== 'provider' && s.providers?.length) w = w.where('p.provider_org_id', 'in', [...s.providers]);
    if (except !== 'family' && s.families?.length) w = w.where(sql<boolean>`p.families ?| ${sql.val([...s.families])}::text[]`);
    return w;
  };
  let sel = base()
    .selectAll('p')
    .select(
      text
        ? sql<number>`ts_rank(p.search_vector, plainto_tsquery('simple', ${text})) + similarity(p.search_text, ${text})`.as('relevance')
        : sql<number>`0`.as('relevance'),
    );
  if (s.sort === 'popularity') sel = sel.orderBy('p.launches', 'desc').orderBy('p.id');
  else if (s.sort === 'newest') sel = sel.orderBy('p.created_at', 'desc').orderBy('p.id');
  // relevance: text match weighted up by popularity (log-scaled, so a famous product does not bury an exact match)
  else sel = sel.orderBy(sql`(${text ? sql`ts_rank(p.search_vector, plainto_tsquery('simple', ${text})) + similarity(p.search_text, ${text})` : sql`1`}) * (1 + ln(1 + p.launches) / 10)`, 'desc').orderBy('p.id');
  const [items, total, categories, providers, families] = await Promise.all([
    sel.limit(s.limit).offset(s.offset).execute(),
    base().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    base('category').select(['p.category as key', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('p.category').execute(),
    base('provider').select(['p.provider_org_id as key', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('p.provider_org_id').execute(),
    base('family')
      .select([sql<string>`f.value`.as('key'), (eb) => eb.fn.countAll<number>().as('n')])
      .innerJoin(sql`jsonb_array_elements_text(p.families)`.as('f'), (join) => join.onTrue())
      .groupBy(sql`f.value`)
      .execute(),
  ]);
  const counts = (rows: { key: string; n: number | string }[]) => Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
  return {
    items,
    total: Number(total.n),
    facets: { category: counts(categories), provider: counts(providers), family: counts(families as { key: string; n: number }[]) },
  };
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
