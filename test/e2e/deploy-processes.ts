import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO } from '../support/cli.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** A line a child printed, with when this process received it (ms since the epoch). */
export interface Line {
  readonly at: number;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** A `suanwang` command running as its own OS process, with everything it printed so far. */
export interface Proc {
  readonly child: ChildProcess;
  readonly lines: Line[];
  /** Resolves with the first line (already printed or to come) matching `re`; rejects after `timeoutMs` or if the process exits first. */
  waitFor(re: RegExp, timeoutMs: number): Promise<Line>;
  /** Sends `signal` and resolves when the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** Starts `node --import tsx src/cli/main.ts ARGS` with `env` on top of this process's environment. */
export function startCli(args: readonly string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const watchers = new Set<() => void>();
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream]!.on('data', (d: Buffer) => {
      const at = Date.now();
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      for (const text of parts) lines.push({ at, stream, text });
      for (const w of watchers) w();
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const w of watchers) w();
  });
  return {
    child,
    lines,
    exited,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find((l) => re.test(l.text));
          if (hit) return finish(() => resolve(hit));
          if (gone) return finish(() => reject(new Error(`process exited before printing ${re}; it printed:\n${tail(lines)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; it printed:\n${tail(lines)}`))), timeoutMs);
        const finish = (f: () => void) => {
          clearTimeout(timer);
          watchers.delete(check);
          f();
        };
        watchers.add(check);
        check();
      });
    },
    async kill(signal) {
      if (gone) return;
      child.kill(signal);
      await exited;
    },
  };
}

function tail(lines: readonly Line[]): string {
  return lines
    .slice(-20)
    .map((l) => `  ${l.stream}: ${l.text}`)
    .join('\n');
}

/** A TCP port free right now on 127.0.0.1 (for a server that must come back on the same URL). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts `suanwang server` on `port` (0: any) and resolves once it printed its URL. */
export async function startServer(env: { DATABASE_URL: string; SUANWANG_HOME: string }, port = 0): Promise<Proc & { url: string }> {
  const proc = startCli(['server', '--port', String(port)], { ...env, SUANWANG_PORT: '', SUANWANG_URL: '', SUANWANG_TOKEN: '' });
  const line = await proc.waitFor(/^Suanwang server at http/, 90_000);
  return Object.assign(proc, { url: /(http:\/\/\S+)/.exec(line.text)![1]! });
}

/** Writes a center.yaml (local connector, one CPU pool) in `dir` and starts `suanwang agent` with it; resolves once it joined. */
export async function startAgent(dir: string, config: { server: string; center: string; enrollmentToken: string }): Promise<Proc> {
  const path = join(dir, `${config.center}.yaml`);
  await writeFile(
    path,
    [
      `server: ${config.server}`,
      `center: ${config.center}`,
      `enrollmentToken: ${config.enrollmentToken}`,
      `stateDir: ./${config.center}-state`,
      'connector:',
      '  kind: local',
      '  pools: [{ name: cpu, accelerator: null, acceleratorsPerNode: 0, coresPerNode: 16, memoryMiBPerNode: 65536, nodes: 2 }]',
      '',
    ].join('\n'),
  );
  const proc = startCli(['agent', '--config', path], {});
  await proc.waitFor(/^agent of .* joined/, 90_000);
  return proc;
}
