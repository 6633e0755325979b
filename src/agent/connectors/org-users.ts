import { chownSync, mkdirSync } from 'node:fs';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { Lease, LeaseTenant } from '../../core/agent-protocol.js';
import { writeAtomic } from '../run-io.js';

/**
 * One unprivileged OS user per org, so that the jobs of two orgs on one host cannot read, write or
 * signal each other's files and processes, nor the agent's. The user is created on first use with
 * `useradd --system` (the host's own user database is the registry: it keeps uids unique across
 * every agent on the host, and `ps`/`ls -l` show whose a process or file is). Its name is derived
 * from the org id only (`sw-` + 16 hex of its SHA-256), so a renamed org keeps its user and files.
 * The mapping is also recorded in `<stateDir>/users.json` (org id → user, uid, gid, org name) for the
 * operator.
 */

export interface OrgUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The OS user name of an org: stable, at most 19 characters, valid for useradd and Slurm. */
export function orgUserName(orgId: string, prefix = 'sw-'): string {
  return prefix + createHash('sha256').update(orgId).digest('hex').slice(0, 16);
}

/** Creates (once) and remembers the per-org users of one agent; calls are serialised. */
export class OrgUsers {
  readonly #mapFile: string;
  #queue: Promise<unknown> = Promise.resolve();
  /** Users already made or found by this instance: a start then spawns nothing to look one up. */
  readonly #known = new Map<string, OrgUser>();

  constructor(stateDir: string) {
    this.#mapFile = join(stateDir, 'users.json');
  }

  /** The org's user, created with useradd when the host has none yet; rejects when that fails. */
  ensure(tenant: LeaseTenant): Promise<OrgUser> {
    const known = this.#known.get(tenant?.orgId);
    if (known) return Promise.resolve(known);
    const next = this.#queue.then(() => this.#ensure(tenant));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #ensure(tenant: LeaseTenant): Promise<OrgUser> {
    if (typeof tenant?.orgId !== 'string' || tenant.orgId === '') throw new Error('the lease names no org (tenant.orgId): this agent runs each org as its own user and cannot run it');
    // Starts that queued up behind the one that found the user need not look again.
    const known = this.#known.get(tenant.orgId);
    if (known) return known;
    const name = orgUserName(tenant.orgId);
    let user = await lookupUser(name);
    if (!user) {
      const comment = `suanwang org ${tenant.orgName}`.replace(/[^A-Za-z0-9 ._-]/g, '_').slice(0, 64);
      const created = await run('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--user-group', '--comment', comment, name]);
      // Exit 9: another agent on this host created it meanwhile.
      if (created.code !== 0 && created.code !== 9) throw new Error(`could not create the OS user ${name} for org ${tenant.orgName}: useradd: ${created.stderr.trim()}`);
      user = await lookupUser(name);
      if (!user) throw new Error(`useradd made no user ${name} for org ${tenant.orgName}`);
    }
    if (user.uid === 0 || user.gid === 0) throw new Error(`the OS user ${name} of org ${tenant.orgName} is privileged (uid ${user.uid}, gid ${user.gid}); refusing to run jobs as it`);
    await this.#record(tenant, user);
    this.#known.set(tenant.orgId, user);
    return user;
  }

  async #record(tenant: LeaseTenant, user: OrgUser): Promise<void> {
    let map: Record<string, unknown> = {};
    try {
      map = JSON.parse(await readFile(this.#mapFile, 'utf8')) as Record<string, unknown>;
    } catch {
      // none yet, or unreadable: it is rebuilt from the host's users as orgs come
    }
    const entry = { user: user.name, uid: user.uid, gid: user.gid, orgName: tenant.orgName };
    if (JSON.stringify(map[tenant.orgId]) === JSON.stringify(entry)) return;
    map[tenant.orgId] = entry;
    writeAtomic(this.#mapFile, JSON.stringify(map, null, 2) + '\n');
  }
}

/** The user's uid and primary gid from the host's user database, or null when there is no such user. */
export async function lookupUser(name: string): Promise<OrgUser | null> {
  const result = await run('getent', ['passwd', name]);
  if (result.code !== 0) return null;
  const fields = result.stdout.trim().split(':');
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return null;
  return { name, uid, gid };
}

function run(file: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error && code === -1 ? error.message : '') });
    });
  });
}

/** PATH of a job run as an org's user (the agent's own may name folders the user cannot search). */
export const USER_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * The environment a job of `user` gets: `env` (the run's, see run-io.ts runEnvironment) with nothing
 * of the agent's own home, temp folder or PATH (root's may list folders the user cannot search, and
 * a shell then says "permission denied" for every missing program); its home is its workdir. The
 * lease's own variables still win. Changes and returns `env`.
 */
