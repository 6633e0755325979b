/*
 * What every trace reader yields: one normalized job per trace record, whatever the format. The
 * per-format choices (unknown fields, status codes, fractional GPUs) are documented beside each
 * parser (swf.ts, elasticflow.ts, alibaba.ts) and in src/sim/trace/README.md.
 */

export const TRACE_STATUSES = ['completed', 'failed', 'cancelled'] as const;
/** How the job ended in the real system. A failed or cancelled job still held its resources for `runSeconds`. */
export type TraceStatus = (typeof TRACE_STATUSES)[number];

export const TRACE_FORMATS = ['swf', 'elasticflow', 'alibaba'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** One job of a trace, normalized. Times are seconds from the trace's own second 0 (see `TraceHeader.startEpochS`). */
export interface TraceJob {
  /** The trace's id for the job (unique within one reader's output). */
  readonly id: string;
  /** Submission time, seconds from trace start. */
  readonly submitAt: number;
  /** Actual run time in seconds, as recorded (what the simulator lets it run for). */
  readonly runSeconds: number;
  /**
   * The requested walltime in seconds: the upper bound the scheduler plans with. Always
   * `>= runSeconds`: a reader raises a request shorter than the run, and falls back to `runSeconds`
   * where the request is unknown (per line, counted as repairs) or the format has none at all
   * (`TraceHeader.requestedTime` = 'run-time').
   */
  readonly requestedSeconds: number;
  /** Nodes, when the trace records them (Alibaba: 1 pod = 1 node); undefined when the cluster model decides. */
  readonly nodes?: number;
  /** CPU cores in all (SWF processors; Alibaba cpu_milli / 1000, may be fractional); undefined when not recorded. */
  readonly cpus?: number;
  /** Whole GPUs in all (0 for a CPU job). A fractional-GPU task counts 1 here and says its share in `gpuFraction`. */
  readonly gpus: number;
  /** For a task sharing one GPU: its share in (0, 1). Undefined for whole GPUs. */
  readonly gpuFraction?: number;
  /**
   * GPU models the job may run on, as accelerator-table keys where the model is in the table, else
   * a key of the trace's own (`alibaba-g2`); undefined or empty = any. Several = any of them.
   */
  readonly gpuModels?: readonly string[];
  /** Memory in MiB in all, when the trace records a request. */
  readonly memoryMiB?: number;
  /** The cluster the job was submitted to: its home center. */
  readonly homeCluster: string;
  readonly status: TraceStatus;
  readonly user?: string;
  /** The wait the job had in the real system, when recorded (for comparing the replay with reality). */
  readonly traceWaitSeconds?: number;
}

/** What a trace says about itself before its jobs. */
export interface TraceHeader {
  readonly format: TraceFormat;
  /** The file or folder read. */
  readonly source: string;
  /** The Unix time (s) of trace second 0, when known (SWF `UnixStartTime`); null when the trace does not say. */
  readonly startEpochS: number | null;
  /** How `startEpochS` was found: from the trace itself, or an assumption documented with the reader. */
  readonly startEpochSource: 'trace' | 'assumed' | 'unknown';
  /** Where `requestedSeconds` comes from: the trace's own request, or the actual run time (the format has none). */
  readonly requestedTime: 'recorded' | 'run-time';
  /** The clusters (home centers) the jobs come from, when known up front. */
  readonly clusters: readonly string[];
  /** SWF `MaxProcs` (or `MaxNodes` when MaxProcs is missing): the machine's processors. */
  readonly maxProcs?: number;
  readonly maxNodes?: number;
  /** Offset of the machine's local time from UTC in seconds (SWF `TimeZone`), when given. */
  readonly timeZoneS?: number;
  readonly timeZoneName?: string;
  /** Every `; Key: value` header line of an SWF file, repeated keys in order. */
  readonly fields?: Readonly<Record<string, readonly string[]>>;
}

/** A count with the first line it happened on, so a reader's report can be checked against the file. */
export interface ReasonCount {
  count: number;
  firstLine: number;
  /** Where several files are merged: the file of `firstLine`. */
  firstSource?: string;
}

/**
 * What a reader did, filled in as it reads (final once its jobs are exhausted). `skipped` lines
 * produced no job; `repaired` jobs were kept with a documented fallback; both keyed by reason.
 */
export interface ReadReport {
  source: string;
  /** Lines read, header and comments included. */
  lines: number;
  /** Jobs yielded. */
  jobs: number;
  skipped: Record<string, ReasonCount>;
  repaired: Record<string, ReasonCount>;
  /** Jobs whose submit time is earlier than the one before (the merge and the simulator need sorted input). */
  outOfOrder: number;
  firstSubmitAt: number | null;
  lastSubmitAt: number | null;
}

export function emptyReport(source: string): ReadReport {
  return { source, lines: 0, jobs: 0, skipped: {}, repaired: {}, outOfOrder: 0, firstSubmitAt: null, lastSubmitAt: null };
}

/** Counts `reason` in `table` (skipped or repaired) at `line`. */
export function count(table: Record<string, ReasonCount>, reason: string, line: number, source?: string): void {
  const c = table[reason];
  if (c) c.count++;
  else table[reason] = source === undefined ? { count: 1, firstLine: line } : { count: 1, firstLine: line, firstSource: source };
}

/** Records a yielded job in `report`: counts it and tracks submit order. */
export function noteJob(report: ReadReport, job: TraceJob): void {
  report.jobs++;
  if (report.lastSubmitAt !== null && job.submitAt < report.lastSubmitAt) report.outOfOrder++;
  if (report.firstSubmitAt === null) report.firstSubmitAt = job.submitAt;
  report.lastSubmitAt = job.submitAt;
}

/** The sum of several reports (per reason, the first occurrence of the first report that has it). */
export function mergeReports(source: string, reports: readonly ReadReport[]): ReadReport {
  const out = emptyReport(source);
  for (const r of reports) {
    out.lines += r.lines;
    out.jobs += r.jobs;
    out.outOfOrder += r.outOfOrder;
    for (const [into, from] of [[out.skipped, r.skipped], [out.repaired, r.repaired]] as const) {
      for (const [reason, c] of Object.entries(from)) {
        const have = into[reason];
        if (have) have.count += c.count;
        else into[reason] = { count: c.count, firstLine: c.firstLine, firstSource: c.firstSource ?? r.source };
      }
    }
    if (r.firstSubmitAt !== null) out.firstSubmitAt = out.firstSubmitAt === null ? r.firstSubmitAt : Math.min(out.firstSubmitAt, r.firstSubmitAt);
    if (r.lastSubmitAt !== null) out.lastSubmitAt = out.lastSubmitAt === null ? r.lastSubmitAt : Math.max(out.lastSubmitAt, r.lastSubmitAt);
  }
  return out;
}

/** One line per reason: `skipped run-time-unknown: 3 (first at line 1234)`. */
export function describeReport(r: ReadReport): string[] {
  const lines = [`${r.source}: ${r.lines} lines, ${r.jobs} jobs${r.outOfOrder > 0 ? `, ${r.outOfOrder} out of submit order` : ''}`];
  for (const [kind, table] of [['skipped', r.skipped], ['repaired', r.repaired]] as const) {
    for (const [reason, c] of Object.entries(table)) {
      const where = c.firstSource === undefined ? `line ${c.firstLine}` : `${c.firstSource} line ${c.firstLine}`;
      lines.push(`  ${kind} ${reason}: ${c.count} (first at ${where})`);
    }
  }
  return lines;
}
