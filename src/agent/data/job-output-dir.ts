import { lstat, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { SuanwangError } from '../../core/errors.js';
import { datasetPath } from '../../data/index.js';

/**
 * The folder of a job's output inside its workdir, resolved: `dir` (relative, checked again here, as
 * it came over the wire) must name a folder that exists and whose real path stays inside the
 * workdir's: a symlink anywhere on the way that leads out is refused, naming it. The job has ended
 * when this runs, so the path does not move under it (scanDataset then refuses symlinks below it
 * and reads every file with O_NOFOLLOW).
 */
export async function jobOutputDir(workdir: string, dir: string): Promise<string> {
  const clean = datasetPath(dir, 'dir');
  const path = join(workdir, ...clean.split('/'));
  const info = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    throw error;
  });
  if (info === null) {
    throw new SuanwangError('not_found', `output dir ${clean} does not exist in the job's workdir ${workdir}: the job wrote no output there`, {
      field: 'dir',
      hint: `write the output files under ${clean}/ (relative to the workdir), or name the folder the job writes with --output NAME:DIR`,
    });
  }
  const [real, root] = await Promise.all([realpath(path), realpath(workdir)]);
  if (real !== root && !real.startsWith(root + sep)) {
    throw new SuanwangError('forbidden', `output dir ${clean} leads out of the job's workdir (to ${real}) through a symlink`, {
      field: 'dir',
      hint: 'write the output files into a real folder inside the workdir',
    });
  }
  if (!(await lstat(real)).isDirectory()) {
    throw new SuanwangError('invalid_field', `output dir ${clean} is not a folder`, { field: 'dir', hint: 'an output is a folder of files: put the file in a folder and name that' });
  }
  return real;
}
