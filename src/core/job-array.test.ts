import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ARRAY_ELEMENTS, parseArraySpec } from './job-array.js';

describe('parseArraySpec', { timeout: 10_000 }, () => {
  it('reads ranges, steps and lists as sbatch --array does', () => {
    assert.deepEqual(parseArraySpec('1-5'), { indices: [1, 2, 3, 4, 5] });
    assert.deepEqual(parseArraySpec('0-9:3'), { indices: [0, 3, 6, 9] });
    assert.deepEqual(parseArraySpec('7,1,3-4,3'), { indices: [1, 3, 4, 7] });
    assert.equal((parseArraySpec('1-1000') as { indices: number[] }).indices.length, 1000);
  });

  it('names what is wrong', () => {
    for (const bad of ['', 'a-b', '5-1', '1-9:0', '1--2', `0-${MAX_ARRAY_ELEMENTS}`]) {
      assert.ok('error' in parseArraySpec(bad), bad);
    }
  });
});
