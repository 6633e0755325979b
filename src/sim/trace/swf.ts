/*
 * The Standard Workload Format (Parallel Workloads Archive, Feitelson et al.), one line at a time.
 *
 * Header: lines starting with `;`. `; Key: value` lines are kept (repeated keys in order); the
 * useful ones are MaxProcs (falling back to MaxNodes), UnixStartTime, TimeZone, TimeZoneString.
 *
 * A job is 18 whitespace-separated fields, -1 meaning unknown:
 *   1 id · 2 submit · 3 wait · 4 run time · 5 allocated processors · 6 avg CPU time · 7 used memory ·
 *   8 requested processors · 9 requested time · 10 requested memory (KB per processor) · 11 status ·
 *   12 user · 13 group · 14 executable · 15 queue · 16 partition · 17 preceding job · 18 think time
 *
 * What a line turns into (every fallback is counted in the report under the name in quotes):
 *   - fewer than 18 fields, or a field that is not a number: skipped ("too-few-fields", "not-a-number");
 *     more than 18: the first 18 are used ("extra-fields-ignored").
 *   - submit time < 0: skipped ("submit-time-unknown"); run time < 0: skipped ("run-time-unknown").
 *   - processors: allocated (5); if unknown (<= 0), requested (8) ("processors-from-request"); if that
 *     is unknown too, 1 ("processors-unknown-set-to-1"). More than the machine's MaxProcs: clamped
 *     to MaxProcs ("processors-clamped-to-machine"), or the job could never run.
 *   - requested time: field 9; if unknown (<= 0), the actual run time ("requested-time-unknown"); if
 *     shorter than the run (the job overran its request and was let be), raised to the run time
 *     ("requested-time-below-run"), so the walltime stays the upper bound the scheduler assumes.
 *   - status: 1 completed; 0 failed; 5 cancelled. The checkpoint codes 2 and 3 (partial run, more to
 *     come / last part) count as completed, 4 (last part, failed) as failed. -1 or any other code:
 *     completed ("status-unknown"): the job did run for its run time, which is what the replay needs.
 *   - a cancelled job (5) with run time 0 never ran: it held nothing, so it is skipped
 *     ("cancelled-before-start"), not replayed as a zero-second job that would flatter the waits.
 *     A cancelled job that ran (run time > 0) is kept: it held its processors until cancelled.
 *   - requested memory (10) is KB per processor; kept as MiB in all when known.
 *   - user (12): kept as a string when known; wait (3): kept as `traceWaitSeconds` when known.
 */
import { count, emptyReport, noteJob, type ReadReport, type TraceHeader, type TraceJob, type TraceStatus } from './types.js';

export interface SwfOptions {
  /** The home cluster of every job (the machine): `hpc2n`. */
  readonly cluster: string;
  /** The file name, for the report. */
  readonly source: string;
}

const HEADER_LINE = /^;\s*([A-Za-z][A-Za-z0-9 _-]*?)\s*:\s*(.*?)\s*$/;
const WHITESPACE = /\s+/;

/** SWF status code → our status; undefined for codes the format does not define. */
function statusOf(code: number): TraceStatus | undefined {
  switch (code) {
    case 1:
    case 2:
    case 3:
      return 'completed';
    case 0:
    case 4:
      return 'failed';
    case 5:
      return 'cancelled';
    default:
      return undefined;
  }
}

/** Reads an SWF file one line at a time: header lines first (see `header()`), then jobs. */
export class SwfParser {
  readonly report: ReadReport;
  readonly #cluster: string;
  readonly #fields: Record<string, string[]> = {};
  #maxProcs: number | undefined;
  /** Per line: the first 18 fields as numbers, and where each field starts (scratch reused line to line). */
  readonly #values = new Float64Array(18);
  readonly #starts = new Int32Array(19);

  constructor(options: SwfOptions) {
    this.#cluster = options.cluster;
    this.report = emptyReport(options.source);
  }

