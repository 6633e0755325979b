import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../core/clock.js';
import { seededRng } from '../core/rng.js';
import {
  canonicalManifest,
  checkManifest,
  datasetPath,
  manifestBytes,
  missingChunks,
  planChunks,
  planEviction,
  planReplicas,
  replicaKey,
  retryDelayMs,
  TokenBucket,
  type HeldReplica,
} from './index.js';

const sha = (n: number) => n.toString(16).padStart(64, '0');
const KiB = 1024;

describe('planChunks', () => {
  it('cuts a file into full chunks and a shorter last one; an empty file has none', () => {
    assert.deepEqual(planChunks(0, 100), []);
    assert.deepEqual(planChunks(250, 100), [
      { index: 0, offset: 0, length: 100 },
      { index: 1, offset: 100, length: 100 },
      { index: 2, offset: 200, length: 50 },
    ]);
    assert.deepEqual(planChunks(200, 100).map((s) => s.length), [100, 100]);
  });

  it('covers every byte exactly once, in order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 5_000_000 }), (bytes, chunk) => {
        const slices = planChunks(bytes, chunk);
        let next = 0;
        for (const s of slices) {
          assert.equal(s.offset, next);
          assert.ok(s.length > 0 && s.length <= chunk);
          next += s.length;
        }
        assert.equal(next, bytes);
      }),
    );
  });
});

describe('datasetPath', () => {
  it('accepts relative paths and names the field of one outside the dataset', () => {
    assert.equal(datasetPath('a/b.txt', 'f'), 'a/b.txt');
    for (const bad of ['../etc/passwd', '/etc/passwd', 'a/../../b', 'a//b', './a', 'a\\b', 'a\u0000b', '']) {
      assert.throws(() => datasetPath(bad, 'files[3].path'), (e: Error & { code?: string; field?: string }) => {
        assert.equal(e.code, 'invalid_field');
        assert.equal(e.field, 'files[3].path');
        assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
        return true;
      });
    }
  });
});

describe('manifest', () => {
  const file = (path: string, bytes: number, chunks: string[]) => ({ path, bytes, chunks });

  it('sorts files, checks the chunk count against the size, and is canonical', () => {
    const a = checkManifest({ chunkBytes: 64 * KiB, files: [file('z', 10, [sha(1)]), file('a/b', 64 * KiB + 1, [sha(2), sha(3)])] });
    assert.deepEqual(a.files.map((f) => f.path), ['a/b', 'z']);
    assert.equal(manifestBytes(a), 64 * KiB + 11);
    const b = checkManifest({ chunkBytes: 64 * KiB, files: [...a.files].reverse() });
    assert.equal(canonicalManifest(a), canonicalManifest(b));
    assert.throws(() => checkManifest({ chunkBytes: 64 * KiB, files: [file('a', 64 * KiB + 1, [sha(1)])] }), /has 1 chunks, its 65537 bytes make 2/);
  });

  it('refuses a path twice, a file that is also a folder, a bad hash, a bad chunk size', () => {
    const c = 64 * KiB;
    assert.throws(() => checkManifest({ chunkBytes: c, files: [file('a', 1, [sha(1)]), file('a', 1, [sha(1)])] }), /lists a twice/);
    assert.throws(() => checkManifest({ chunkBytes: c, files: [file('a', 1, [sha(1)]), file('a/b', 1, [sha(1)])] }), /both as a file and as the folder/);
    assert.throws(() => checkManifest({ chunkBytes: c, files: [file('a', 1, ['xyz'])] }), /not a sha256/);
    assert.throws(() => checkManifest({ chunkBytes: 10, files: [] }), (e: Error & { field?: string }) => e.field === 'manifest.chunkBytes');
    assert.throws(() => checkManifest({ chunkBytes: c, files: [file('../x', 1, [sha(1)])] }), (e: Error & { field?: string }) => e.field === 'manifest.files[0].path');
  });

  it('lists the chunks still missing, each once, with their lengths', () => {
    const m = checkManifest({ chunkBytes: 64 * KiB, files: [file('a', 64 * KiB + 5, [sha(1), sha(2)]), file('b', 5, [sha(2)])] });
    assert.deepEqual(missingChunks(m, new Set([sha(1)])), [{ sha256: sha(2), bytes: 5 }]);
    assert.deepEqual(missingChunks(m, new Set([sha(1), sha(2)])), []);
  });
});

