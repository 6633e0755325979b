import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { mountPortal } from '../../src/api/portal.js';

/** The portal's static serving (src/api/portal.ts) on a folder made here: no browser, no database. */
describe('serving the built portal', { timeout: 30_000 }, () => {
  let root: string;
  let app: Hono;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'suanwang-portal-'));
    await mkdir(join(root, 'dist/assets'), { recursive: true });
    await writeFile(join(root, 'dist/index.html'), '<!doctype html><div id="root"></div>');
    await writeFile(join(root, 'dist/assets/index-abc123.js'), 'console.log(1)');
    await writeFile(join(root, 'secret.txt'), 'outside the portal');
    app = new Hono();
    app.get('/v1/health', (c) => c.json({ ok: true }));
    mountPortal(app, join(root, 'dist'));
    app.notFound((c) => c.json({ error: { code: 'not_found' } }, 404));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('serves index.html at / and for client routes, uncached', async () => {
    for (const path of ['/', '/jobs/job_123', '/store/md-lj']) {
      const r = await app.request(path);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type') ?? '', /text\/html/);
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      assert.match(await r.text(), /id="root"/);
    }
  });

  it('serves hashed assets with a long immutable cache, and a missing one as 404', async () => {
    const r = await app.request('/assets/index-abc123.js');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /javascript/);
    assert.match(r.headers.get('cache-control') ?? '', /max-age=31536000, immutable/);
    assert.equal(await r.text(), 'console.log(1)');
    assert.equal((await app.request('/assets/index-gone.js')).status, 404);
  });

  it('leaves the API alone and never reads outside its folder', async () => {
    assert.deepEqual(await (await app.request('/v1/health')).json(), { ok: true });
    const missing = await app.request('/v1/nothing');
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: { code: 'not_found' } });
    for (const path of ['/..%2Fsecret.txt', '/assets/..%2F..%2Fsecret.txt', '/%2e%2e/secret.txt']) {
      const r = await app.request(path);
      assert.doesNotMatch(await r.text(), /outside the portal/, path);
    }
  });

  it('says how to build the portal when it is not built', async () => {
    const bare = new Hono();
    mountPortal(bare, join(root, 'nowhere'));
    const r = await bare.request('/');
    assert.equal(r.status, 404);
    assert.match(await r.text(), /npm run build:web/);
  });
});
