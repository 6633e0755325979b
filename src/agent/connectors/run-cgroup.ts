import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { readFile, mkdir, rmdir, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A run's control group: every process the run starts, also those that leave its process group
 * (`setsid`, a double fork), stays in it, so ending a run can kill all of them. cgroup v2 is used
 * where this process can make groups in it (kill with `cgroup.kill`, or freeze and kill each pid);
 * else the v1 freezer hierarchy (freeze, kill each pid, thaw). Without either (no permission, not
 * Linux) a connector falls back to the process group. The group is made below this process's own
 * group, in `suanwang/`, and its path is recorded by the connector so a restarted agent finds it.
 */

export interface RunCgroup {
  readonly kind: 'v2' | 'v1-freezer';
  /** Absolute path of the group's folder. */
  readonly path: string;
}

/** Makes the group `name` (letters, digits, '.', '_', '-'); null when no usable hierarchy lets us. */
export async function createRunCgroup(name: string): Promise<RunCgroup | null> {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) throw new RangeError(`cgroup name '${name}' is not a plain folder name`);
  for (const parent of await parents()) {
    const path = join(parent.base, 'suanwang', name);
    try {
      // Once a group was made on a hierarchy, the next is one mkdir (the parent stays).
      if (parent.proven) {
        try {
          mkdirSync(path); // cgroupfs: never waits on a disk
          return { kind: parent.kind, path };
        } catch {
          // it exists, or `suanwang/` was removed: the full way below
        }
      }
      await mkdir(path, { recursive: true });
      await access(join(path, 'cgroup.procs'));
      parent.proven = true;
      return { kind: parent.kind, path };
    } catch {
      // not ours to write, or not mounted as we thought: try the next hierarchy
    }
  }
  return null;
}

/** The file a process writes its pid into to join the group. */
export function cgroupProcsFile(group: RunCgroup): string {
  return join(group.path, 'cgroup.procs');
}

/** The pids in the group ([] when it is gone). */
export async function cgroupPids(group: RunCgroup): Promise<number[]> {
  try {
    const text = readFileSync(cgroupProcsFile(group), 'utf8'); // cgroupfs: never waits on a disk
    return text.split('\n').filter((l) => l !== '').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

/** Sends `signal` to every process in the group. */
export async function signalCgroup(group: RunCgroup, signal: NodeJS.Signals): Promise<void> {
  for (const pid of await cgroupPids(group)) signalPid(pid, signal);
}

/**
 * SIGKILLs every process in the group, frozen first so none can fork a new one in between, and
 * removes the group once it is empty. Resolves true when the group is empty (or gone).
 */
export async function killCgroup(group: RunCgroup): Promise<boolean> {
  // Most runs have ended whole: an empty group is simply removed (rmdir refuses one with processes).
  try {
    rmdirSync(group.path); // cgroupfs: never waits on a disk
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return true;
  }
  for (let round = 0; round < 50; round++) {
    if ((await cgroupPids(group)).length === 0) break;
    if (group.kind === 'v2') {
      if (!(await tryWrite(join(group.path, 'cgroup.kill'), '1'))) await freezeAndKill(group, 'cgroup.freeze', '1', '0');
    } else {
      await freezeAndKill(group, 'freezer.state', 'FROZEN', 'THAWED');
    }
    // Killed processes leave the group once the kernel has torn them down: wait a beat for that.
    await new Promise((resolve) => setTimeout(resolve, 10 + round * 10));
  }
  const empty = (await cgroupPids(group)).length === 0;
  if (empty) await rmdir(group.path).catch(() => undefined);
  return empty;
}

async function freezeAndKill(group: RunCgroup, file: string, frozen: string, thawed: string): Promise<void> {
  const froze = await tryWrite(join(group.path, file), frozen);
  try {
    for (const pid of await cgroupPids(group)) signalPid(pid, 'SIGKILL');
  } finally {
    // A frozen process does not die until thawed.
    if (froze) await tryWrite(join(group.path, file), thawed);
  }
}

async function tryWrite(path: string, text: string): Promise<boolean> {
  try {
    await writeFile(path, text);
    return true;
  } catch {
    return false;
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

type Parent = { kind: RunCgroup['kind']; base: string; proven?: boolean };
let knownParents: Promise<Parent[]> | undefined;

/** Where this process may make groups (read once: a process does not move between groups here). */
function parents(): Promise<Parent[]> {
  knownParents ??= findParents();
  return knownParents;
}

/** Where this process may make groups: its own v2 group, then its own v1 freezer group. */
async function findParents(): Promise<Parent[]> {
  let mounts: string;
  let own: string;
  try {
    [mounts, own] = await Promise.all([readFile('/proc/self/mounts', 'utf8'), readFile('/proc/self/cgroup', 'utf8')]);
  } catch {
    return [];
  }
  const found: Parent[] = [];
  const lines = mounts.split('\n').map((l) => l.split(' '));
  const ownPath = (match: (controllers: string) => boolean): string | null => {
    for (const line of own.split('\n')) {
      if (line.split(':').length < 3) continue;
      const [controllers, path] = splitRest(line);
      if (match(controllers)) return path;
    }
    return null;
  };
  const v2 = lines.find((f) => f[2] === 'cgroup2');
  const v2Own = ownPath((c) => c === '');
  if (v2?.[1] && v2Own !== null) found.push({ kind: 'v2', base: join(v2[1], v2Own) });
  const freezer = lines.find((f) => f[2] === 'cgroup' && (f[3] ?? '').split(',').includes('freezer'));
  const freezerOwn = ownPath((c) => c.split(',').includes('freezer'));
  if (freezer?.[1] && freezerOwn !== null) found.push({ kind: 'v1-freezer', base: join(freezer[1], freezerOwn) });
  return found;
}

/** `id:controllers:path` → [controllers, path] (the path may itself hold ':'). */
function splitRest(line: string): [string, string] {
  const first = line.indexOf(':');
  const second = line.indexOf(':', first + 1);
  return [line.slice(first + 1, second), line.slice(second + 1)];
}
