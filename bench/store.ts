// npm run bench:store — search latency over a store ten times the national one (70,000 products).
// Products come from a seeded generator (names, Chinese and English summaries, tags, seven
// categories, accelerator families, providers, launch counts), are written in batches into embedded
// PGlite (the default store) with the same search columns the platform writes, and then searched
// the way users search: words, substrings (Chinese too), facets and the three sorts.
// Last line: {"products", "queries", "p50Ms", "p95Ms", "p99Ms", "maxMs", "meanMatches", "loadSeconds", "store",
// "byKind", "byStore"} (the top-level figures are PostgreSQL's when it ran, else PGlite's; byKind
// splits p50/p95 and mean matches by kind of query).
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { seededRng, randomInt } from '../src/core/rng.js';
import { openStore } from '../src/store/open-database.js';
import { searchProducts } from '../src/store/products.js';
import { indexText, searchQuery } from '../src/catalog/search-tokens.js';

const N = Number(process.env.BENCH_PRODUCTS ?? 70_000);
/** The query mix, in turn: query i is of kind i % 6 (each also gets every 4th a category filter, every 5th a family filter). */
const QUERY_KINDS = ['enWord', 'enTwoWords', 'zhWord', 'zhPrefix2', 'enPrefix4', 'browse'] as const;

const CATEGORIES = ['compute', 'software', 'saas', 'model', 'dataset', 'service', 'code'] as const;
const FAMILIES = ['cuda', 'cann', 'dtk', 'bang', 'musa', 'xpu', 'maca', 'cpu'];
const EN = ['molecular', 'dynamics', 'fluid', 'solver', 'weather', 'climate', 'genome', 'protein', 'folding', 'inference', 'training', 'language', 'model', 'vision', 'speech', 'finite', 'element', 'quantum', 'chemistry', 'seismic', 'imaging', 'render', 'notebook', 'database', 'graph', 'sparse', 'linear', 'algebra', 'poisson', 'monte', 'carlo', 'ocean', 'materials', 'battery', 'drug', 'discovery'];
const ZH = ['分子动力学', '流体', '求解器', '气象', '气候', '基因组', '蛋白质', '推理', '训练', '大模型', '视觉', '语音', '有限元', '量子化学', '地震', '成像', '渲染', '数据集', '图计算', '材料', '电池', '药物', '海洋', '遥感'];

/**
 * The store to measure: PostgreSQL — the production store for a catalog this size — in a fresh
 * database of its own when `BENCH_PG_URL` (default postgres://postgres@127.0.0.1:5432/postgres)
 * answers, and embedded PGlite too (`BENCH_STORES=pglite,postgres` chooses).
 */
async function main(): Promise<void> {
  const stores = (process.env.BENCH_STORES ?? 'postgres,pglite').split(',');
  const results: Record<string, unknown> = {};
  for (const kind of stores) {
    if (kind === 'pglite') results.pglite = await measure(await openStore({}), 'pglite');
    else {
      const admin = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
      const name = `sw_bench_${process.pid}`;
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: admin });
      try {
        await c.connect();
      } catch (error) {
        console.log(`postgres: skipped (${(error as Error).message})`);
        continue;
      }
      await c.query(`CREATE DATABASE ${name}`);
      const url = new URL(admin);
      url.pathname = `/${name}`;
      try {
        results.postgres = await measure(await openStore({ databaseUrl: url.toString() }), 'postgres');
      } finally {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      }
    }
  }
  const primary = (results.postgres ?? results.pglite) as Record<string, unknown>;
  console.log(JSON.stringify({ ...primary, byStore: results }));
}

