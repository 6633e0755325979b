import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Makes the home folder private: every folder 0700 and file 0600 that this process owns (older
 * versions left 0755/0644, PGlite's files included), except the jobs' workdirs (`centers/<name>/work`,
 * owned by the orgs' users). With per-org users, the home, `centers` and each center's folder are
 * 0711 instead: a job must reach its workdir below them by name, but can list and read nothing there.
 * Makes `centers/` when missing.
 */
export function secureHome(home: string, searchable: boolean): void {
  // Made here, not later under umask 077: the agents' folders go below it and must be reachable.
  mkdirSync(join(home, 'centers'), { recursive: true });
  const uid = process.getuid?.();
  const walk = (path: string, depth: number, parent: string | null): void => {
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (!info || info.isSymbolicLink() || (uid !== undefined && info.uid !== uid)) return;
    if (!info.isDirectory()) {
      if ((info.mode & 0o077) !== 0) chmodSync(path, info.mode & 0o700);
      return;
    }
    const isCenterWork = depth === 3 && parent === 'centers-child' && path.endsWith('/work');
    if (isCenterWork) return;
    const open = searchable && (depth === 0 || (depth === 1 && path.endsWith('/centers')) || parent === 'centers');
    chmodSync(path, open ? 0o711 : 0o700);
    const kind = depth === 1 && path.endsWith('/centers') ? 'centers' : parent === 'centers' ? 'centers-child' : null;
    for (const name of readdirSync(path)) walk(join(path, name), depth + 1, kind);
  };
  walk(home, 0, null);
}