  /** The header as read so far (complete once the first job line has been fed). */
  header(): TraceHeader {
    const num = (key: string): number | undefined => {
      const v = this.#fields[key]?.[0];
      if (v === undefined) return undefined;
      const n = Number(v.split(WHITESPACE)[0]);
      return Number.isFinite(n) ? n : undefined;
    };
    const maxProcs = num('MaxProcs') ?? num('MaxNodes');
    const maxNodes = num('MaxNodes');
    const start = num('UnixStartTime');
    const tz = num('TimeZone');
    const tzName = this.#fields['TimeZoneString']?.[0];
    return {
      format: 'swf',
      source: this.report.source,
      startEpochS: start ?? null,
      startEpochSource: start === undefined ? 'unknown' : 'trace',
      requestedTime: 'recorded',
      clusters: [this.#cluster],
      ...(maxProcs === undefined ? {} : { maxProcs }),
      ...(maxNodes === undefined ? {} : { maxNodes }),
      ...(tz === undefined ? {} : { timeZoneS: tz }),
      ...(tzName === undefined ? {} : { timeZoneName: tzName }),
      fields: this.#fields,
    };
  }

  /** True for a header or comment line (`;`), which `line` only records. */
  static isComment(text: string): boolean {
    return text.trimStart().startsWith(';');
  }

  /** Feeds one line: a job, or null for a header, blank or skipped line (skips are counted). */
  line(text: string): TraceJob | null {
    const report = this.report;
    const lineNo = ++report.lines;
    const trimmed = text.trim();
    if (trimmed === '') return null;
    if (trimmed.startsWith(';')) {
      const m = HEADER_LINE.exec(trimmed);
      if (m) {
        const key = m[1]!;
        (this.#fields[key] ??= []).push(m[2]!);
        if (key === 'MaxProcs' || (key === 'MaxNodes' && this.#maxProcs === undefined)) {
          const n = Number(m[2]!.split(WHITESPACE)[0]);
          if (Number.isFinite(n) && n > 0) this.#maxProcs = n;
        }
      }
      return null;
    }
    const v = this.#values;
    const fields = splitNumbers(trimmed, v, this.#starts);
    if (fields < 18) {
      count(report.skipped, 'too-few-fields', lineNo);
      return null;
    }
    if (fields > 18) count(report.repaired, 'extra-fields-ignored', lineNo);
    for (let i = 0; i < 18; i++) {
      if (!Number.isFinite(v[i]!)) {
        count(report.skipped, 'not-a-number', lineNo);
        return null;
      }
    }
    const field = (i: number): string => trimmed.slice(this.#starts[i]!, this.#starts[i + 1]!).trim();
    const submitAt = v[1]!;
    const wait = v[2]!;
    const run = v[3]!;
    const code = v[10]!;
    if (submitAt < 0) {
      count(report.skipped, 'submit-time-unknown', lineNo);
      return null;
    }
    if (run < 0) {
      count(report.skipped, 'run-time-unknown', lineNo);
      return null;
    }
    let status = statusOf(code);
    if (status === 'cancelled' && run === 0) {
      count(report.skipped, 'cancelled-before-start', lineNo);
      return null;
    }
    if (status === undefined) {
      count(report.repaired, 'status-unknown', lineNo);
      status = 'completed';
    }

    let procs = v[4]!;
    if (!(procs > 0)) {
      if (v[7]! > 0) {
        procs = v[7]!;
        count(report.repaired, 'processors-from-request', lineNo);
      } else {
        procs = 1;
        count(report.repaired, 'processors-unknown-set-to-1', lineNo);
      }
    }
    if (this.#maxProcs !== undefined && procs > this.#maxProcs) {
      procs = this.#maxProcs;
      count(report.repaired, 'processors-clamped-to-machine', lineNo);
    }

    let requested = v[8]!;
    if (!(requested > 0)) {
      requested = run;
      count(report.repaired, 'requested-time-unknown', lineNo);
    } else if (requested < run) {
      requested = run;
      count(report.repaired, 'requested-time-below-run', lineNo);
    }

    const memKbPerProc = v[9]!;
    const user = v[11]!;
    const job: TraceJob = {
      id: field(0),
      submitAt,
      runSeconds: run,
      requestedSeconds: requested,
      cpus: procs,
      gpus: 0,
      homeCluster: this.#cluster,
      status,
      ...(memKbPerProc > 0 ? { memoryMiB: (memKbPerProc * procs) / 1024 } : {}),
      ...(user >= 0 ? { user: field(11) } : {}),
      ...(wait >= 0 ? { traceWaitSeconds: wait } : {}),
    };
    noteJob(report, job);
    return job;
  }
}

/**
 * Splits `line` (trimmed) at runs of spaces or tabs and reads its first 18 fields as numbers into
 * `values` (NaN for one that is not a number), recording where each starts in `starts` (and where
 * the 19th would, or the line's end). Returns how many fields the line has. Plain integers are read
 * digit by digit; anything else goes through `Number`. A trace has hundreds of thousands of lines:
 * a split and eighteen strings per line were most of the time it took to read one.
 */
function splitNumbers(line: string, values: Float64Array, starts: Int32Array): number {
  let fields = 0;
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    let negative = false;
    let j = i;
    if (line.charCodeAt(j) === 45 /* - */) {
      negative = true;
      j++;
    }
    let value = 0;
    let digits = 0;
    while (j < n) {
      const c = line.charCodeAt(j);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      digits++;
      j++;
    }
    let end = j;
    while (end < n && !isSpace(line.charCodeAt(end))) end++;
    if (fields < 18) {
      starts[fields] = start;
      values[fields] = digits > 0 && end === j && digits < 16 ? (negative ? -value : value) : Number(line.slice(start, end));
    } else if (fields === 18) starts[18] = start;
    fields++;
    i = end;
  }
  if (fields <= 18) starts[fields] = n;
  return fields;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 11 || c === 12 || c === 13 || c === 160;
}
