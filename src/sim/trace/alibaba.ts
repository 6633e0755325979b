/*
 * The Alibaba PAI GPU trace v2023 (alibaba/clusterdata `cluster-trace-gpu-v2023`; Weng et al.,
 * "Beware of Fragmentation", USENIX ATC 2023).
 *
 * Tasks (`openb_pod_list_*.csv`): name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,
 * pod_phase,creation_time,deletion_time,scheduled_time (times in seconds from an undisclosed start).
 *
 * - Times: submit = creation_time; start = scheduled_time; run = deletion_time − scheduled_time;
 *   `traceWaitSeconds` = scheduled − creation. The trace has no walltime request, so the requested
 *   time is the run time (`requestedTime` = 'run-time'). Start epoch unknown (`startEpochS` null).
 * - Resources: one pod runs on one node (`nodes` = 1); cpus = cpu_milli / 1000 (fractional kept:
 *   11,908 milli = 11.908 cores; the cluster model rounds up); memory = memory_mib.
 * - GPUs: num_gpu whole GPUs (0 = a CPU-only task). GPU sharing: a task with num_gpu = 1 and
 *   0 < gpu_milli < 1000 uses that share of one GPU: `gpus` = 1, `gpuFraction` = gpu_milli / 1000.
 *   The simulator gives it one whole GPU unless it models packing, so fractional tasks are charged
 *   and counted as one GPU each (an upper bound on their use). Odd combinations are repaired:
 *   gpu_milli 0 with num_gpu ≥ 1 → whole GPUs ("gpu-milli-missing"); a share on a multi-GPU task
 *   (upstream: shares only exist for num_gpu = 1) → whole GPUs ("fraction-on-multi-gpu-ignored");
 *   gpu_milli > 1000 → whole GPUs ("gpu-milli-above-1000"); gpu_milli on a CPU task → ignored
 *   ("gpu-milli-without-gpu").
 * - gpu_spec: '' or 'nan' = any model; else models separated by '|', each mapped by
 *   `alibabaModelKey` (T4 → nvidia-t4, V100M32 → nvidia-v100 (the table's V100 is the 32 GB SXM2),
 *   A10 → nvidia-a10; P100 → nvidia-p100 and V100M16 → nvidia-v100-16gb, real chips the table lacks;
 *   G1/G2/G3, Alibaba's undisclosed internal codes, → alibaba-g1/-g2/-g3). A key the table lacks is
 *   an unknown accelerator to the scheduler: it matches only pools of the same key and draws the
 *   scheduler's default board power.
 * - pod_phase: Succeeded → completed; Failed → failed; Running (still running when the trace was
 *   cut; deletion_time is then the end of collection) → completed, counted as
 *   "running-at-end-taken-as-completed" since its run time is a lower bound; Pending (never
 *   scheduled, deleted while waiting) → skipped as "never-scheduled", like an SWF job cancelled
 *   before it started. Any other phase → completed ("status-unknown").
 * - qos (LS, BE, Burstable, Guaranteed) is not used yet.
 *
 * Skipped (counted): wrong field count ("too-few-fields"), non-numbers ("not-a-number"), no
 * scheduled time ("never-scheduled"), no deletion time ("end-time-unknown"), deletion before
 * scheduling ("ends-before-start"), scheduling before creation ("scheduled-before-submit").
 *
 * Nodes (`openb_node_list_gpu_node.csv`): sn,cpu_milli,memory_mib,gpu,model; grouped into
 * identical nodes (`AlibabaNodeGroup`) to become pools.
 */
import { columnsOf, CsvRows } from './csv.js';
import { count, emptyReport, noteJob, type ReadReport, type TraceHeader, type TraceJob, type TraceStatus } from './types.js';

