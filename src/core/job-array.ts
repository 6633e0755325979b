/**
 * Job arrays, as `sbatch --array`: `"1-1000"`, `"0-99:2"` (a step), `"1,3,5-7"` (a list of those).
 * Each index becomes one job with SUANWANG_ARRAY_INDEX and SUANWANG_ARRAY_ID in its environment.
 */

/** The most elements one array (and one batch, counting every array element) may create. */
export const MAX_ARRAY_ELEMENTS = 10_000;
/** The largest array index (as Slurm's default MaxArraySize, widened). */
export const MAX_ARRAY_INDEX = 4_000_000;

/** The indices of an array spec in ascending order, without repeats; or why the spec is not one. */
export function parseArraySpec(spec: string): { readonly indices: readonly number[] } | { readonly error: string } {
  const text = spec.trim();
  if (text === '') return { error: 'is empty; give indices such as "1-100", "0-99:2" or "1,3,5-7"' };
  const seen = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) return { error: `"${part}" is not an index, a range a-b or a stepped range a-b:s` };
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (last < first) return { error: `range "${part}" ends before it starts` };
    if (step < 1) return { error: `range "${part}" has a step below 1` };
    if (last > MAX_ARRAY_INDEX) return { error: `index ${last} is above the largest, ${MAX_ARRAY_INDEX}` };
    for (let i = first; i <= last; i += step) {
      seen.add(i);
      if (seen.size > MAX_ARRAY_ELEMENTS) return { error: `has more than ${MAX_ARRAY_ELEMENTS} elements` };
    }
  }
  return { indices: [...seen].sort((a, b) => a - b) };
}
