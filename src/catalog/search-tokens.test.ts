import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indexText, searchQuery } from './search-tokens.js';

describe('search tokens', () => {
  it('keeps English words and cuts Han runs into bigrams', () => {
    assert.equal(indexText('Molecular dynamics 分子动力学 MD-LJ'), 'molecular dynamics 分子 子动 动力 力学 md lj');
    assert.equal(indexText('GPU推理服务'), 'gpu 推理 理服 服务');
    assert.equal(indexText('单'), '单');
  });
  it('builds a prefix query every token of which must match', () => {
    assert.equal(searchQuery('mole dyn'), "'mole':* & 'dyn':*");
    assert.equal(searchQuery('动力学'), "'动力':* & '力学':*");
    assert.equal(searchQuery('分'), "'分':*");
    assert.equal(searchQuery(`'; drop table products; --`), "'drop':* & 'table':* & 'products':*");
    assert.equal(searchQuery('  !!! '), null);
  });
});
