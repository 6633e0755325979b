/*
 * The ElasticFlow GPU traces (microsoft/elasticflow-traces): one CSV per cluster,
 * `job_id,submission_time,duration,num_gpu`, times in seconds from the start of collection.
 *
 * - Home cluster: the file (`cluster01.csv` → `cluster01`).
 * - Requested time: the trace has none, so it is the actual duration (perfect estimates;
 *   `TraceHeader.requestedTime` = 'run-time'). Backfilling is therefore as good as it can be; a
 *   sensitivity run can scale walltimes in the simulator, not here.
 * - Status: the trace does not say, so every job is completed.
 * - CPUs and memory: not recorded; the cluster model gives each GPU its node's share.
 * - Start: the collection began on 2021-03-04 (the trace's README); the hour is not published,
 *   so second 0 is assumed to be 2021-03-04 00:00 UTC (`startEpochSource` = 'assumed').
 *
 * Skipped (counted): wrong field count ("too-few-fields"), non-numbers ("not-a-number"), submit
 * time < 0 ("submit-time-unknown"), duration < 0 ("run-time-unknown"), a GPU count that is
 * negative or not whole ("gpus-invalid").
 */
import { CsvRows } from './csv.js';
import { count, emptyReport, noteJob, type ReadReport, type TraceHeader, type TraceJob } from './types.js';

/** 2021-03-04 00:00 UTC: the assumed trace second 0. */
export const ELASTICFLOW_START_EPOCH_S = Date.UTC(2021, 2, 4) / 1000;

const COLUMNS = ['job_id', 'submission_time', 'duration', 'num_gpu'] as const;

export interface ElasticFlowOptions {
  /** The home cluster of the file's jobs: `cluster01`. */
  readonly cluster: string;
  readonly source: string;
}

/** The cluster name of an ElasticFlow file name: `…/cluster07.csv` → `cluster07`. */
export function elasticFlowCluster(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  return base.replace(/\.csv(\.gz)?$/i, '');
}

export function elasticFlowHeader(source: string, clusters: readonly string[]): TraceHeader {
  return {
    format: 'elasticflow',
    source,
    startEpochS: ELASTICFLOW_START_EPOCH_S,
    startEpochSource: 'assumed',
    requestedTime: 'run-time',
    clusters,
  };
}

/** Reads one ElasticFlow CSV a line at a time; the first line must be the header. */
export class ElasticFlowParser {
  readonly report: ReadReport;
  readonly #cluster: string;
  readonly #rows = new CsvRows(COLUMNS);

  constructor(options: ElasticFlowOptions) {
    this.#cluster = options.cluster;
    this.report = emptyReport(options.source);
  }

  header(): TraceHeader {
    return elasticFlowHeader(this.report.source, [this.#cluster]);
  }

  /** Feeds one line: a job, or null for the header, a blank or a skipped line. Throws on a header without the columns. */
  line(text: string): TraceJob | null {
    const report = this.report;
    const lineNo = ++report.lines;
    const row = this.#rows.row(text, report, lineNo);
    if (row === null) return null;
    const { f, c } = row;
    const submitAt = Number(f[c.submission_time]);
    const run = Number(f[c.duration]);
    const gpus = Number(f[c.num_gpu]);
    const id = f[c.job_id]!.trim();
    if (!Number.isFinite(submitAt) || !Number.isFinite(run) || !Number.isFinite(gpus) || id === '') {
      count(report.skipped, 'not-a-number', lineNo);
      return null;
    }
    if (submitAt < 0) {
      count(report.skipped, 'submit-time-unknown', lineNo);
      return null;
    }
    if (run < 0) {
      count(report.skipped, 'run-time-unknown', lineNo);
      return null;
    }
    if (gpus < 0 || !Number.isInteger(gpus)) {
      count(report.skipped, 'gpus-invalid', lineNo);
      return null;
    }
    const job: TraceJob = {
      id,
      submitAt,
      runSeconds: run,
      requestedSeconds: run,
      gpus,
      homeCluster: this.#cluster,
      status: 'completed',
    };
    noteJob(report, job);
    return job;
  }
}