/** Alibaba's GPU model names → accelerator keys. Keys not in the accelerator table are marked `known: false`. */
export const ALIBABA_MODELS: Readonly<Record<string, { readonly key: string; readonly known: boolean }>> = {
  T4: { key: 'nvidia-t4', known: true },
  V100M32: { key: 'nvidia-v100', known: true },
  A10: { key: 'nvidia-a10', known: true },
  V100M16: { key: 'nvidia-v100-16gb', known: false },
  P100: { key: 'nvidia-p100', known: false },
  G1: { key: 'alibaba-g1', known: false },
  G2: { key: 'alibaba-g2', known: false },
  G3: { key: 'alibaba-g3', known: false },
};

/** The accelerator key for an Alibaba model name; names not in `ALIBABA_MODELS` become `alibaba-<name>`. */
export function alibabaModelKey(name: string): string {
  const n = name.trim();
  return ALIBABA_MODELS[n]?.key ?? `alibaba-${n.toLowerCase()}`;
}

const POD_COLUMNS = [
  'name',
  'cpu_milli',
  'memory_mib',
  'num_gpu',
  'gpu_milli',
  'gpu_spec',
  'pod_phase',
  'creation_time',
  'deletion_time',
  'scheduled_time',
] as const;

const PHASES: Readonly<Record<string, TraceStatus>> = { Succeeded: 'completed', Failed: 'failed', Running: 'completed' };

export interface AlibabaOptions {
  readonly source: string;
  /** The home cluster of every task (the trace is one cluster). */
  readonly cluster?: string;
}

export const ALIBABA_CLUSTER = 'alibaba-pai';

/** Reads an Alibaba pod list a line at a time; the first line must be the header. */
export class AlibabaPodParser {
  readonly report: ReadReport;
  readonly #cluster: string;
  readonly #rows = new CsvRows(POD_COLUMNS);

  constructor(options: AlibabaOptions) {
    this.#cluster = options.cluster ?? ALIBABA_CLUSTER;
    this.report = emptyReport(options.source);
  }