async function measure(store: Awaited<ReturnType<typeof openStore>>, kind: string): Promise<Record<string, unknown>> {
  const rng = seededRng(20261123);
  const pick = <T>(xs: readonly T[]): T => xs[randomInt(rng, xs.length)]!;
  const orgs = Array.from({ length: 586 }, (_, i) => `org_bench${String(i).padStart(4, '0')}`);
  const t0 = performance.now();
  for (let i = 0; i < orgs.length; i += 500) {
    await store.db.insertInto('orgs').values(orgs.slice(i, i + 500).map((id, k) => ({ id, name: `provider-${i + k}`, created_at: new Date(Date.UTC(2026, 0, 1)) }))).execute();
  }
  const BATCH = 1000;
  for (let start = 0; start < N; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(N, start + BATCH); i++) {
      const words = [pick(EN), pick(EN), pick(EN)];
      const zh = [pick(ZH), pick(ZH)];
      const name = `${words[0]}-${words[1]}-${i}`;
      const title = `${words.join(' ')} ${zh[0]}`;
      const summary = `${zh.join('与')}: ${words.join(' ')} for ${pick(EN)} ${pick(EN)} workloads`;
      const tags = [pick(EN), pick(ZH), pick(EN)];
      const fams = [...new Set([pick(FAMILIES), pick(FAMILIES)])];
      const text = [name, title, summary, tags.join(' ')].join(' ').toLowerCase();
      rows.push({
        id: `prd_bench${String(i).padStart(8, '0')}`,
        provider_org_id: pick(orgs),
        name,
        title,
        summary,
        description: summary,
        category: pick(CATEGORIES),
        tags: JSON.stringify(tags),
        licence: 'Apache-2.0',
        visibility: (randomInt(rng, 20) === 0 ? 'org' : 'public') as 'org' | 'public',
        families: JSON.stringify(fams),
        launches: Math.floor(Math.exp(rng.next() * 9)),
        listed: randomInt(rng, 50) !== 0,
        search_text: text,
        search_vector: sql`to_tsvector('simple', ${indexText(text)})`,
        created_at: new Date(Date.UTC(2025, 0, 1) + randomInt(rng, 600) * 86_400_000),
        updated_at: new Date(Date.UTC(2026, 0, 1)),
      });
    }
    await store.db.insertInto('products').values(rows).execute();
  }
  await sql`ANALYZE products, product_search, product_facet_cells, product_provider_cells`.execute(store.db);
  const loadSeconds = (performance.now() - t0) / 1000;
  console.log(`${kind}: loaded ${N} products in ${loadSeconds.toFixed(1)} s`);

  const queries: Parameters<typeof searchProducts>[1][] = [];
  const sorts = ['relevance', 'popularity', 'newest'] as const;
  for (let i = 0; i < 300; i++) {
    const kind = i % 6; // QUERY_KINDS[kind]
    const text = kind === 0 ? pick(EN) : kind === 1 ? `${pick(EN)} ${pick(EN)}` : kind === 2 ? pick(ZH) : kind === 3 ? pick(ZH).slice(0, 2) : kind === 4 ? pick(EN).slice(0, 4) : '';
    queries.push({
      tsquery: searchQuery(text),
      orgId: pick(orgs),
      sort: sorts[i % 3]!,
      limit: 20,
      offset: 0,
      ...(i % 4 === 0 ? { categories: [pick(CATEGORIES)] } : {}),
      ...(i % 5 === 0 ? { families: [pick(FAMILIES)] } : {}),
    });
  }
  for (const q of queries.slice(0, 20)) await searchProducts(store.db, q); // warm up
  const times: number[] = [];
  const timesByKind: number[][] = QUERY_KINDS.map(() => []);
  const matchesByKind: number[][] = QUERY_KINDS.map(() => []);
  let found = 0;
  for (const [i, q] of queries.entries()) {
    const s = performance.now();
    const r = await searchProducts(store.db, q);
    const ms = performance.now() - s;
    times.push(ms);
    timesByKind[i % 6]!.push(ms);
    matchesByKind[i % 6]!.push(r.total);
    found += r.total;
  }
  const at = percentile(times);
  const byKind = Object.fromEntries(
    QUERY_KINDS.map((name, k) => {
      const p = percentile(timesByKind[k]!);
      const matches = matchesByKind[k]!;
      return [name, { p50Ms: +p(50).toFixed(2), p95Ms: +p(95).toFixed(2), meanMatches: Math.round(matches.reduce((a, b) => a + b, 0) / matches.length) }];
    }),
  );
  const result = {
    products: N,
    queries: times.length,
    p50Ms: +at(50).toFixed(2),
    p95Ms: +at(95).toFixed(2),
    p99Ms: +at(99).toFixed(2),
    maxMs: +at(100).toFixed(2),
    meanMatches: Math.round(found / times.length),
    loadSeconds: +loadSeconds.toFixed(1),
    store: kind,
    byKind,
  };
  console.log(`${kind}: search over ${N} products: p50 ${result.p50Ms} ms, p95 ${result.p95Ms} ms, p99 ${result.p99Ms} ms (target p95 < 50 ms)`);
  await store.close();
  return result;
}

/** The nearest-rank percentile function of `xs` (sorted here). */
function percentile(xs: number[]): (p: number) => number {
  const sorted = [...xs].sort((a, b) => a - b);
  return (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

await main();