export function userEnvironment(env: Record<string, string>, lease: Lease, user: OrgUser, workdir: string): Record<string, string> {
  const ours: Record<string, string | undefined> = { PATH: USER_PATH, HOME: workdir, USER: user.name, LOGNAME: user.name, TMPDIR: undefined };
  for (const [name, value] of Object.entries(ours)) {
    if (lease.env[name] !== undefined) continue;
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** setpriv's arguments that run a program as the org's user, with no groups and no way back up (no_new_privs). */
export function dropTo(user: OrgUser): string[] {
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--no-new-privs', '--'];
}

/** Runs a short `sh -c script` as the org's user (stdin: `input`); resolves to its exit code and stderr. */
export function runAsUser(user: OrgUser, script: string, args: readonly string[], input = ''): Promise<{ code: number; stderr: string }> {
  return new Promise((resolvePromise) => {
    const [file, ...rest] = dropTo(user);
    const child = spawn(file!, [...rest, '/bin/sh', '-c', script, 'sh', ...args], { stdio: ['pipe', 'ignore', 'pipe'], cwd: '/', env: { PATH: USER_PATH } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined); // the script may end without reading
    child.once('error', (error) => resolvePromise({ code: -1, stderr: error.message }));
    child.once('close', (code) => resolvePromise({ code: code ?? -1, stderr }));
    child.stdin.end(input);
  });
}

/**
 * A folder `<parent>/<name>` owned by the org's user, mode 0700, made if missing (`parent` is made
 * 0711: searchable, not listable). Rejects when the name is taken by anything else: a job never gets
 * a folder of another user, nor one the agent would follow a link through.
 */
export async function ensureUserFolder(parent: string, name: string, user: OrgUser): Promise<{ dir: string; created: boolean }> {
  const dir = join(parent, name);
  // The common case, a new folder in a parent already made: one mkdir and one chown, synchronous
  // (a trip through libuv's thread pool costs more CPU than the syscall; a busy agent makes hundreds a second).
  if (readyParents.has(parent)) {
    try {
      mkdirSync(dir, { mode: 0o700 });
      chownSync(dir, user.uid, user.gid);
      return { dir, created: true };
    } catch {
      // it exists (checked below), or the parent went away (made again below)
    }
  }
  await mkdir(parent, { recursive: true, mode: 0o711 });
  await chmod(parent, 0o711);
  readyParents.add(parent);
  const info = await lstat(dir).catch(() => null);
  if (info === null) {
    await mkdir(dir, { mode: 0o700 });
    await chown(dir, user.uid, user.gid);
    return { dir, created: true };
  }
  if (!info.isDirectory() || info.uid !== user.uid) {
    throw new Error(`${dir} exists and is not a folder of the OS user ${user.name}; remove it or give the job another id`);
  }
  return { dir, created: false };
}

/** The first folder above `dir` that others may not search (mode o+x), or null when there is none. */
/** Parent folders this process has made and set to 0711 (ensureUserFolder). */
const readyParents = new Set<string>();

/** closedAncestor's answers for a workdir's parent, fresh for a minute: the same few folders are asked about for every run. */
const ancestorAnswers = new Map<string, { at: number; closed: string | null }>();
const ANCESTOR_ANSWER_MS = 60_000;

/** closedAncestor(dir) from a recent answer for a folder in the same parent, or looked up. */
async function closedAncestorOfChild(dir: string): Promise<string | null> {
  const parent = resolve(dir, '..');
  const known = ancestorAnswers.get(parent);
  if (known && Date.now() - known.at < ANCESTOR_ANSWER_MS) return known.closed;
  const info = await stat(parent).catch(() => null);
  const closed = info === null || (info.mode & 0o001) === 0 ? parent : await closedAncestor(parent);
  ancestorAnswers.set(parent, { at: Date.now(), closed });
  return closed;
}

/** The first folder above `dir` that others cannot search (mode o+x unset, or missing), or null. */
export async function closedAncestor(dir: string): Promise<string | null> {
  for (let path = resolve(dir, '..'); ; path = resolve(path, '..')) {
    const info = await stat(path).catch(() => null);
    if (info === null || (info.mode & 0o001) === 0) return path;
    if (path === resolve(path, '..')) return null;
  }
}

/**
 * The workdir of a run under an org's user: a fresh `<stateDir>/work/<jobId>` (0700, owned by the
 * user), or the lease's own, which the user must be able to enter (`where` says where it was looked
 * for). The lease's files are written by a process running as that user, so a link planted in the
 * folder cannot make the agent write anywhere the user could not.
 */
export async function prepareUserWorkdir(lease: Lease, user: OrgUser, stateDir: string, where: string): Promise<string> {
  let workdir = lease.workdir;
  const unreachable = (why: string): Error =>
    new Error(`workdir ${workdir} cannot be entered by org ${lease.tenant.orgName}'s user ${user.name} (${why}); every folder above it must be searchable by others (mode o+x)`);
  if (workdir === null) {
    workdir = (await ensureUserFolder(join(stateDir, 'work'), lease.jobId, user)).dir;
    // Ours, the user's, 0700: reachable when every folder above it is searchable (checked here, without a process).
    const closed = await closedAncestorOfChild(workdir);
    if (closed !== null) throw unreachable(`${closed} is not searchable by others`);
  } else {
    const info = await stat(workdir).catch(() => null);
    if (info === null) throw new Error(`workdir ${workdir} does not exist ${where}`);
    if (!info.isDirectory()) throw new Error(`workdir ${workdir} is not a directory`);
    const check = await runAsUser(user, 'cd -- "$1"', [workdir]);
    if (check.code !== 0) throw unreachable(check.stderr.trim());
  }
  for (const [path, text] of Object.entries(lease.files ?? {})) {
    const target = resolve(workdir, path);
    if (isAbsolute(path) || !target.startsWith(resolve(workdir) + sep)) throw new Error(`file ${path} would be written outside the working directory`);
    const wrote = await runAsUser(user, 'cd -- "$1" && mkdir -p -- "$(dirname -- "$2")" && cat > "$2"', [workdir, target], text);
    if (wrote.code !== 0) throw new Error(`could not write ${path} into ${workdir} as ${user.name}: ${wrote.stderr.trim()}`);
  }
  return workdir;
}
