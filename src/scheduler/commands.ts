import type { CenterView } from './types.js';

/**
 * The name a center's command list is checked against: a bare program name, or null for a path
 * (absolute, or relative like `./train.sh` or `bin/run`, resolved against the job's working
 * directory at the center), which names its own file and is always accepted.
 */
export function programKey(program: string): string | null {
  return program.includes('/') ? null : program;
}

/** True when `center` can start `program`: it did not list its commands, or the list has it. */
export function centerHasProgram(center: CenterView, program: string): boolean {
  if (center.commands === null) return true;
  const key = programKey(program);
  return key === null || center.commands.has(key);
}
