import { spawn } from 'node:child_process';
import { constants as fsConstants, existsSync } from 'node:fs';
import { access, mkdir, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { AgentPool, Lease, LogStream, RunRef, RunState, RunStatus } from '../../core/agent-protocol.js';
import type { Connector } from '../connector.js';
import {
  exists,
  isCode,
  readExit,
  readStop,
  readTextChunk,
  prepareWorkdir,
  removeRunDir,
  runEnvironment,
  writeAtomic,
  writeStop,
  type Marker,
  type StopReason,
} from '../run-io.js';

/*
 * Layout of the state folder (everything the connector knows lives here, so a restarted agent, even
 * one that was SIGKILLed, finds its runs again):
 *
 *   runs/<jobId>.<attempt>/meta.json   the lease, wrapper pid (= process group id), startedAt, workdir
 *                         /stdout      the run's output: files, not pipes, so the run outlives the agent
 *                         /stderr
 *                         /exit        the command's exit status, written by the wrapper when it ends
 *                         /stop        why the connector stopped the run (`cancelled` | `walltime-exceeded`),
 *                                      written before the first signal so the end is never mistaken for a crash
 *   work/<jobId>/                      default working directory; kept after forget so outputs survive
 */

export interface LocalConnectorOptions {
  readonly stateDir: string;
  readonly pools: readonly AgentPool[];
  /** How long a stopped run gets between SIGTERM and SIGKILL of its process group. */
  readonly killGraceMs?: number;
}

/*
 * The wrapper is the process group leader. It runs the command in a subshell that `exec`s it, so the
 * argv is run as a program found on PATH, never as a shell builtin (`exit 3` is a missing program,
 * as it would be for execve), and a missing program ends with 127. The exit status is written to a
 * temporary file and renamed, so a reader sees either no exit file or a complete one. The exit file's
 * path comes in an env var that is unset before the command runs, so the job never sees it.
 */
const WRAPPER = [
  'exit_file=$SUANWANG_EXIT_FILE',
  'unset SUANWANG_EXIT_FILE',
  '( exec "$@" )',
  'code=$?',
  'printf \'%s\\n\' "$code" > "$exit_file.tmp" && mv -f "$exit_file.tmp" "$exit_file"',
].join('\n');

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';
/** setTimeout fires at once for longer delays; a longer walltime timer re-arms itself. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** jobIds become folder names: no separators, no leading dot. */
const SAFE_JOB_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
const HAS_PROC = existsSync('/proc/self/stat');

interface RunMeta {
  readonly lease: Lease;
  readonly pid: number;
  readonly startedAt: number;
  readonly workdir: string;
  /** Start time of the wrapper from /proc (clock ticks since boot): tells the wrapper from a process that reuses its pid. */
  readonly procStart: string | null;
}

/**
 * A connector that runs each lease as processes on this machine, in their own process group, with
 * their output in files under `stateDir`. Runs survive the agent and are found again by any later
 * instance over the same `stateDir`.
 */
export class LocalConnector implements Connector {
  readonly kind = 'local';
  readonly #stateDir: string;
  readonly #runsDir: string;
  readonly #pools: readonly AgentPool[];
  readonly #killGraceMs: number;
  readonly #walltimeTimers = new Map<string, NodeJS.Timeout>();
  readonly #killTimers = new Map<string, NodeJS.Timeout>();
  /** Runs being started: their folder exists before their meta.json does. */
  readonly #starting = new Set<string>();
  /** When a run was first seen dead without an exit file or stop marker (there is no file to date it by). */
  readonly #vanishedAt = new Map<string, number>();

  constructor(options: LocalConnectorOptions) {
    this.#stateDir = options.stateDir;
    this.#runsDir = join(options.stateDir, 'runs');
    this.#pools = [...options.pools];
    this.#killGraceMs = options.killGraceMs ?? 5000;
  }

  /** The pools given at construction, and the executable names found in the agent's PATH. */
  async describe(): Promise<{ pools: AgentPool[]; commands: string[] | null }> {
    return { pools: [...this.#pools], commands: await commandsOnPath(process.env.PATH ?? DEFAULT_PATH) };
  }

  /**
   * Starts the lease's command under the wrapper and resolves once the process exists; rejects (and
   * leaves nothing behind) when the run already exists, the workdir is missing or the spawn fails.
   */
  async start(lease: Lease): Promise<void> {
    checkRef(lease);
    if (lease.command.length === 0 || lease.command[0] === '') {
      throw new Error(`lease ${lease.jobId}: the command is empty`);
    }
    const key = runKey(lease);
    if (this.#starting.has(key)) throw new Error(`run ${key} is already being started`);
    this.#starting.add(key);
    const dir = this.#runDir(lease);
    let created = false;
    try {
      await mkdir(this.#runsDir, { recursive: true, mode: 0o700 });
      if (await readMeta(dir)) throw new Error(`run ${key} was already started`);
      // A folder without meta.json is what a start that crashed half-way leaves behind.
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { mode: 0o700 });
      created = true;

      const workdir = await prepareWorkdir(lease, this.#stateDir, 'on this machine');
      const pid = await spawnWrapper(lease, dir, workdir);
      const meta: RunMeta = { lease, pid, startedAt: Date.now(), workdir, procStart: (await readProcStat(pid))?.startTime ?? null };
      await writeAtomic(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
      this.#armWalltime(key, meta);
    } catch (error) {
      if (created) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw error;
    } finally {
      this.#starting.delete(key);
    }
  }

  /** Stops a running run (SIGTERM to its group, SIGKILL after the grace); a no-op for ended or unknown runs. */
  async cancel(run: RunRef): Promise<void> {
    checkRef(run);
    const dir = this.#runDir(run);
    const meta = await readMeta(dir);
    if (meta) await this.#stop(dir, meta, 'cancelled');
  }

  /** Every run in the state folder, with walltimes and kill graces enforced as a side effect. */
  async runs(): Promise<RunStatus[]> {
    let names: string[];
    try {
      names = await readdir(this.#runsDir);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return [];
      throw error;
    }
    const live = names.filter((name) => !name.startsWith('.')).sort(); // `.forget-…`: being deleted
    const statuses = await Promise.all(live.map((name) => this.#status(join(this.#runsDir, name))));
    return statuses.filter((s): s is RunStatus => s !== null);
  }

  /**
   * Up to `maxBytes` of a stream from byte `offset`, cut back to a whole UTF-8 character (nextOffset
   * counts the bytes returned). When `maxBytes` is smaller than the next character, that one character
   * is returned whole, so a reader always makes progress. Rejects for an unknown run.
   */
  async readOutput(run: RunRef, stream: LogStream, offset: number, maxBytes: number): Promise<{ data: string; nextOffset: number }> {
    checkRef(run);
    if (stream !== 'stdout' && stream !== 'stderr') throw new RangeError(`unknown stream '${String(stream)}'`);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be a whole number >= 0, got ${offset}`);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a whole number >= 1, got ${maxBytes}`);
    const dir = this.#runDir(run);
    const chunk = await readTextChunk(join(dir, stream), offset, maxBytes);
    if (chunk) return chunk;
    if (!(await readMeta(dir))) throw new Error(`unknown run ${runKey(run)}`);
    return { data: '', nextOffset: offset };
  }

  /** Deletes a run's folder (not its workdir). Rejects while the run is still running. */
  async forget(run: RunRef): Promise<void> {
    checkRef(run);
    const dir = this.#runDir(run);
    const key = runKey(run);
    const status = await this.#status(dir);
    if (status?.state === 'running') throw new Error(`run ${key} is still running: cancel it and wait for it to end before forgetting it`);
    this.#clearTimers(key);
    this.#vanishedAt.delete(key);
    await removeRunDir(this.#runsDir, dir, key);
  }

  /** Clears this instance's timers; runs keep going and a later instance enforces their walltimes. */
  async close(): Promise<void> {
    for (const timer of [...this.#walltimeTimers.values(), ...this.#killTimers.values()]) clearTimeout(timer);
    this.#walltimeTimers.clear();
    this.#killTimers.clear();
  }

  #runDir(run: RunRef): string {
    return join(this.#runsDir, runKey(run));
  }

  async #status(dir: string): Promise<RunStatus | null> {
    const meta = await readMeta(dir);
    if (!meta) return null; // being started, or not ours
    const key = runKey(meta.lease);
    let exit = await readExit(dir);
    let stop = await readStop(dir);
    if (stop) this.#escalate(key, meta, stop);
    if (!exit) {
      if (await isWrapperAlive(meta)) {
        if (!stop && walltimeLeftMs(meta) <= 0) await this.#stop(dir, meta, 'walltime-exceeded');
        return this.#statusOf(meta, 'running', null, null, null);
      }
      // The wrapper may have written its exit file between the first look and the liveness check.
      exit = await readExit(dir);
      stop = await readStop(dir);
      // …or the run was forgotten meanwhile: no files is then not a vanished process.
      if (!exit && !stop && !(await exists(join(dir, 'meta.json')))) return null;
    }
    const exitCode = exit ? exit.value : null;
    if (stop) {
      const finishedAt = exit?.at ?? stop.at;
      if (stop.value === 'walltime-exceeded') return this.#statusOf(meta, 'failed', exitCode, stop.value, finishedAt);
      return this.#statusOf(meta, 'cancelled', exitCode, 'cancelled', finishedAt);
    }
    if (!exit) {
      // Killed from outside (OOM killer, a reboot, kill -9 of the wrapper): nothing recorded how it ended.
      const at = this.#vanishedAt.get(key) ?? Date.now();
      this.#vanishedAt.set(key, at);
      return this.#statusOf(meta, 'failed', null, 'process-vanished', at);
    }
    if (exitCode === 0) return this.#statusOf(meta, 'succeeded', 0, null, exit.at);
    return this.#statusOf(meta, 'failed', exitCode, exitReason(exitCode), exit.at);
  }

  #statusOf(meta: RunMeta, state: RunState, exitCode: number | null, reason: string | null, finishedAt: number | null): RunStatus {
    return { jobId: meta.lease.jobId, attempt: meta.lease.attempt, state, exitCode, reason, startedAt: meta.startedAt, finishedAt };
  }

  /**
   * Marks the run stopped (first reason wins), then SIGTERMs its process group and arms the SIGKILL.
   * Does nothing once the run has ended, so a late cancel never rewrites how a run ended.
   */
  async #stop(dir: string, meta: RunMeta, reason: StopReason): Promise<void> {
    if ((await readExit(dir)) || !(await isWrapperAlive(meta))) return;
    await writeStop(dir, reason);
    signalGroup(meta.pid, 'SIGTERM');
    const key = runKey(meta.lease);
    this.#clearWalltime(key);
    if (!this.#killTimers.has(key)) {
      const timer = setTimeout(() => {
        this.#killTimers.delete(key);
        if (isGroupAlive(meta.pid)) signalGroup(meta.pid, 'SIGKILL');
      }, this.#killGraceMs);
      timer.unref();
      this.#killTimers.set(key, timer);
    }
  }

  /**
   * A stopped run whose group outlived the grace gets SIGKILL. This covers runs stopped by an earlier
   * instance (its timer died with it); for runs stopped here, the timer does it.
   */
  #escalate(key: string, meta: RunMeta, stop: Marker<StopReason>): void {
    if (this.#killTimers.has(key) || Date.now() - stop.at < this.#killGraceMs) return;
    if (isGroupAlive(meta.pid)) signalGroup(meta.pid, 'SIGKILL');
  }

  #armWalltime(key: string, meta: RunMeta): void {
    const left = walltimeLeftMs(meta);
    if (!Number.isFinite(left)) return;
    const timer = setTimeout(() => {
      this.#walltimeTimers.delete(key);
      if (walltimeLeftMs(meta) > 0) {
        this.#armWalltime(key, meta);
        return;
      }
      const dir = this.#runDir(meta.lease);
      this.#stop(dir, meta, 'walltime-exceeded').catch(() => undefined); // runs() retries it
    }, Math.min(Math.max(left, 0), MAX_TIMER_MS));
    timer.unref();
    this.#walltimeTimers.set(key, timer);
  }

  #clearWalltime(key: string): void {
    clearTimeout(this.#walltimeTimers.get(key));
    this.#walltimeTimers.delete(key);
  }

  #clearTimers(key: string): void {
    this.#clearWalltime(key);
    clearTimeout(this.#killTimers.get(key));
    this.#killTimers.delete(key);
  }
}

function runKey(run: RunRef): string {
  return `${run.jobId}.${run.attempt}`;
}

function checkRef(run: RunRef): void {
  if (typeof run.jobId !== 'string' || !SAFE_JOB_ID.test(run.jobId)) {
    throw new RangeError(`jobId '${String(run.jobId)}' is not usable as a folder name (letters, digits, '_', '-', '.')`);
  }
  if (!Number.isSafeInteger(run.attempt) || run.attempt < 0) {
    throw new RangeError(`attempt must be a whole number >= 0, got ${String(run.attempt)}`);
  }
}

/** Milliseconds until the run's walltime is up; Infinity when the lease sets none. */
function walltimeLeftMs(meta: RunMeta): number {
  const seconds = meta.lease.walltimeSeconds;
  if (!Number.isFinite(seconds) || seconds <= 0) return Infinity;
  return meta.startedAt + seconds * 1000 - Date.now();
}

function exitReason(code: number | null): string | null {
  if (code === 127) return 'command-not-found';
  if (code === 126) return 'command-not-executable';
  return null;
}

/** Spawns the wrapper in its own process group with output going to the run's files; resolves to its pid. */
async function spawnWrapper(lease: Lease, dir: string, workdir: string): Promise<number> {
  const env = runEnvironment(lease, { SUANWANG_EXIT_FILE: join(dir, 'exit') });
  const stdout = await open(join(dir, 'stdout'), 'a', 0o600);
  try {
    const stderr = await open(join(dir, 'stderr'), 'a', 0o600);
    try {
      const child = spawn('/bin/sh', ['-c', WRAPPER, 'sh', ...lease.command], {
        detached: true, // its own process group, so cancel can signal everything the run started
        stdio: ['ignore', stdout.fd, stderr.fd],
        cwd: workdir,
        env,
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', (error) => reject(new Error(`could not start ${lease.command[0]}: ${error.message}`)));
      });
      child.on('error', () => undefined); // a later error (a failed kill) must not crash the agent
      child.unref();
      if (child.pid === undefined) throw new Error(`could not start ${lease.command[0]}: no process id`);
      return child.pid;
    } finally {
      await stderr.close();
    }
  } finally {
    await stdout.close();
  }
}

/** Alive means: the pid exists, is not a zombie, and (where /proc tells) is the same process we started. */
async function isWrapperAlive(meta: RunMeta): Promise<boolean> {
  try {
    process.kill(meta.pid, 0);
  } catch {
    return false; // ESRCH, or EPERM: another user's process now has that pid
  }
  if (!HAS_PROC) return true;
  const info = await readProcStat(meta.pid);
  if (info === null) return false;
  if (info.state === 'Z' || info.state === 'X') return false;
  return meta.procStart === null || info.startTime === meta.procStart;
}

function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

async function readProcStat(pid: number): Promise<{ state: string; startTime: string } | null> {
  if (!HAS_PROC) return null;
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  if (state === undefined || startTime === undefined) return null;
  return { state, startTime };
}

async function readMeta(dir: string): Promise<RunMeta | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as RunMeta;
  } catch {
    return null;
  }
}







/** Names of the executable files in the PATH directories, deduplicated and sorted. */
async function commandsOnPath(path: string): Promise<string[]> {
  const dirs = [...new Set(path.split(delimiter).filter((d) => d !== ''))];
  const names = new Set<string>();
  await Promise.all(
    dirs.map(async (dir) => {
      const entries = await readdir(dir).catch(() => [] as string[]);
      await Promise.all(
        entries.map(async (name) => {
          const file = join(dir, name);
          try {
            await access(file, fsConstants.X_OK);
            if ((await stat(file)).isFile()) names.add(name);
          } catch {
            // not executable, or a dangling link
          }
        }),
      );
    }),
  );
  return [...names].sort();
}