describe('planReplicas', () => {
  const rule = { id: 'r1', datasetId: 'd', copies: 2, centers: ['west-a', 'west-b', 'west-c'], expiresAt: 1000 };

  it('adds copies at the preferred centers lacking one, and pins what it counts', () => {
    const plan = planReplicas([rule], [{ datasetId: 'd', center: 'west-b', state: 'complete' }, { datasetId: 'd', center: 'east', state: 'complete' }], 0);
    assert.deepEqual(plan.add, [{ datasetId: 'd', center: 'west-a', ruleId: 'r1' }]);
    assert.deepEqual([...plan.pinned].sort(), [replicaKey('d', 'west-a'), replicaKey('d', 'west-b')]);
    assert.deepEqual(plan.short, []);
  });

  it('wants and pins nothing once expired; reports a rule it cannot meet', () => {
    const expired = planReplicas([rule], [{ datasetId: 'd', center: 'west-b', state: 'complete' }], 1000);
    assert.deepEqual(expired.add, []);
    assert.equal(expired.pinned.size, 0);
    const short = planReplicas([{ ...rule, copies: 5 }], [], 0);
    assert.equal(short.add.length, 3);
    assert.deepEqual(short.short, [{ ruleId: 'r1', missing: 2 }]);
  });

  it('never plans a replica twice, however rules overlap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ copies: fc.integer({ min: 1, max: 4 }), centers: fc.subarray(['a', 'b', 'c', 'd', 'e']) }), { maxLength: 5 }),
        fc.subarray(['a', 'b', 'c', 'd', 'e']),
        (rs, held) => {
          const rules = rs.map((r, i) => ({ id: `r${i}`, datasetId: 'd', copies: r.copies, centers: r.centers, expiresAt: null }));
          const plan = planReplicas(rules, held.map((center) => ({ datasetId: 'd', center, state: 'complete' as const })), 0);
          const added = plan.add.map((a) => a.center);
          assert.equal(new Set(added).size, added.length);
          for (const c of added) assert.ok(!held.includes(c));
          for (const r of rules) {
            const at = new Set([...held, ...added].filter((c) => r.centers.includes(c)));
            assert.ok(at.size >= Math.min(r.copies, r.centers.length), 'every rule gets its copies where it can');
          }
        },
      ),
    );
  });
});

describe('planEviction', () => {
  const held = (datasetId: string, bytes: number, lastUsedAt: number, pinned = false): HeldReplica => ({ datasetId, bytes, lastUsedAt, pinned });

  it('evicts the least recently used unpinned replicas, only as many as needed', () => {
    const plan = planEviction([held('old', 40, 1), held('pinned', 50, 0, true), held('older', 30, 0), held('new', 30, 9)], 160, 50);
    assert.deepEqual(plan, { kind: 'fits', evict: ['older', 'old'], freedBytes: 70 });
    assert.deepEqual(planEviction([held('a', 10, 0)], 100, 90), { kind: 'fits', evict: [], freedBytes: 0 });
  });

  it('says full, with the figures, when pinned replicas leave no room', () => {
    assert.deepEqual(planEviction([held('p', 90, 0, true), held('u', 5, 0)], 100, 20), { kind: 'full', neededBytes: 15, evictableBytes: 5 });
  });

  it('always ends under the quota when it says fits, and never evicts a pinned replica', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ bytes: fc.integer({ min: 0, max: 100 }), lastUsedAt: fc.integer({ min: 0, max: 10 }), pinned: fc.boolean() }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 200 }),
        (rs, quota, incoming) => {
          const replicas = rs.map((r, i) => held(`d${i}`, r.bytes, r.lastUsedAt, r.pinned));
          const plan = planEviction(replicas, quota, incoming);
          if (plan.kind === 'full') return;
          const left = replicas.filter((r) => !plan.evict.includes(r.datasetId));
          assert.ok(left.reduce((s, r) => s + r.bytes, 0) + incoming <= quota);
          for (const id of plan.evict) assert.ok(!replicas.find((r) => r.datasetId === id)!.pinned);
        },
      ),
    );
  });
});

describe('TokenBucket and retryDelayMs', () => {
  it('holds a sender to the rate after the first second of burst', () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket(1000, clock);
    assert.equal(bucket.take(1000), 0, 'one second of burst');
    assert.equal(bucket.take(500), 500);
    clock.advance(500);
    assert.equal(bucket.take(500), 500, 'the debt of the last take is still owed');
    clock.advance(2000);
    assert.equal(bucket.take(100), 0);
  });

  it('backs off exponentially, within the cap, from a seeded rng', () => {
    const rng = seededRng(7);
    for (let attempt = 1; attempt <= 10; attempt++) {
      const d = retryDelayMs(attempt, rng, 100, 1000);
      assert.ok(d >= 0 && d < Math.min(1000, 100 * 2 ** (attempt - 1)), `attempt ${attempt}: ${d}`);
    }
  });
});
