import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { facetCounts, nameMatch, popularityScore, prefixTsQuery, recencyScore, relevanceScore, searchTerms, sortResults, type RankedRow } from './ranking.js';

const NOW = Date.UTC(2025, 0, 15);
const DAY = 86_400_000;
function item(name: string, textRank: number, launches: number, ageDays: number): RankedRow {
  return { id: `p-${name}`, name, textRank, launches, listedAt: NOW - ageDays * DAY };
}

describe('scores', () => {
  it('scales popularity logarithmically and halves recency every half-life', () => {
    assert.equal(popularityScore(0), 0);
    assert.equal(popularityScore(9), 1);
    assert.ok(Math.abs(popularityScore(99) - 2) < 1e-12);
    assert.equal(recencyScore(NOW, NOW, 60), 1);
    assert.equal(recencyScore(NOW - 60 * DAY, NOW, 60), 0.5);
    assert.equal(recencyScore(NOW + DAY, NOW, 60), 1);
  });
  it('matches names exactly, by prefix or by word prefix', () => {
    assert.equal(nameMatch('MD-LJ', 'md-lj'), 'exact');
    assert.equal(nameMatch('md', 'md-lj'), 'prefix');
    assert.equal(nameMatch('lj', 'md-lj'), 'prefix');
    assert.equal(nameMatch('poisson', 'md-lj'), 'none');
    assert.equal(nameMatch('  ', 'md-lj'), 'none');
  });
  it('lets text rank dominate and popularity break near-ties', () => {
    const strong = relevanceScore(item('a', 0.6, 0, 400), 'solver', NOW);
    const weakButPopular = relevanceScore(item('b', 0.1, 100_000, 0), 'solver', NOW);
    assert.ok(strong > weakButPopular);
    const tiedPopular = relevanceScore(item('c', 0.3, 1000, 30), 'solver', NOW);
    const tiedQuiet = relevanceScore(item('d', 0.3, 1, 30), 'solver', NOW);
    assert.ok(tiedPopular > tiedQuiet);
  });
});

describe('sortResults', () => {
  const rows = [item('poisson2d', 0.2, 50, 10), item('md-lj', 0.2, 500, 100), item('textgen-mini', 0.5, 5, 1), item('cfd', 0.2, 50, 10)];
  it('orders by relevance, with an exact name first', () => {
    assert.deepEqual(sortResults(rows, 'relevance', 'textgen', NOW).map((r) => r.name), ['textgen-mini', 'md-lj', 'cfd', 'poisson2d']);
    assert.equal(sortResults(rows, 'relevance', 'md-lj', NOW)[0]!.name, 'md-lj');
  });
  it('orders by popularity and by newest with stable ties', () => {
    assert.deepEqual(sortResults(rows, 'popularity', '', NOW).map((r) => r.name), ['md-lj', 'cfd', 'poisson2d', 'textgen-mini']);
    assert.deepEqual(sortResults(rows, 'newest', '', NOW).map((r) => r.name), ['textgen-mini', 'cfd', 'poisson2d', 'md-lj']);
  });
  it('orders by popularity and recency when there is no query', () => {
    assert.deepEqual(sortResults(rows, 'relevance', '', NOW).map((r) => r.name), ['md-lj', 'cfd', 'poisson2d', 'textgen-mini']);
  });
  it('does not reorder its input', () => {
    const copy = [...rows];
    sortResults(rows, 'newest', '', NOW);
    assert.deepEqual(rows, copy);
  });
});

describe('facetCounts', () => {
  it('counts categories, families (once per product) and providers', () => {
    const f = facetCounts([
      { category: 'software', families: ['cpu', 'cuda', 'cann'], provider: 'demo' },
      { category: 'model', families: ['cann', 'dtk', 'cann'], provider: 'demo' },
      { category: 'dataset', families: [], provider: 'cma' },
      { category: 'software', families: ['cpu'], provider: 'hpc-lab' },
    ]);
    assert.deepEqual(f.category, [{ value: 'software', count: 2 }, { value: 'dataset', count: 1 }, { value: 'model', count: 1 }]);
    assert.deepEqual(f.family, [{ value: 'cann', count: 2 }, { value: 'cpu', count: 2 }, { value: 'cuda', count: 1 }, { value: 'dtk', count: 1 }]);
    assert.deepEqual(f.provider, [{ value: 'demo', count: 2 }, { value: 'cma', count: 1 }, { value: 'hpc-lab', count: 1 }]);
    assert.equal(facetCounts([], 1).category.length, 0);
  });
});

describe('search terms', () => {
  it('keeps words of any script and makes a safe prefix tsquery', () => {
    assert.deepEqual(searchTerms("MD-LJ 'lj' & 分子动力学 !"), ['md', 'lj', '分子动力学']);
    assert.equal(prefixTsQuery(searchTerms("poisson ':* | !")), "'poisson':*");
    assert.equal(prefixTsQuery(searchTerms('  ')), null);
    assert.equal(searchTerms('a b c d e f g h i j').length, 8);
  });
});
