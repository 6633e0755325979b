import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Lease, LogStream, RunRef, RunStatus } from '../core/agent-protocol.js';
import type { Connector } from './connector.js';

/*
 * The one suite every connector passes (`local`, `slurm`, …). It speaks only the Connector interface
 * and runs plain POSIX commands, so a new connector proves itself by calling connectorContract() with
 * a setup that builds it. One assumption beyond the interface: the test process sees the processes of
 * the runs (the cancel case checks that a grandchild pid is gone), as on a single-machine test setup.
 */

export interface ConnectorFixture {
  readonly connector: Connector;
  /** A new instance over the same state, as an agent restarted on the same machine would make. */
  readonly reopen: () => Promise<Connector>;
  /** Removes whatever the setup made (the suite has already stopped its runs and closed its instances). */
  readonly cleanup: () => Promise<void>;
}

/** Polls `probe` every 25 ms until it returns a truthy value, which it resolves to; rejects after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  timeoutMs: number,
  what = 'condition',
): Promise<Exclude<T, null | undefined | false | '' | 0>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    last = await probe();
    if (last) return last as Exclude<T, null | undefined | false | '' | 0>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Each case gets this long; the suite keeps every case to a few seconds on the local connector. */
const CASE = { timeout: 30_000 } as const;

/** Registers the shared connector suite under `name`; `setup` runs before every case, with fresh state. */
export function connectorContract(name: string, setup: () => Promise<ConnectorFixture>): void {
  describe(`connector contract: ${name}`, () => {
    let fixture: ConnectorFixture;
    let connector: Connector;
    let instances: Connector[] = [];
    let sequence = 0;

    const reopen = async (): Promise<Connector> => {
      const fresh = await fixture.reopen();
      instances.push(fresh);
      return fresh;
    };

    /** A lease in the first pool, with a jobId unique to this run of the suite. */
    const lease = async (command: readonly string[], overrides: Partial<Lease> = {}): Promise<Lease> => {
      const { pools } = await connector.describe();
      const pool = pools[0];
      assert.ok(pool, 'the connector offers at least one pool');
      sequence += 1;
      return {
        jobId: `job_contract${Date.now().toString(36)}${sequence}`,
        attempt: 1,
        name: `contract ${sequence}`,
        tenant: { orgId: 'org_contract', orgName: 'contract' },
        poolName: pool.name,
        command,
        env: {},
        workdir: null,
        files: {},
        nodes: 1,
        acceleratorsPerNode: pool.acceleratorsPerNode > 0 ? 1 : 0,
        coresPerNode: 1,
        memoryMiBPerNode: 64,
        walltimeSeconds: 60,
        ...overrides,
      };
    };

    beforeEach(async () => {
      fixture = await setup();
      connector = fixture.connector;
      instances = [connector];
    });

    afterEach(async () => {
      // Stop whatever a case left running, even when it failed half-way, before removing the state.
      try {
        const last = instances[instances.length - 1]!;
        for (const run of await last.runs().catch(() => [] as RunStatus[])) {
          if (run.state === 'running') await last.cancel(run).catch(() => undefined);
        }
        await waitFor(async () => (await last.runs()).every((r) => r.state !== 'running'), 10_000, 'leftover runs to stop').catch(
          () => undefined,
        );
      } finally {
        for (const instance of instances) await instance.close().catch(() => undefined);
        await fixture.cleanup();
      }
    });

    it('describes its pools and the commands it can run', CASE, async () => {
      const { pools, commands } = await connector.describe();
      assert.ok(pools.length > 0, 'at least one pool');
      for (const pool of pools) {
        assert.equal(typeof pool.name, 'string');
        assert.ok(pool.name.length > 0);
        assert.ok(pool.accelerator === null || typeof pool.accelerator === 'string');
        for (const field of ['acceleratorsPerNode', 'coresPerNode', 'memoryMiBPerNode', 'nodes'] as const) {
          assert.ok(Number.isInteger(pool[field]) && pool[field] >= 0, `${pool.name}.${field} is a whole number`);
        }
      }
      assert.equal(new Set(pools.map((p) => p.name)).size, pools.length, 'pool names are unique');
      if (commands !== null) {
        assert.deepEqual(commands, [...new Set(commands)].sort(), 'commands are deduplicated and sorted');
        assert.ok(commands.includes('sh'), 'sh is on the PATH');
      }
    });

    it('runs a command to success and captures its stdout', CASE, async () => {
      const l = await lease(['echo', 'hi']);
      await connector.start(l);
      const run = await ended(connector, l);
      assert.equal(run.state, 'succeeded');
      assert.equal(run.exitCode, 0);
      assert.equal(run.reason, null);
      assert.ok(run.finishedAt !== null && run.finishedAt >= run.startedAt - 1000, 'finishedAt is set, not before startedAt');
      assert.equal(await readAll(connector, l, 'stdout'), 'hi\n');
      assert.equal(await readAll(connector, l, 'stderr'), '');
      // Reading at the end gives nothing new, and the same offset back.
      assert.deepEqual(await connector.readOutput(l, 'stdout', 3, 100), { data: '', nextOffset: 3 });
    });

    it('writes the lease files into the working directory before the run starts', CASE, async () => {
      const l = await lease(['sh', '-c', 'cat data/in.txt run.py'], { files: { 'data/in.txt': '中文 input\n', 'run.py': 'print(1)\n' } });
      await connector.start(l);
      const run = await ended(connector, l);
      assert.equal(run.state, 'succeeded');
      assert.equal(await readAll(connector, l, 'stdout'), '中文 input\nprint(1)\n');
    });

    it('reports a non-zero exit as failed with its exit code', CASE, async () => {
      const l = await lease(['sh', '-c', 'exit 3']);
      await connector.start(l);
      const run = await ended(connector, l);
      assert.equal(run.state, 'failed');
      assert.equal(run.exitCode, 3);
    });

    it('captures stderr apart from stdout', CASE, async () => {
      const l = await lease(['sh', '-c', 'echo out; echo err >&2; echo out2']);
      await connector.start(l);
      assert.equal((await ended(connector, l)).state, 'succeeded');
      assert.equal(await readAll(connector, l, 'stdout'), 'out\nout2\n');
      assert.equal(await readAll(connector, l, 'stderr'), 'err\n');
    });

    it('fails a program that does not exist with exit 127', CASE, async () => {
      const l = await lease(['suanwang-no-such-program-7f3a', '--flag']);
      await connector.start(l);
      const run = await ended(connector, l);
      assert.equal(run.state, 'failed');
      assert.equal(run.exitCode, 127);
      assert.equal(run.reason, 'command-not-found');
    });

    it('runs the argv without a shell', CASE, async () => {
      // `$HOME` and `;` reach echo as they are: nothing expands or splits them.
      const l = await lease(['echo', '$HOME;', 'a  b', '*']);
      await connector.start(l);
      assert.equal((await ended(connector, l)).state, 'succeeded');
      assert.equal(await readAll(connector, l, 'stdout'), '$HOME; a  b *\n');
    });

    it('honours the lease env and workdir', CASE, async () => {
      // Learn the default workdir (and make a folder in it) through a first run, so the case works
      // wherever the connector runs jobs.
      const probe = await lease(['sh', '-c', 'mkdir -p sub && pwd']);
      await connector.start(probe);
      assert.equal((await ended(connector, probe)).state, 'succeeded');
      const defaultDir = (await readAll(connector, probe, 'stdout')).trim();
      assert.ok(defaultDir.startsWith('/'), `pwd printed an absolute path, got '${defaultDir}'`);

      const l = await lease(['sh', '-c', 'pwd; printf "%s|%s|%s|%s\\n" "$GREETING" "$SUANWANG_JOB_ID" "$SUANWANG_ATTEMPT" "$SUANWANG_NODES"'], {
        attempt: 2,
        env: { GREETING: 'ni hao, 世界' },
        workdir: `${defaultDir}/sub`,
      });
      await connector.start(l);
      assert.equal((await ended(connector, l)).state, 'succeeded');
      assert.equal(await readAll(connector, l, 'stdout'), `${defaultDir}/sub\nni hao, 世界|${l.jobId}|2|1\n`);
    });

    it('keeps attempts of one job apart', CASE, async () => {
      const first = await lease(['echo', 'first']);
      const second = { ...first, attempt: first.attempt + 1, command: ['echo', 'second'] };
      await connector.start(first);
      await connector.start(second);
      assert.equal((await ended(connector, first)).state, 'succeeded');
      assert.equal((await ended(connector, second)).state, 'succeeded');
      assert.equal(await readAll(connector, first, 'stdout'), 'first\n');
      assert.equal(await readAll(connector, second, 'stdout'), 'second\n');
    });

    it('cancel stops the whole process group and the run ends cancelled', CASE, async () => {
      const l = await lease(['sh', '-c', 'sleep 300 & echo $! > child.pid; echo $!; wait']);
      await connector.start(l);
      const grandchild = Number(
        await waitFor(async () => (await readAll(connector, l, 'stdout')).trim(), 10_000, 'the grandchild pid on stdout'),
      );
      assert.ok(Number.isInteger(grandchild) && grandchild > 1, `a pid, got ${grandchild}`);
      assert.equal((await status(connector, l))?.state, 'running');
      assert.ok(isProcessAlive(grandchild), 'the grandchild runs before the cancel');

      await connector.cancel(l);
      const run = await ended(connector, l);
      assert.equal(run.state, 'cancelled');
      assert.equal(run.reason, 'cancelled');
      await waitFor(() => !isProcessAlive(grandchild), 10_000, `grandchild ${grandchild} to be gone`);

      // Cancelling again, or cancelling what never ran, is harmless and changes nothing.
      await connector.cancel(l);
      await connector.cancel({ jobId: `${l.jobId}x`, attempt: 1 });
      assert.equal((await status(connector, l))?.state, 'cancelled');
    });

    it('cancel of a finished run leaves its state alone', CASE, async () => {
      const l = await lease(['echo', 'done']);
      await connector.start(l);
      assert.equal((await ended(connector, l)).state, 'succeeded');
      await connector.cancel(l);
      const run = await status(connector, l);
      assert.equal(run?.state, 'succeeded');
      assert.equal(run?.exitCode, 0);
    });

    it('stops a run over its walltime and fails it with walltime-exceeded', CASE, async () => {
      const l = await lease(['sleep', '30'], { walltimeSeconds: 1 });
      const before = Date.now();
      await connector.start(l);
      const run = await ended(connector, l, 15_000);
      assert.equal(run.state, 'failed');
      assert.equal(run.reason, 'walltime-exceeded');
      assert.ok(Date.now() - before >= 900, 'not stopped before its walltime');
    });

    it('a new instance re-attaches to runs of the old one: state, end, output and cancel', CASE, async () => {
      // `waiter` runs until a file named `go` appears in its workdir; `sleeper` until it is cancelled.
      const waiter = await lease(['sh', '-c', 'pwd; while [ ! -e go ]; do sleep 0.05; done; echo after']);
      const sleeper = await lease(['sleep', '300']);
      await connector.start(waiter);
      await connector.start(sleeper);
      const dir = (await waitFor(async () => (await readAll(connector, waiter, 'stdout')).trim(), 10_000, 'the waiter to print its workdir'));
      await connector.close(); // the old agent goes away; its runs must not

      const fresh = await reopen();
      assert.equal((await status(fresh, waiter))?.state, 'running');
      assert.equal((await status(fresh, sleeper))?.state, 'running');

      const go = await lease(['touch', 'go'], { workdir: dir });
      await fresh.start(go);
      assert.equal((await ended(fresh, go)).state, 'succeeded');
      const run = await ended(fresh, waiter);
      assert.equal(run.state, 'succeeded');
      assert.equal(run.exitCode, 0);
      assert.equal(await readAll(fresh, waiter, 'stdout'), `${dir}\nafter\n`);

      await fresh.cancel(sleeper);
      assert.equal((await ended(fresh, sleeper)).state, 'cancelled');
    });

    it('enforces the walltime of a run started by an earlier instance', CASE, async () => {
      const l = await lease(['sleep', '30'], { walltimeSeconds: 1 });
      await connector.start(l);
      await connector.close();
      const fresh = await reopen();
      const run = await ended(fresh, l, 15_000);
      assert.equal(run.state, 'failed');
      assert.equal(run.reason, 'walltime-exceeded');
    });

    it('forget removes a finished run', CASE, async () => {
      const kept = await lease(['echo', 'kept']);
      const gone = await lease(['echo', 'gone']);
      await connector.start(kept);
      await connector.start(gone);
      await ended(connector, kept);
      await ended(connector, gone);
      await connector.forget(gone);
      const keys = (await connector.runs()).map((r) => `${r.jobId}.${r.attempt}`);
      assert.ok(!keys.includes(`${gone.jobId}.${gone.attempt}`), 'the forgotten run is gone');
      assert.ok(keys.includes(`${kept.jobId}.${kept.attempt}`), 'the other run stays');
    });

    it('reads UTF-8 output in tiny pieces without cutting a character', CASE, async () => {
      const text = '中文输出 ok — ünïcödé 😀 算力如水\n';
      const l = await lease(['printf', '%s\\n', text.slice(0, -1)]);
      await connector.start(l);
      assert.equal((await ended(connector, l)).state, 'succeeded');
      const size = Buffer.byteLength(text);
      for (const maxBytes of [1, 2, 3, 5, 7]) {
        let offset = 0;
        let joined = '';
        for (let reads = 0; offset < size; reads++) {
          assert.ok(reads < size * 2, `reading with maxBytes ${maxBytes} makes progress`);
          const { data, nextOffset } = await connector.readOutput(l, 'stdout', offset, maxBytes);
          assert.ok(!data.includes('\uFFFD'), `piece ${JSON.stringify(data)} at ${offset} (maxBytes ${maxBytes}) is whole characters`);
          assert.equal(nextOffset, offset + Buffer.byteLength(data), 'nextOffset counts the bytes returned');
          assert.ok(data.length > 0, `data at offset ${offset} < ${size}`);
          joined += data;
          offset = nextOffset;
        }
        assert.equal(joined, text, `maxBytes ${maxBytes}`);
      }
    });
  });
}

async function status(connector: Connector, run: RunRef): Promise<RunStatus | undefined> {
  return (await connector.runs()).find((r) => r.jobId === run.jobId && r.attempt === run.attempt);
}

/** Waits for the run to end and returns its final status. */
async function ended(connector: Connector, run: RunRef, timeoutMs = 10_000): Promise<RunStatus> {
  return waitFor(
    async () => {
      const s = await status(connector, run);
      return s !== undefined && s.state !== 'running' ? s : undefined;
    },
    timeoutMs,
    `run ${run.jobId}.${run.attempt} to end`,
  );
}

/** Everything the stream holds now. */
async function readAll(connector: Connector, run: RunRef, stream: LogStream): Promise<string> {
  let text = '';
  let offset = 0;
  for (;;) {
    const { data, nextOffset } = await connector.readOutput(run, stream, offset, 65_536);
    if (data === '') return text;
    text += data;
    offset = nextOffset;
  }
}

/** True while `pid` exists and is not a zombie (a killed orphan stays a zombie where nobody reaps it). */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return process.platform !== 'linux'; // no /proc to ask: trust kill(pid, 0)
  }
}
