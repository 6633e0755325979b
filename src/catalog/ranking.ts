/**
 * Ordering and facets for store search, the parts SQL does not do alone. PostgreSQL finds the
 * matches and their text rank (`ts_rank` over names, summaries and tags); these functions blend
 * that rank with popularity and recency for the `relevance` sort, and count facets from the rows.
 * All pure: the current time is an argument.
 */

export const SEARCH_SORTS = ['relevance', 'popularity', 'newest'] as const;
export type SearchSort = (typeof SEARCH_SORTS)[number];

export interface RankedRow {
  readonly id: string;
  readonly name: string;
  /** Text relevance from the database (ts_rank, ≥ 0); 0 when there is no query. */
  readonly textRank: number;
  /** Launches so far (popularity). */
  readonly launches: number;
  /** When the product (its newest listed version) was listed, epoch ms. */
  readonly listedAt: number;
}

export interface RelevanceWeights {
  /** How much a tenfold increase in launches lifts the score (0.25: +25%). */
  readonly popularity: number;
  /** The lift of a product listed just now; it halves every `halfLifeDays`. */
  readonly recency: number;
  readonly halfLifeDays: number;
  /** Multipliers when the query is the product's name, or a prefix of it. */
  readonly exactName: number;
  readonly namePrefix: number;
}

export const DEFAULT_RELEVANCE_WEIGHTS: RelevanceWeights = { popularity: 0.25, recency: 0.2, halfLifeDays: 60, exactName: 3, namePrefix: 1.5 };

const DAY_MS = 86_400_000;

/** 0 for no launches, 1 for 9, 2 for 99: popularity on a log scale so a hit does not drown the rest. */
export function popularityScore(launches: number): number {
  return Math.log10(1 + Math.max(0, launches));
}

/** 1 for a product listed now, 0.5 after `halfLifeDays`, toward 0 later (a future date counts as now). */
export function recencyScore(listedAt: number, now: number, halfLifeDays: number): number {
  const ageDays = Math.max(0, now - listedAt) / DAY_MS;
  return 2 ** (-ageDays / halfLifeDays);
}

/** How the query matches the name: `exact`, `prefix` (of the name or one of its words) or `none`. */
export function nameMatch(query: string, name: string): 'exact' | 'prefix' | 'none' {
  const q = query.trim().toLowerCase();
  const n = name.toLowerCase();
  if (q === '') return 'none';
  if (q === n) return 'exact';
  return n.startsWith(q) || n.split('-').some((w) => w.startsWith(q)) ? 'prefix' : 'none';
}

/**
 * Relevance = text rank × (1 + popularity·log10(1 + launches)) × (1 + recency·2^(−age/halfLife))
 * × name bonus. Multiplicative, so text rank still decides between a strong and a weak match;
 * popularity and recency break near-ties. With no query (text rank 0 everywhere) the text rank
 * counts as 1, so the order is popularity and recency alone.
 */
export function relevanceScore(row: RankedRow, query: string, now: number, weights: RelevanceWeights = DEFAULT_RELEVANCE_WEIGHTS): number {
  const text = query.trim() === '' ? 1 : Math.max(0, row.textRank);
  const match = nameMatch(query, row.name);
  const nameBonus = match === 'exact' ? weights.exactName : match === 'prefix' ? weights.namePrefix : 1;
  return (
    text *
    nameBonus *
    (1 + weights.popularity * popularityScore(row.launches)) *
    (1 + weights.recency * recencyScore(row.listedAt, now, weights.halfLifeDays))
  );
}

/**
 * The rows in the order of `sort`: relevance (score above), popularity (launches, then newest)
 * or newest (listedAt, then launches). Ties fall to the name, then the id, so pages are stable.
 * Returns a new array.
 */
export function sortResults<R extends RankedRow>(rows: readonly R[], sort: SearchSort, query: string, now: number, weights: RelevanceWeights = DEFAULT_RELEVANCE_WEIGHTS): R[] {
  const keyed = rows.map((row) => ({ row, score: sort === 'relevance' ? relevanceScore(row, query, now, weights) : 0 }));
  const tie = (a: R, b: R) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  keyed.sort((a, b) => {
    switch (sort) {
      case 'relevance':
        return b.score - a.score || tie(a.row, b.row);
      case 'popularity':
        return b.row.launches - a.row.launches || b.row.listedAt - a.row.listedAt || tie(a.row, b.row);
      case 'newest':
        return b.row.listedAt - a.row.listedAt || b.row.launches - a.row.launches || tie(a.row, b.row);
    }
  });
  return keyed.map((k) => k.row);
}

export interface FacetRow {
  readonly category: string;
  /** Accelerator families the product's app has a command for (empty for non-apps). */
  readonly families: readonly string[];
  readonly provider: string;
}

export interface FacetBucket {
  readonly value: string;
  readonly count: number;
}

export interface Facets {
  readonly category: readonly FacetBucket[];
  readonly family: readonly FacetBucket[];
  readonly provider: readonly FacetBucket[];
}

/**
 * Counts per category, accelerator family and provider over the matching rows (a product counts
 * once per family it supports), most frequent first, ties by value. `limit` caps each list.
 */
export function facetCounts(rows: Iterable<FacetRow>, limit = 50): Facets {
  const category = new Map<string, number>();
  const family = new Map<string, number>();
  const provider = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const row of rows) {
    bump(category, row.category);
    bump(provider, row.provider);
    for (const f of new Set(row.families)) bump(family, f);
  }
  const buckets = (m: Map<string, number>) =>
    [...m]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, limit);
  return { category: buckets(category), family: buckets(family), provider: buckets(provider) };
}

/**
 * The search terms of a user's query: lowercased words (letters and digits of any script),
 * deduplicated, at most `max`, each at most 64 characters. Empty for a query with no words.
 */
export function searchTerms(query: string, max = 8): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.map((w) => w.slice(0, 64)))].slice(0, max);
}

/**
 * A `to_tsquery` text matching every term as a prefix (`'md':* & 'lj':*`), safe for any user
 * input: terms hold only letters and digits. Null when there are no terms (no text filter).
 */
export function prefixTsQuery(terms: readonly string[]): string | null {
  return terms.length === 0 ? null : terms.map((t) => `'${t}':*`).join(' & ');
}
