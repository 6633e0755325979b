/**
 * The columns of a CSV header line: name → index. The trace CSVs are plain (no quoting, no commas
 * in values), so a split on commas is exact; a quoted line would show up as a wrong field count.
 * Throws when a required column is missing, naming the columns found.
 */
export function columnsOf<K extends string>(headerLine: string, required: readonly K[], source: string): Record<K, number> {
  const names = headerLine.replace(/^\uFEFF/, '').trim().split(',').map((s) => s.trim());
  const out = {} as Record<K, number>;
  const missing: string[] = [];
  for (const k of required) {
    const i = names.indexOf(k);
    if (i < 0) missing.push(k);
    else out[k] = i;
  }
  if (missing.length > 0) {
    throw new Error(
      `${source}: the header line lacks column(s) ${missing.join(', ')} (found: ${names.join(', ')}); ` +
        `expected ${required.join(',')}`,
    );
  }
  return out;
}
