import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/*
 * Starts runs through one long-lived /bin/sh instead of forking the agent itself.
 *
 * Why: fork() copies the forking process's page tables and Node's spawn waits, on its only thread,
 * until the child has exec'd. From a Node process of a few hundred MB that costs 7–30 ms per run on
 * an idle 2-core machine and ~90 ms in a busy agent (measured: 160 MB RSS 7 ms, 470 MB 18 ms, 1.2 GB
 * 27 ms; a profiled agent spent 44 of its 74 busy seconds in spawn). A 2 MB shell forks in a fraction
 * of that, and does it off the agent's thread.
 *
 * Protocol: one request per line on the shell's stdin, the path of a run folder; the shell runs that
 * folder's `launch` script in a background subshell (stdio on /dev/null until the script redirects
 * it) and answers with the subshell's pid, one line per request, in order. The script ends by
 * exec'ing the run's wrapper, so that pid is the run's; `$mask` holds the agent's umask for it. The shell reaps its ended children itself;
 * a run outlives the launcher (it is in its own session), so closing the launcher ends no run.
 *
 * The script also gets the answer pipe as fd 8: a run's wrapper (never its command) writes
 * `ended <exit file>` there once it has written the exit file, so the connector looks at a run when
 * it ends instead of polling every run's files (lines under 4 KiB are written whole). A wrapper
 * whose agent is gone gets EPIPE there, after its exit file is safe.
 */
const LAUNCHER = 'mask=$(umask); while IFS= read -r dir; do { . "$dir/launch"; } </dev/null 8>&1 >/dev/null 2>&1 & echo "$!"; done';

/** A long-lived shell that starts run folders' `launch` scripts; see the comment above. */
export class Launcher {
  readonly #onEnded: (exitFile: string) => void;
  #shell: ChildProcess | null = null;
  /** Resolvers of the requests written and not yet answered, oldest first. */
  #waiting: { resolve: (pid: number) => void; reject: (error: Error) => void }[] = [];

  /** `onEnded` is told the exit file of each run that ends (see above). */
  constructor(onEnded: (exitFile: string) => void = () => undefined) {
    this.#onEnded = onEnded;
  }

  /** Runs `dir/launch` in the background and resolves to its pid. Rejects when the shell cannot take it. */
  launch(dir: string): Promise<number> {
    if (dir.includes('\n')) return Promise.reject(new Error(`a run folder's path may not hold a newline: ${JSON.stringify(dir)}`));
    const shell = this.#ensure();
    return new Promise<number>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#hold(shell, true);
      shell.stdin!.write(dir + '\n');
    });
  }

  /** Ends the shell (runs it started go on); requests not yet answered are rejected. */
  close(): void {
    const shell = this.#shell;
    this.#shell = null;
    if (shell) {
      shell.stdin!.end();
      shell.kill('SIGTERM');
    }
    this.#fail(new Error('the launcher was closed'));
  }

  #ensure(): ChildProcess {
    if (this.#shell) return this.#shell;
    // A clean environment: what a run gets comes from its launch script only.
    const shell = spawn('/bin/sh', ['-c', LAUNCHER], { stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' } });
    this.#shell = shell;
    shell.stdin!.on('error', () => undefined); // EPIPE after the shell died: handled on 'exit'
    createInterface({ input: shell.stdout! }).on('line', (line) => {
      if (line.startsWith('ended ')) {
        this.#onEnded(line.slice('ended '.length));
        return;
      }
      const waiter = this.#waiting.shift();
      if (this.#waiting.length === 0) this.#hold(shell, false);
      const pid = Number(line);
      if (!waiter) return;
      if (Number.isSafeInteger(pid) && pid > 0) waiter.resolve(pid);
      else waiter.reject(new Error(`the launcher answered '${line}' instead of a pid`));
    });
    const gone = (why: string) => {
      if (this.#shell !== shell) return;
      this.#shell = null;
      this.#fail(new Error(`the launcher shell ${why}; the next start makes a new one`));
    };
    shell.once('error', (error) => gone(`failed: ${error.message}`));
    shell.once('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    this.#hold(shell, false);
    return shell;
  }

  /** Keeps the process alive while requests wait for their answer, and only then. */
  #hold(shell: ChildProcess, on: boolean): void {
    for (const handle of [shell, shell.stdin, shell.stdout] as unknown as { ref?: () => void; unref?: () => void }[]) {
      if (on) handle.ref?.();
      else handle.unref?.();
    }
  }

  #fail(error: Error): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.reject(error);
  }
}
