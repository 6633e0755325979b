import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChunkStore } from '../../src/agent/data/chunk-store.js';
import { startDataServer, type DataServer } from '../../src/agent/data/data-server.js';
import { fetchVersion } from '../../src/agent/data/fetch-version.js';
import { DataPortClient } from '../../src/api/client/data-port.js';
import { pullFiles, pushChunks, scanDataset } from '../../src/cli/data/dataset-files.js';
import { nearestCenter, roundTripMs } from '../../src/cli/data/nearest-center.js';
import { signGrant } from '../../src/core/data-grant.js';
import { seededRng } from '../../src/core/rng.js';
import { uniqueChunks } from '../../src/data/index.js';

const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Two centers' stores and data ports on loopback, and a folder of files to push. */
describe('data port: push, pull and transfer between centers', { timeout: 120_000 }, () => {
  let dir: string;
  let west: { store: ChunkStore; port: DataServer; key: string };
  let east: { store: ChunkStore; port: DataServer; key: string };
  const files = new Map<string, Buffer>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sw-data-'));
    const make = async (name: string, quotaBytes: number | null = null) => {
      const store = new ChunkStore(join(dir, name), { quotaBytes });
      const key = randomBytes(32).toString('hex');
      return { store, key, port: await startDataServer({ store, key, centerId: () => name }) };
    };
    west = await make('west');
    east = await make('east');
    mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
    files.set('a.bin', randomBytes(3 * MiB + 17));
    files.set('sub/b.bin', randomBytes(CHUNK)); // exactly one chunk
    files.set('empty', Buffer.alloc(0));
    for (const [p, b] of files) writeFileSync(join(dir, 'src', p), b);
  });
  after(async () => {
    await west.port.close();
    await east.port.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const grant = (center: string, key: string, version: string, mode: 'r' | 'w') => signGrant({ center, version, mode, expiresAt: Date.now() + 60_000 }, key);

  it('pushes a folder, skips chunks already there on a second push, seals it, and pulls it back byte for byte', async () => {
    const { manifest, files: local } = await scanDataset(join(dir, 'src'), CHUNK);
    assert.deepEqual(manifest.files.map((f) => f.path), ['a.bin', 'empty', 'sub/b.bin']);
    const up = new DataPortClient({ url: west.port.url, grant: grant('west', west.key, 'v1', 'w'), version: 'v1' });
    // An interrupted push: only the first two chunks went.
    const firstTwo = { ...manifest, files: [{ ...manifest.files[0]!, bytes: 2 * CHUNK, chunks: manifest.files[0]!.chunks.slice(0, 2) }] };
    assert.equal(await pushChunks(up, firstTwo, local), 2 * CHUNK);
    const total = uniqueChunks(manifest).reduce((s, c) => s + c.bytes, 0);
    assert.equal(await pushChunks(up, manifest, local), total - 2 * CHUNK, 'the second push sends only what is missing');
    assert.equal(await pushChunks(up, manifest, local), 0);
    await west.store.seal('v1', manifest);
    const down = new DataPortClient({ url: west.port.url, grant: grant('west', west.key, 'v1', 'r'), version: 'v1' });
    await pullFiles(down, manifest, join(dir, 'pulled'));
    for (const [p, b] of files) assert.equal(sha(readFileSync(join(dir, 'pulled', p))), sha(b), p);
  });

  it('refuses a corrupted chunk, keeps nothing of it, and takes the right bytes afterwards', async () => {
    const good = randomBytes(CHUNK);
    const name = sha(good);
    const up = new DataPortClient({ url: west.port.url, grant: grant('west', west.key, 'v2', 'w'), version: 'v2' });
    const bad = Buffer.from(good);
    bad[1000] = bad[1000]! ^ 0xff;
    await assert.rejects(up.put(name, CHUNK, bad), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'chunk_corrupt');
      assert.match(err.message, /do not hash to its name/);
      return true;
    });
    assert.equal(await west.store.has(name), false);
    assert.equal(await west.store.partialBytes(name), 0);
    await up.put(name, CHUNK, good);
    assert.equal(await west.store.has(name), true);
  });

  it("refuses a grant for another version, another center, a forged one and a read grant's write", async () => {
    const { manifest } = await scanDataset(join(dir, 'src'), CHUNK);
    const chunk = manifest.files[0]!.chunks[0]!;
    const cases: [string, DataPortClient, string][] = [
      ['another version (another org\'s dataset)', new DataPortClient({ url: west.port.url, grant: grant('west', west.key, 'v-other', 'r'), version: 'v1' }), 'forbidden'],
      ['another center', new DataPortClient({ url: west.port.url, grant: grant('east', west.key, 'v1', 'r'), version: 'v1' }), 'forbidden'],
      ['forged', new DataPortClient({ url: west.port.url, grant: grant('west', 'not-the-key', 'v1', 'r'), version: 'v1' }), 'unauthenticated'],
    ];
    for (const [what, client, code] of cases) {
      await assert.rejects(client.getInto(chunk, 0, Buffer.alloc(CHUNK)), (e: Error & { code?: string }) => e.code === code, what);
    }
    const reader = new DataPortClient({ url: west.port.url, grant: grant('west', west.key, 'v1', 'r'), version: 'v1' });
    await assert.rejects(reader.put(chunk, CHUNK, Buffer.alloc(CHUNK)), (e: Error & { code?: string }) => e.code === 'forbidden');
    const bogus = new DataPortClient({ url: west.port.url, grant: grant('west', west.key, 'v1', 'r'), version: 'v1' });
    await assert.rejects(bogus.getInto('0'.repeat(64), 0, Buffer.alloc(CHUNK)), /not part of version v1/);
  });

  it('copies a version to another center; killed mid-transfer it resumes (a range request) and ends byte-identical', async () => {
    const { manifest } = await scanDataset(join(dir, 'src'), CHUNK);
    const sources = [{ url: west.port.url, grant: grant('west', west.key, 'v1', 'r') }];
    // The agent is killed while the fifth chunk streams in: the pacer sees its bytes go by.
    const abort = new AbortController();
    let taken = 0;
    const limiter = {
      take(n: number) {
        taken += n;
        if (taken > 4 * CHUNK + CHUNK / 2 && !abort.signal.aborted) {
          abort.abort(new Error('agent killed'));
          return 1000;
        }
        return 0;
      },
    };
    let progressed = 0;
    await assert.rejects(
      fetchVersion({
        store: east.store, versionId: 'v1', manifest, sources, limiter, signal: abort.signal, rng: seededRng(1),
        onProgress: (done) => (progressed = done),
      }),
      /agent killed/,
    );
    assert.equal(await east.store.version('v1'), null, 'not sealed');
    const partials = readdirSync(join(east.store.root, 'partial'));
    const heldBefore = (await east.store.missing(uniqueChunks(manifest).map((c) => c.sha256))).length;
    assert.ok(progressed >= 4 * CHUNK && heldBefore > 0, `stopped part way: ${progressed} bytes, ${heldBefore} chunks to go`);
    const partialBytes = await Promise.all(partials.map((p) => east.store.partialBytes(p)));
    assert.ok(partialBytes.some((n) => n > 0 && n < CHUNK), `chunks cut mid-way: ${partialBytes.join(', ')} bytes`);
    const moved = await fetchVersion({ store: east.store, versionId: 'v1', manifest, sources, rng: seededRng(2) });
    const total = uniqueChunks(manifest).reduce((s, c) => s + c.bytes, 0);
    assert.ok(moved < total, `resumed: moved ${moved} of ${total}`);
    const view = await east.store.view('v1', 'org-a', null);
    for (const [p, b] of files) assert.equal(sha(readFileSync(join(view, p))), sha(b), p);
    assert.equal(statSync(join(view, 'a.bin')).mode & 0o777, 0o444, 'read-only for the job');
  });

  it('sends from its sealed store: a damaged chunk file is an error answer, a dropped version is refused at once', async () => {
    const bytes = randomBytes(CHUNK + 5);
    writeFileSync(join(dir, 'v9.bin'), bytes);
    const { manifest, files: local } = await scanDataset(join(dir, 'v9.bin'), CHUNK);
    await pushChunks(new DataPortClient({ url: west.port.url, grant: grant('west', west.key, 'v9', 'w'), version: 'v9' }), manifest, local);
    await west.store.seal('v9', manifest);
    const reader = new DataPortClient({ url: west.port.url, grant: grant('west', west.key, 'v9', 'r'), version: 'v9' });
    const [first, second] = manifest.files[0]!.chunks;
    const into = Buffer.alloc(CHUNK);
    await reader.getInto(first!, 0, into);
    assert.equal(sha(into), first, 'served whole');
    // The port takes the chunk's length from the manifest it keeps; a file cut short on its disk is refused, not sent short.
    const path = west.store.chunkPath(second!);
    writeFileSync(path, readFileSync(path).subarray(0, 2));
    await assert.rejects(reader.getInto(second!, 0, Buffer.alloc(5)), (e: Error & { code?: string }) => e.code === 'chunk_corrupt' && /ended at byte 2/.test(e.message));
    await west.store.dropVersion('v9');
    await assert.rejects(reader.getInto(first!, 0, Buffer.alloc(CHUNK)), (e: Error & { code?: string }) => e.code === 'data_not_ready', 'the kept chunk list went with the version');
  });

  it("paces a transfer by the center's limit and by the link from each source, every byte by both", async () => {
    const { manifest } = await scanDataset(join(dir, 'src'), CHUNK);
    const counting = () => {
      const p = { bytes: 0, take: (n: number) => ((p.bytes += n), 0) };
      return p;
    };
    const center = counting();
    const link = counting();
    const third = new ChunkStore(join(dir, 'third'));
    const moved = await fetchVersion({ store: third, versionId: 'v1', manifest, sources: [{ url: west.port.url, grant: grant('west', west.key, 'v1', 'r'), limiter: link }], limiter: center, rng: seededRng(3) });
    assert.equal(moved, uniqueChunks(manifest).reduce((s, c) => s + c.bytes, 0));
    assert.equal(link.bytes, moved, 'the link limit saw every byte from its source');
    assert.equal(center.bytes, moved, "the center's limit saw every byte too");
  });

  it('refuses a chunk when the store is full, says how much room there is, and loses nothing', async () => {
    const small = new ChunkStore(join(dir, 'small'), { quotaBytes: CHUNK + 10 });
    const a = randomBytes(CHUNK);
    await small.put(sha(a), CHUNK, [a]);
    const b = randomBytes(CHUNK);
    await assert.rejects(small.put(sha(b), CHUNK, [b]), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'storage_full');
      assert.match(e.message, /has 10 bytes free/);
      assert.match(e.hint ?? '', /nothing was lost/);
      return true;
    });
    assert.equal(await small.has(sha(a)), true, 'what was there stays');
    assert.equal(await small.has(sha(b)), false);
  });

  it('picks the nearest center for an upload by measured round trip, never one whose data port does not answer', async () => {
    const closed = await startDataServer({ store: west.store, key: west.key, centerId: () => 'gone' });
    await closed.close(); // its port number is free now: connections to it are refused
    assert.equal(await roundTripMs(closed.url), null);
    const rtt = await roundTripMs(west.port.url);
    assert.ok(rtt !== null && rtt >= 0, `west answers (${rtt} ms)`);
    // 'a-gone' comes first by name: the choice is by measurement, not by name.
    const nearest = await nearestCenter([{ center: 'a-gone', url: closed.url }, { center: 'west', url: west.port.url }]);
    assert.equal(nearest?.center, 'west');
    assert.equal(await nearestCenter([{ center: 'a-gone', url: closed.url }]), null);
  });
});