  header(): TraceHeader {
    return {
      format: 'alibaba',
      source: this.report.source,
      startEpochS: null,
      startEpochSource: 'unknown',
      requestedTime: 'run-time',
      clusters: [this.#cluster],
    };
  }

  /** Feeds one line: a job, or null for the header, a blank or a skipped line. */
  line(text: string): TraceJob | null {
    const report = this.report;
    const lineNo = ++report.lines;
    const row = this.#rows.row(text, report, lineNo);
    if (row === null) return null;
    const { f, c } = row;
    const phase = f[c.pod_phase]!.trim();
    const scheduledText = f[c.scheduled_time]!.trim();
    const deletionText = f[c.deletion_time]!.trim();
    const nums = [f[c.cpu_milli], f[c.memory_mib], f[c.num_gpu], f[c.gpu_milli], f[c.creation_time]].map((s) => (s!.trim() === '' ? NaN : Number(s)));
    const [cpuMilli, memoryMiB, numGpu, gpuMilliRaw, created] = nums as [number, number, number, number, number];
    if (nums.some((n) => !Number.isFinite(n)) || numGpu < 0 || !Number.isInteger(numGpu) || cpuMilli < 0 || memoryMiB < 0) {
      count(report.skipped, 'not-a-number', lineNo);
      return null;
    }
    if (phase === 'Pending' || scheduledText === '') {
      count(report.skipped, 'never-scheduled', lineNo);
      return null;
    }
    if (deletionText === '') {
      count(report.skipped, 'end-time-unknown', lineNo);
      return null;
    }
    const scheduled = Number(scheduledText);
    const deleted = Number(deletionText);
    if (!Number.isFinite(scheduled) || !Number.isFinite(deleted)) {
      count(report.skipped, 'not-a-number', lineNo);
      return null;
    }
    if (deleted < scheduled) {
      count(report.skipped, 'ends-before-start', lineNo);
      return null;
    }
    if (scheduled < created) {
      count(report.skipped, 'scheduled-before-submit', lineNo);
      return null;
    }
    let status = PHASES[phase];
    if (status === undefined) {
      status = 'completed';
      count(report.repaired, 'status-unknown', lineNo);
    } else if (phase === 'Running') {
      count(report.repaired, 'running-at-end-taken-as-completed', lineNo);
    }

    const gpuMilli = Math.max(0, gpuMilliRaw);
    let gpuFraction: number | undefined;
    if (numGpu === 0) {
      if (gpuMilli > 0) count(report.repaired, 'gpu-milli-without-gpu', lineNo);
    } else if (gpuMilli === 0) {
      count(report.repaired, 'gpu-milli-missing', lineNo);
    } else if (gpuMilli > 1000) {
      count(report.repaired, 'gpu-milli-above-1000', lineNo);
    } else if (gpuMilli < 1000) {
      if (numGpu === 1) gpuFraction = gpuMilli / 1000;
      else count(report.repaired, 'fraction-on-multi-gpu-ignored', lineNo);
    }

    const spec = f[c.gpu_spec]!.trim();
    const gpuModels = spec === '' || spec.toLowerCase() === 'nan' ? undefined : spec.split('|').filter((s) => s.trim() !== '').map(alibabaModelKey);

    const job: TraceJob = {
      id: f[c.name]!.trim(),
      submitAt: created,
      runSeconds: deleted - scheduled,
      requestedSeconds: deleted - scheduled,
      nodes: 1,
      cpus: cpuMilli / 1000,
      gpus: numGpu,
      ...(gpuFraction === undefined ? {} : { gpuFraction }),
      ...(gpuModels === undefined || gpuModels.length === 0 ? {} : { gpuModels }),
      memoryMiB,
      homeCluster: this.#cluster,
      status,
      traceWaitSeconds: scheduled - created,
    };
    noteJob(report, job);
    return job;
  }
}

/** Identical GPU nodes of the Alibaba cluster: one future pool. */
export interface AlibabaNodeGroup {
  /** Accelerator key (`alibabaModelKey`), or null for nodes without GPUs. */
  readonly accelerator: string | null;
  /** The trace's model name (`V100M16`), '' for none. */
  readonly traceModel: string;
  readonly gpusPerNode: number;
  readonly coresPerNode: number;
  readonly memoryMiBPerNode: number;
  nodes: number;
}

const NODE_COLUMNS = ['sn', 'cpu_milli', 'memory_mib', 'gpu', 'model'] as const;

/** Reads the Alibaba node list a line at a time into groups of identical nodes. */
export class AlibabaNodeParser {
  readonly report: ReadReport;
  readonly #groups = new Map<string, AlibabaNodeGroup>();
  #cols: Record<(typeof NODE_COLUMNS)[number], number> | undefined;

  constructor(source: string) {
    this.report = emptyReport(source);
  }

  /** The groups so far, in order of first appearance. */
  groups(): AlibabaNodeGroup[] {
    return [...this.#groups.values()];
  }

  line(text: string): void {
    const report = this.report;
    const lineNo = ++report.lines;
    if (this.#cols === undefined) {
      this.#cols = columnsOf(text, NODE_COLUMNS, report.source);
      return;
    }
    const trimmed = text.trim();
    if (trimmed === '') return;
    const f = trimmed.split(',');
    const c = this.#cols;
    const cpuMilli = Number(f[c.cpu_milli]);
    const mem = Number(f[c.memory_mib]);
    const gpus = Number(f[c.gpu]);
    if (![cpuMilli, mem, gpus].every((n) => Number.isFinite(n) && n >= 0) || f[c.model] === undefined) {
      count(report.skipped, 'not-a-number', lineNo);
      return;
    }
    const raw = f[c.model]!.trim();
    const model = raw.toLowerCase() === 'nan' ? '' : raw;
    const accelerator = model === '' || gpus === 0 ? null : alibabaModelKey(model);
    // Cores rounded down: a node cannot sell a fraction of a core it does not have.
    const cores = Math.floor(cpuMilli / 1000);
    const key = `${model}|${gpus}|${cores}|${mem}`;
    const g = this.#groups.get(key);
    if (g) g.nodes++;
    else this.#groups.set(key, { accelerator, traceModel: model, gpusPerNode: gpus, coresPerNode: cores, memoryMiBPerNode: mem, nodes: 1 });
    report.jobs++; // here: nodes read
  }
}
