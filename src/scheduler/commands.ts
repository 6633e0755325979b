import type { CenterView } from './types.js';

/**
 * The name a center's command list is checked against: the basename of a path, or null for an
 * absolute path, which names its own file and is always accepted.
 */
export function programKey(program: string): string | null {
  if (program.startsWith('/')) return null;
  const slash = program.lastIndexOf('/');
  return slash < 0 ? program : program.slice(slash + 1);
}

/** True when `center` can start `program`: it did not list its commands, or the list has it. */
export function centerHasProgram(center: CenterView, program: string): boolean {
  if (center.commands === null) return true;
  const key = programKey(program);
  return key === null || center.commands.has(key);
}
