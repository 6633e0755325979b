// textgen-mini's server mode (what `suanwang serve` launches): the rendered cpu command with
// serve=on, in a fresh folder of the app's files, as a real process answering real HTTP.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { planLaunch } from '../../src/catalog/launch.js';
import { parseSeedCatalog } from '../../src/catalog/seed.js';

const dir = new URL('../../src/catalog/seed/', import.meta.url);
const texts = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => [f, readFileSync(new URL(f, dir), 'utf8')]));
const manifest = parseSeedCatalog(texts).find((m) => m.name === 'textgen-mini')!;

describe('textgen-mini serve=on', { timeout: 30_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'suanwang-textgen-serve-'));
  let child: ChildProcess;
  let base: string;

  before(async () => {
    const r = planLaunch(manifest, { params: { serve: 'on', slots: '2', token_ms: '1' }, resources: { acceleratorsPerNode: 0 } });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    for (const [path, content] of Object.entries(r.plan.files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    const [program, ...args] = r.plan.variants.cpu!.command;
    child = spawn(program!, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    base = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${out}`)));
    });
  });
  after(() => {
    child?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('announces a loopback address and becomes ready', async () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (;;) {
      const res = await fetch(`${base}/ready`);
      const body = (await res.json()) as { ready: boolean };
      if (res.status === 200 && body.ready) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('generates text, the same for the same seed, with its token count in a header', async () => {
    const ask = async () => {
      const res = await fetch(`${base}/generate`, { method: 'POST', body: JSON.stringify({ prompt: 'Alice ', length: 40, seed: 3 }) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-tokens'), '40');
      return (await res.json()) as { text: string; tokens: number };
    };
    const a = await ask();
    assert.ok(a.text.startsWith('Alice ') && a.text.length === 46, a.text);
    assert.equal((await ask()).text, a.text);
  });

  it('streams the same text in chunks', async () => {
    const res = await fetch(`${base}/generate`, { method: 'POST', body: JSON.stringify({ prompt: 'Alice ', length: 40, seed: 3, stream: true }) });
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    let chunks = 0;
    let text = '';
    for await (const part of res.body!) {
      chunks++;
      text += Buffer.from(part).toString();
    }
    const whole = (await (await fetch(`${base}/generate`, { method: 'POST', body: JSON.stringify({ prompt: 'Alice ', length: 40, seed: 3 }) })).json()) as { text: string };
    assert.equal(text, whole.text);
    assert.ok(chunks > 1, `${chunks} chunks`);
  });

  it('refuses bad input naming the field, and reports its load', async () => {
    const res = await fetch(`${base}/generate`, { method: 'POST', body: JSON.stringify({ prompt: 'x', length: -1 }) });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { field: string; message: string } };
    assert.equal(body.error.field, 'length');
    assert.match(body.error.message, /-1/);
    const load = (await (await fetch(`${base}/load`)).json()) as { inflight: number; slots: number; served: number };
    assert.deepEqual([load.inflight, load.slots, load.served >= 3], [0, 2, true]);
  });
});
