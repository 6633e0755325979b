import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LeaseTenant } from '../../core/agent-protocol.js';
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

  constructor(stateDir: string) {
    this.#mapFile = join(stateDir, 'users.json');
  }

  /** The org's user, created with useradd when the host has none yet; rejects when that fails. */
  ensure(tenant: LeaseTenant): Promise<OrgUser> {
    const next = this.#queue.then(() => this.#ensure(tenant));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #ensure(tenant: LeaseTenant): Promise<OrgUser> {
    if (typeof tenant?.orgId !== 'string' || tenant.orgId === '') throw new Error('the lease names no org (tenant.orgId): this agent runs each org as its own user and cannot run it');
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
    await writeAtomic(this.#mapFile, JSON.stringify(map, null, 2) + '\n');
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
