import { lchown, mkdir, chown, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease } from '../../core/agent-protocol.js';
import { DATASET_NAME } from '../../data/index.js';

/**
 * Shows a lease's staged inputs in its workdir: `inputs/<name>` links to the version's read-only
 * files (made by DataAgent.prepare, owned by the org's user). Names come from the control plane's
 * dataset names, which hold no "/" — checked again here, as the workdir is the job's.
 */
export async function linkInputs(workdir: string, lease: Lease, user: { uid: number; gid: number } | null): Promise<void> {
  const inputs = (lease.inputs ?? []).filter((i) => i.path !== undefined);
  if (inputs.length === 0) return;
  const dir = join(workdir, 'inputs');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  if (user) await chown(dir, user.uid, user.gid);
  for (const input of inputs) {
    if (!DATASET_NAME.test(input.name)) throw new Error(`input name ${JSON.stringify(input.name)} cannot be a file name`);
    const link = join(dir, input.name);
    await rm(link, { force: true });
    await symlink(input.path!, link);
    if (user) await lchown(link, user.uid, user.gid);
  }
}
