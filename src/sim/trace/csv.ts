import { count, type ReadReport } from './types.js';

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

/**
 * The data lines of a plain CSV whose first line is a header naming at least `required` columns:
 * `row()` takes the header silently, skips blank lines, and counts a line whose field count differs
 * from the header's as `too-few-fields` in the report.
 */
export class CsvRows<K extends string> {
  #cols: Record<K, number> | undefined;
  #width = 0;
  constructor(readonly required: readonly K[]) {}

  /** The fields of a data line and the column indices, or null for the header, a blank or a skipped line. */
  row(text: string, report: ReadReport, lineNo: number): { readonly f: string[]; readonly c: Record<K, number> } | null {
    if (this.#cols === undefined) {
      this.#cols = columnsOf(text, this.required, report.source);
      this.#width = text.split(',').length;
      return null;
    }
    const trimmed = text.trim();
    if (trimmed === '') return null;
    const f = trimmed.split(',');
    if (f.length !== this.#width) {
      count(report.skipped, 'too-few-fields', lineNo);
      return null;
    }
    return { f, c: this.#cols };
  }
}
