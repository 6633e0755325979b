/*
 * Running the simulator on a trace file: what the CLI (`suanwang sim`) and the benchmark share.
 * `prepareTrace` reads the trace once (streaming) to count its jobs and measure each cluster's
 * demand, and settles the network: a network file, `china-hubs`, or (none given) one built from
 * the trace; `runPolicy` opens the trace again and replays it under one policy. Time is measured
 * with a clock the caller passes (this folder never reads the real clock).
 */
import { basename } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { DemandProfiler, type ClusterDemand } from '../demand.js';
import type { NetworkIssue, NetworkModel } from '../network-model.js';
import { chinaHubs } from '../networks/china-hubs.js';
import { pooledNetwork } from '../networks/pooled.js';
import { traceNetwork, type CapacityChoice, type TraceNetworkOptions } from '../networks/trace-network.js';
import type { PolicyName } from '../policies/index.js';
import { simulate, type SimProgress, type SimulateOptions, type SimulationResult } from '../simulate.js';
import type { TraceSource } from '../trace/source.js';
import type { ReadReport, TraceHeader } from '../trace/types.js';
import { readNetworkFile } from './network-file.js';
import { openTrace } from './open-trace.js';

export interface PreparedTrace {
  readonly path: string;
  /** A short name for reports: the file or folder name. */
  readonly name: string;
  readonly header: TraceHeader;
  readonly report: ReadReport;
  /** Jobs the reader yields (what a replay will see). */
  readonly jobs: number;
  readonly demands: readonly ClusterDemand[];
  readonly model: NetworkModel;
  /** Where the network came from. */
  readonly networkSource: 'file' | 'china-hubs' | 'trace';
  /** How each center's capacity was chosen (a network built from the trace), else empty. */
  readonly capacities: readonly CapacityChoice[];
  readonly warnings: readonly NetworkIssue[];
  /** Wall time of trace second 0 (ms): the trace's own, else 2021-01-01 00:00 UTC (documented). */
  readonly epochMs: number;
}

/** When a trace does not say when it started: a Friday at midnight UTC, 08:00 in China. */
export const DEFAULT_EPOCH_MS = Date.UTC(2021, 0, 1);

/**
 * Reads `path` once (any supported trace, gzip or not) and settles the network: `network` is a
 * file path, `china-hubs`, or undefined to build one from the trace (`traceOptions`).
 */
export async function prepareTrace(path: string, options: { network?: string; traceOptions?: TraceNetworkOptions } = {}): Promise<PreparedTrace> {
  const source = await openTrace(path);
  const profiler = new DemandProfiler();
  let jobs = 0;
  for await (const job of source.jobs()) {
    profiler.add(job);
    jobs++;
  }
  const demands = profiler.finish();
  const header = source.header;
  let model: NetworkModel;
  let networkSource: PreparedTrace['networkSource'];
  let capacities: CapacityChoice[] = [];
  let warnings: NetworkIssue[] = [];
  if (options.network === undefined) {
    const built = traceNetwork(header, demands, options.traceOptions);
    model = built.model;
    capacities = built.capacities;
    networkSource = 'trace';
  } else if (options.network === 'china-hubs') {
    model = chinaHubs();
    networkSource = 'china-hubs';
  } else {
    const read = readNetworkFile(options.network);
    model = read.model;
    warnings = read.warnings;
    networkSource = 'file';
  }
  return {
    path,
    name: basename(path),
    header,
    report: source.report,
    jobs,
    demands,
    model,
    networkSource,
    capacities,
    warnings,
    epochMs: header.startEpochS === null ? DEFAULT_EPOCH_MS : header.startEpochS * 1000,
  };
}

export interface PolicyRun {
  readonly policy: PolicyName | 'pooledBound';
  readonly result: SimulationResult;
  /** Wall seconds of the replay (reading the trace included). */
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly report: ReadReport;
}

export type RunOptions = Omit<SimulateOptions, 'model' | 'policy' | 'epochMs' | 'clusters' | 'onProgress'> & {
  /** Called with the replay's progress and the fraction done (events ÷ 2 × jobs). */
  readonly onProgress?: (p: SimProgress, fraction: number) => void;
};

/**
 * Replays the prepared trace under `policy` (`pooledBound`: the `isolated` policy on the network
 * pooled into one center), timing it with `clock` (ms).
 */
export async function runPolicy(prepared: PreparedTrace, policy: PolicyName | 'pooledBound', clock: Clock, options: RunOptions = {}): Promise<PolicyRun> {
  const source: TraceSource = await openTrace(prepared.path);
  const model = policy === 'pooledBound' ? pooledNetwork(prepared.model) : prepared.model;
  const total = Math.max(1, 2 * prepared.jobs);
  const { onProgress, ...rest } = options;
  const t0 = clock.now();
  const result = await simulate(source.jobs(), {
    ...rest,
    model,
    policy: policy === 'pooledBound' ? 'isolated' : policy,
    epochMs: prepared.epochMs,
    clusters: prepared.header.clusters,
    ...(onProgress ? { onProgress: (p: SimProgress) => onProgress(p, p.done ? 1 : Math.min(1, p.events / total)) } : {}),
  });
  const seconds = (clock.now() - t0) / 1000;
  return {
    policy,
    result: policy === 'pooledBound' ? { ...result, policy: 'isolated' } : result,
    seconds,
    eventsPerSecond: seconds > 0 ? result.counters.events / seconds : 0,
    report: source.report,
  };
}
