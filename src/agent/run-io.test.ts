import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readExit, readTextChunk } from './run-io.js';

describe('reading files a job may have written', { timeout: 10_000 }, () => {
  it('reads a plain file, and neither follows a planted link nor hangs on a planted FIFO', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'suanwang-runio-'));
    try {
      await writeFile(join(dir, 'secret'), 'ADMIN-TOKEN\n');
      await writeFile(join(dir, 'stdout'), 'hello\n');
      await symlink(join(dir, 'secret'), join(dir, 'stderr'));
      await symlink(join(dir, 'secret'), join(dir, 'exit'));
      execFileSync('mkfifo', [join(dir, 'fifo')]);
      assert.deepEqual(await readTextChunk(join(dir, 'stdout'), 0, 100), { data: 'hello\n', nextOffset: 6 });
      assert.equal(await readTextChunk(join(dir, 'stderr'), 0, 100), null, 'a link reads as no file');
      assert.equal(await readTextChunk(join(dir, 'fifo'), 0, 100), null, 'a FIFO reads as no file');
      assert.equal(await readExit(dir), null, 'a linked exit marker reads as none');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
