import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashChunk } from './chunk-hasher.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** `bytes` in a shared buffer (as the pool hands them out), placed at `at` in a larger one. */
function shared(bytes: Buffer, at = 0): Buffer {
  const b = Buffer.from(new SharedArrayBuffer(at + bytes.length + 7), at, bytes.length);
  bytes.copy(b);
  return b;
}

describe('chunk hasher', { timeout: 30_000 }, () => {
  it('hashes a shared buffer on its thread fed in uneven parts, as a chunk arrives', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 13);
    const cuts = [0, 1, 70_000, 70_001, 1_500_000, 2_900_000, bytes.length];
    const into = shared(bytes, 4096);
    const h = hashChunk(into);
    for (let k = 1; k < cuts.length; k++) h.update(cuts[k - 1]!, cuts[k]!);
    assert.equal(await h.digest(), sha(bytes));
  });

  it('keeps chunks apart: several at once over one thread, one of them aborted, a changed byte shows', async () => {
    const a = randomBytes(600_000);
    const b = randomBytes(300_000);
    const ha = hashChunk(shared(a));
    const bufB = shared(b);
    const hb = hashChunk(bufB);
    const dropped = hashChunk(bufB);
    dropped.update(0, 1000);
    dropped.abort();
    ha.update(0, 300_000);
    hb.update(0, b.length);
    ha.update(300_000, a.length);
    const [da, db] = await Promise.all([ha.digest(), hb.digest()]);
    assert.equal(da, sha(a));
    assert.equal(db, sha(b));
    const bad = Buffer.from(b);
    bad[123] = bad[123]! ^ 1;
    const hbad = hashChunk(shared(bad));
    hbad.update(0, bad.length);
    assert.notEqual(await hbad.digest(), sha(b), 'a changed byte gives another digest');
  });

  it('hashes memory that is not shared on the calling thread, the same way', async () => {
    const bytes = randomBytes(100_000);
    const h = hashChunk(Buffer.from(bytes));
    h.update(0, 50_000);
    h.update(50_000, bytes.length);
    assert.equal(await h.digest(), sha(bytes));
  });

  it('refuses parts out of order (a receive that lost its place)', () => {
    const h = hashChunk(shared(randomBytes(1000)));
    h.update(0, 10);
    assert.throws(() => h.update(20, 30), /bytes 20\.\.30 given after 10/);
    h.abort();
  });
});
