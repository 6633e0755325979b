import { createHash } from 'node:crypto';
import { constants as fsConstants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { access, chmod, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import type { AgentPool, Lease, LeaseTenant, LogStream, RunRef, RunState, RunStatus } from '../../core/agent-protocol.js';
import type { Connector, RunInfo } from '../connector.js';
import { linkInputs } from '../data/link-inputs.js';
import { OrgUsers, prepareUserWorkdir, USER_PATH, userEnvironment, type OrgUser } from './org-users.js';
import { Launcher, writeRunSpec, type LauncherKind } from './launcher.js';
import { cgroupProcsFile, createRunCgroup, killCgroup, signalCgroup, type RunCgroup } from './run-cgroup.js';
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
 *   runs/                              0700, the agent's own: jobs never see into it (`runsDir`: elsewhere,
 *                                      e.g. on a tmpfs for a busy center)
 *   runs/<jobId>.<attempt>/meta.json   the lease, the run's pid (= process group id), startedAt, workdir,
 *                                      the org's OS user and the run's cgroup
 *                         /stdout      the run's output: files, not pipes, so the run outlives the agent
 *                         /stderr
 *                         /spec        what the launcher runs: user, workdir, cgroup, environment, argv (launcher.ts)
 *                         /exit        the command's exit status, written by the launcher when it ends
 *                         /stop        why the connector stopped the run (`cancelled` | `walltime-exceeded`),
 *                                      written before the first signal so the end is never mistaken for a crash
 *   work/<jobId>/                      default working directory; kept after forget so outputs survive
 *                                      (with per-org users: 0700 and owned by the org's user; work/ is 0711)
 *   users.json                         org id → OS user (with per-org users), for the operator
 *   tenant.json                        the one org this agent runs (`single-org`)
 *   agent-token                        (written by `up`) 0600, like every file here
 *
 * Isolation (`isolation` option):
 * - `users` (the default as root): each org's jobs run as its own unprivileged OS user (created on
 *   first use, see org-users.ts) with no supplementary groups and no_new_privs, in a workdir only
 *   that user can read, with HOME there. The launcher, which opens the output files and writes the
 *   exit marker, stays root; only the command drops to the user (launcher.ts). The state folder is 0711: a
 *   job can reach its own workdir below it by name but list and read nothing else.
 * - `single-org` (the default without root): jobs run as the agent's user, so they could read each
 *   other's files and the agent's: the agent runs the jobs of the first org it sees and refuses any
 *   other org's, naming the fix.
 * - `none`: jobs of every org run as the agent's user. Only for a machine where everyone who can
 *   submit may see everything (a developer's own laptop); say so explicitly.
 * In every mode, each run is put in its own cgroup where this process may make one (run-cgroup.ts),
 * so everything it started, `setsid` children too, is killed when it ends; otherwise its process group.
 */

/** How the connector keeps orgs apart (see above). */
export type LocalIsolation = 'users' | 'single-org' | 'none';
export const LOCAL_ISOLATIONS: readonly LocalIsolation[] = ['users', 'single-org', 'none'];

/** The isolation a connector gets when none is given: per-org users as root, else one org only. */
export function defaultIsolation(): LocalIsolation {
  return process.getuid?.() === 0 ? 'users' : 'single-org';
}

export interface LocalConnectorOptions {
  readonly stateDir: string;
  /**
   * Where run folders live (the spec, meta.json, output and exit files of each run); default
   * `<stateDir>/runs`. Each run creates and later deletes a handful of small files there: on ext4,
   * allocating inodes among many recently deleted ones costs ~0.3 ms of CPU each at hundreds of runs a
   * second, on a tmpfs almost nothing, so a busy center puts this on one (docs/operations.md).
   */
  readonly runsDir?: string;
  readonly pools: readonly AgentPool[];
  /** How long a stopped run gets between SIGTERM and SIGKILL of its process group. */
  readonly killGraceMs?: number;
  /** How orgs are kept apart; default defaultIsolation(). `users` needs root. */
  readonly isolation?: LocalIsolation;
  /** Which launcher starts runs (launcher.ts); default the native one where it can be built, else Perl. */
  readonly launcher?: LauncherKind;
}

/** setTimeout fires at once for longer delays; a longer walltime timer re-arms itself. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** jobIds become folder names: no separators, no leading dot. */
const SAFE_JOB_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
const HAS_PROC = existsSync('/proc/self/stat');
/** How long a running run's last look stands when nothing said it ended (see runs()). */
const RECHECK_MS = 1000;
/** Without a cgroup, leftovers of an ended run are killed by process group only this long after its end. */
const GROUP_REAP_WINDOW_MS = 60_000;

interface RunMeta {
  readonly lease: Lease;
  readonly pid: number;
  readonly startedAt: number;
  readonly workdir: string;
  /** Start time of the run's process from /proc (clock ticks since boot): tells it from a process that reuses its pid. */
  readonly procStart: string | null;
  /** The org's OS user the command runs as; null (or absent, in older runs) when it runs as the agent's. */
  readonly user?: OrgUser | null;
  /** The run's cgroup; null (or absent) when the run is tracked by its process group only. */
  readonly cgroup?: RunCgroup | null;
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
  readonly #isolation: LocalIsolation;
  readonly #users: OrgUsers;
  /** Run folders the launcher said ended (launcher.ts): looked at on the next pass. */
  readonly #endedSaid = new Set<string>();
  readonly #launcher: Launcher;
  /** A running run's last status and when its files were last looked at. */
  readonly #running = new Map<string, { status: RunStatus; at: number }>();
  /** Ended runs whose leftover processes were killed by this instance. */
  readonly #reaped = new Set<string>();
  readonly #walltimeTimers = new Map<string, NodeJS.Timeout>();
  readonly #killTimers = new Map<string, NodeJS.Timeout>();
  /** Runs being started: their folder exists before their meta.json does. */
  readonly #starting = new Set<string>();
  /** When a run was first seen dead without an exit file or stop marker (there is no file to date it by). */
  readonly #vanishedAt = new Map<string, number>();
  /*
   * What never changes once read, so that a status pass over hundreds of runs costs a few syscalls
   * per running run and none per ended one: a run's meta.json (written once, before anyone reads it)
   * and a run's final status (an exit or stop marker is never rewritten). Keyed by run folder;
   * dropped when the run is forgotten.
   */
  readonly #metas = new Map<string, RunMeta>();
  readonly #ended = new Map<string, RunStatus>();
  /** The state and runs folders have been made and tightened by this instance. */
  #foldersReady = false;

  constructor(options: LocalConnectorOptions) {
    this.#stateDir = options.stateDir;
    this.#runsDir = options.runsDir ?? join(options.stateDir, 'runs');
    this.#pools = [...options.pools];
    this.#killGraceMs = options.killGraceMs ?? 5000;
    this.#isolation = options.isolation ?? defaultIsolation();
    if (!LOCAL_ISOLATIONS.includes(this.#isolation)) throw new RangeError(`isolation must be one of ${LOCAL_ISOLATIONS.join(', ')}, got '${String(this.#isolation)}'`);
    if (this.#isolation === 'users' && process.getuid?.() !== 0) {
      throw new Error(`isolation 'users' runs each org as its own OS user and needs root; this agent runs as uid ${process.getuid?.() ?? '?'}: run it as root, or use 'single-org'`);
    }
    this.#users = new OrgUsers(this.#stateDir);
    this.#launcher = new Launcher((exitFile) => this.#endedSaid.add(dirname(exitFile)), options.launcher);
  }

  /** Which launcher starts this connector's runs (launcher.ts). */
  get launcher(): LauncherKind {
    return this.#launcher.kind;
  }

  /** How this connector keeps orgs apart. */
  get isolation(): LocalIsolation {
    return this.#isolation;
  }

  /** The pools given at construction, and the executable names found in the jobs' PATH. */
  async describe(): Promise<{ pools: AgentPool[]; commands: string[] | null }> {
    return { pools: [...this.#pools], commands: await commandsOnPath(this.#isolation === 'users' ? USER_PATH : (process.env.PATH ?? USER_PATH)) };
  }

  /**
   * Starts the lease's command through the launcher and resolves once the process exists; rejects (and
   * leaves nothing behind) when the run already exists, the workdir is missing or the spawn fails.
   */
  /** Dataset files of an org are owned by the org's user when orgs are kept apart by users. */
  async dataOwner(tenant: LeaseTenant): Promise<{ name: string; uid: number; gid: number } | null> {
    return this.#isolation === 'users' ? this.#users.ensure(tenant) : null;
  }

  async start(lease: Lease): Promise<void> {
    checkRef(lease);
    if (lease.command.length === 0 || lease.command[0] === '') {
      throw new Error(`lease ${lease.jobId}: the command is empty`);
    }
    if (this.#isolation !== 'none' && (typeof lease.tenant?.orgId !== 'string' || lease.tenant.orgId === '')) {
      throw new Error(`lease ${lease.jobId} names no org (tenant.orgId): this agent keeps orgs apart (isolation '${this.#isolation}') and cannot run it; update the control plane`);
    }
    const key = runKey(lease);
    if (this.#starting.has(key)) throw new Error(`run ${key} is already being started`);
    this.#starting.add(key);
    const dir = this.#runDir(lease);
    let created = false;
    let cgroup: RunCgroup | null = null;
    try {
      await this.#checkTenant(lease.tenant);
      if (!this.#foldersReady) {
        await mkdir(this.#stateDir, { recursive: true, mode: 0o700 });
        await mkdir(this.#runsDir, { recursive: true, mode: 0o700 });
        // Folders made by older versions may be wider: the agent's state is its own.
        await chmod(this.#stateDir, this.#isolation === 'users' ? 0o711 : 0o700);
        await chmod(this.#runsDir, 0o700);
        this.#foldersReady = true;
      }
      // The run folder and its small files are made synchronously: each trip through libuv's thread
      // pool costs more CPU than the syscall it carries, and a busy agent starts hundreds a second.
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch (error) {
        if (!isCode(error, 'EEXIST')) throw error;
        if (await this.#meta(dir)) throw new Error(`run ${key} was already started`);
        // A folder without meta.json is what a start that crashed half-way leaves behind.
        await rm(dir, { recursive: true, force: true });
        mkdirSync(dir, { mode: 0o700 });
      }
      created = true;

      const user = this.#isolation === 'users' ? await this.#users.ensure(lease.tenant) : null;
      const workdir = user ? await prepareUserWorkdir(lease, user, this.#stateDir, 'on this machine') : await prepareWorkdir(lease, this.#stateDir, 'on this machine');
      await linkInputs(workdir, lease, user);
      cgroup = await createRunCgroup(`${createHash('sha256').update(this.#runsDir).digest('hex').slice(0, 12)}-${key}`);
      const pid = await launchRun(this.#launcher, lease, dir, workdir, user, cgroup);
      const meta: RunMeta = { lease, pid, startedAt: Date.now(), workdir, procStart: (await readProcStat(pid))?.startTime ?? null, user, cgroup };
      writeAtomic(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
      this.#metas.set(dir, meta);
      this.#armWalltime(key, meta);
    } catch (error) {
      if (created) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      if (cgroup) await killCgroup(cgroup).catch(() => undefined);
      throw error;
    } finally {
      this.#starting.delete(key);
    }
  }

  /** The run's lease, workdir and user, from its meta.json (read once); null for an unknown run. */
  async runInfo(run: RunRef): Promise<RunInfo | null> {
    checkRef(run);
    const meta = await this.#meta(this.#runDir(run));
    return meta ? { lease: meta.lease, workdir: meta.workdir, user: meta.user ?? null } : null;
  }

  /** Stops a running run (SIGTERM to its group, SIGKILL after the grace); a no-op for ended or unknown runs. */
  async cancel(run: RunRef): Promise<void> {
    checkRef(run);
    const dir = this.#runDir(run);
    const meta = await this.#meta(dir);
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
    const present = new Set(live.map((name) => join(this.#runsDir, name)));
    for (const cache of [this.#metas, this.#ended, this.#running]) for (const dir of cache.keys()) if (!present.has(dir)) cache.delete(dir);
    for (const dir of this.#endedSaid) if (!present.has(dir)) this.#endedSaid.delete(dir);
    const now = Date.now();
    const statuses = await Promise.all(
      live.map((name) => {
        const dir = join(this.#runsDir, name);
        // A running run is looked at again when the launcher says it ended, else once a RECHECK_MS:
        // that catches what says nothing (a run of an earlier agent or launcher, one killed outright).
        const running = this.#running.get(dir);
        if (running && !this.#endedSaid.has(dir) && now - running.at < RECHECK_MS) return running.status;
        return this.#status(dir);
      }),
    );
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
    if (!(await this.#meta(dir))) throw new Error(`unknown run ${runKey(run)}`);
    return { data: '', nextOffset: offset };
  }

  /** Deletes a run's folder (not its workdir). Rejects while the run is still running. */
  async forget(run: RunRef): Promise<void> {
    checkRef(run);
    const dir = this.#runDir(run);
    const key = runKey(run);
    const status = await this.#status(dir);
    if (status?.state === 'running') throw new Error(`run ${key} is still running: cancel it and wait for it to end before forgetting it`);
    const meta = await this.#meta(dir);
    if (meta) await this.#reap(meta, status?.finishedAt ?? null);
    this.#clearTimers(key);
    this.#vanishedAt.delete(key);
    this.#reaped.delete(key);
    await removeRunDir(this.#runsDir, dir, key);
    this.#metas.delete(dir);
    this.#ended.delete(dir);
    this.#running.delete(dir);
    this.#endedSaid.delete(dir);
  }

  /** Clears this instance's timers; runs keep going and a later instance enforces their walltimes. */
  async close(): Promise<void> {
    for (const timer of [...this.#walltimeTimers.values(), ...this.#killTimers.values()]) clearTimeout(timer);
    this.#walltimeTimers.clear();
    this.#killTimers.clear();
    this.#launcher.close();
  }

  #runDir(run: RunRef): string {
    return join(this.#runsDir, runKey(run));
  }

  /** In `single-org` mode: the first org run here is the only one; any other is refused, naming the fix. */
  async #checkTenant(tenant: LeaseTenant): Promise<void> {
    if (this.#isolation !== 'single-org') return;
    const file = join(this.#stateDir, 'tenant.json');
    await mkdir(this.#stateDir, { recursive: true, mode: 0o700 });
    try {
      await writeFile(file, JSON.stringify({ orgId: tenant.orgId, orgName: tenant.orgName }) + '\n', { flag: 'wx', mode: 0o600 });
      return;
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw error;
    }
    const pinned = JSON.parse(await readFile(file, 'utf8')) as LeaseTenant;
    if (pinned.orgId === tenant.orgId) return;
    throw new Error(
      `this agent runs as uid ${process.getuid?.() ?? '?'}, not root, so it cannot keep orgs apart: it runs the jobs of org ${pinned.orgName} only ` +
        `(the first it ran, recorded in ${file}) and refuses org ${tenant.orgName}'s. Run the agent as root (each org then gets its own OS user), ` +
        `or set the local connector's isolation to 'none' (SUANWANG_ISOLATION=none for \`suanwang up\`) if everyone who can submit here may read each other's jobs and the agent's files`,
    );
  }

  /**
   * Kills whatever an ended run left behind (`cmd &` outliving the command, a `setsid` child): its
   * whole cgroup, or its process group without one. Done before the end is reported, so a run is
   * never `succeeded` while its processes still compute.
   */
  async #reap(meta: RunMeta, finishedAt: number | null): Promise<void> {
    const key = runKey(meta.lease);
    if (this.#reaped.has(key)) return;
    if (meta.cgroup) {
      if (!(await killCgroup(meta.cgroup))) return; // retried at the next look
    } else if (finishedAt !== null && Date.now() - finishedAt < GROUP_REAP_WINDOW_MS && isGroupAlive(meta.pid)) {
      // A process group id is free for reuse once its last member is gone: long after the end, the
      // id may name someone else's group, so only a recent end is reaped this way.
      signalGroup(meta.pid, 'SIGKILL');
    }
    this.#reaped.add(key);
  }

  async #status(dir: string): Promise<RunStatus | null> {
    const known = this.#ended.get(dir);
    if (known) return known;
    this.#endedSaid.delete(dir);
    const status = await this.#look(dir);
    if (status?.state === 'running') this.#running.set(dir, { status, at: Date.now() });
    else this.#running.delete(dir);
    if (status && status.state !== 'running') {
      const meta = await this.#meta(dir);
      if (meta) await this.#reap(meta, status.finishedAt);
      if (meta && this.#reaped.has(runKey(meta.lease))) this.#ended.set(dir, status);
    }
    return status;
  }

  /** The run's meta.json, read once; null while it is being started (or the folder is not a run). */
  async #meta(dir: string): Promise<RunMeta | null> {
    const known = this.#metas.get(dir);
    if (known) return known;
    const meta = await readMeta(dir);
    if (meta) this.#metas.set(dir, meta);
    return meta;
  }

  async #look(dir: string): Promise<RunStatus | null> {
    const meta = await this.#meta(dir);
    if (!meta) return null; // being started, or not ours
    const key = runKey(meta.lease);
    let exit = await readExit(dir);
    let stop = await readStop(dir);
    if (stop) this.#escalate(key, meta, stop);
    if (!exit) {
      if (await isRunAlive(meta)) {
        if (!stop && walltimeLeftMs(meta) <= 0) await this.#stop(dir, meta, 'walltime-exceeded');
        return this.#statusOf(meta, 'running', null, null, null);
      }
      // Its exit file may have been written between the first look and the liveness check.
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
      // Killed from outside with what records its end (OOM killer, a reboot, kill -9): nothing recorded how it ended.
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
    if ((await readExit(dir)) || !(await isRunAlive(meta))) return;
    await writeStop(dir, reason);
    this.#running.delete(dir); // looked at again on the next pass
    signalGroup(meta.pid, 'SIGTERM');
    if (meta.cgroup) await signalCgroup(meta.cgroup, 'SIGTERM');
    const key = runKey(meta.lease);
    this.#clearWalltime(key);
    if (!this.#killTimers.has(key)) {
      const timer = setTimeout(() => {
        this.#killTimers.delete(key);
        hardKill(meta);
        this.#running.delete(dir); // a killed run may say nothing: look again
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
    hardKill(meta);
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


/** SIGKILL for everything of a stopped run that outlived its grace. */
function hardKill(meta: RunMeta): void {
  if (isGroupAlive(meta.pid)) signalGroup(meta.pid, 'SIGKILL');
  if (meta.cgroup) killCgroup(meta.cgroup).catch(() => undefined); // the next look retries
}

/**
 * Starts the run through the launcher (as the agent's user: it opens the output files and writes the
 * exit marker), which runs the command as `user` when given (launcher.ts). What the run gets is
 * written to its `spec` (0600, in its 0700 folder). Resolves to the run's pid (its process group).
 */
async function launchRun(launcher: Launcher, lease: Lease, dir: string, workdir: string, user: OrgUser | null, cgroup: RunCgroup | null): Promise<number> {
  const env = user ? userEnvironment(runEnvironment(lease), lease, user, workdir) : runEnvironment(lease);
  const entries = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const bad = Object.keys(env).filter((name) => name === '' || name.includes('='));
  if (bad.length > 0) throw new Error(`environment variable names ${bad.map((n) => JSON.stringify(n)).join(', ')} cannot be set`);
  writeRunSpec(dir, { uid: user?.uid ?? null, gid: user?.gid ?? null, workdir, cgroupProcs: cgroup ? cgroupProcsFile(cgroup) : null, environment: entries, argv: lease.command });
  try {
    return await launcher.launch(dir);
  } catch (error) {
    throw new Error(`could not start ${lease.command[0]}: ${(error as Error).message}`);
  }
}

/**
 * Alive means: the pid exists and (where /proc tells) is the same process we started. A zombie counts:
 * the native launcher records a command's end before it reaps it, so an ended run is never seen gone
 * without its exit file.
 */
async function isRunAlive(meta: RunMeta): Promise<boolean> {
  try {
    process.kill(meta.pid, 0);
  } catch {
    return false; // ESRCH, or EPERM: another user's process now has that pid
  }
  if (!HAS_PROC) return true;
  const info = await readProcStat(meta.pid);
  if (info === null) return false;
  if (info.state === 'X') return false;
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
    text = readFileSync(`/proc/${pid}/stat`, 'utf8'); // procfs: never waits on a disk
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
    return JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as RunMeta; // small and local (see run-io.ts)
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



