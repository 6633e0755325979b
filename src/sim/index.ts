/*
 * The simulator (issue 4), pure parts. File access lives in ./io (readers, network files).
 *
 *   event-heap.ts        events ordered by (time, sequence)
 *   sim-clock.ts         the simulated clock (a core Clock)
 *   trace/               TraceJob, per-format line parsers, the k-way merge
 *   demand.ts            a cluster's unconstrained concurrent demand (for sizing centers)
 *   network-model.ts     the network file schema, checks and resolved model
 *   networks/            china-hubs; networks built from a trace
 *   snapshot-builder.ts  the only place that builds the scheduler's Snapshot
 *   metrics.ts           waits, completions, slowdown, utilisation, cost, energy, carbon
 *   simulate.ts          the event loop: arrivals, ends, passes of the production scheduler
 *   policies/            the policies compared: early binding (isolated, ...) and the platform's
 *   networks/pooled.ts   the lower bound's network: all capacity in one center
 *   report/              summaries, goals, Markdown, SVG charts, the progress line
 */
export { EventHeap, type HeapEntry } from './event-heap.js';
export { SimClock } from './sim-clock.js';
export * from './trace/types.js';
export { mergeBySubmit, mergedSource, sortedBySubmit, TraceOrderError, type TraceSource } from './trace/source.js';
export { SwfParser } from './trace/swf.js';
export { ElasticFlowParser, ELASTICFLOW_START_EPOCH_S, elasticFlowCluster } from './trace/elasticflow.js';
export { AlibabaNodeParser, AlibabaPodParser, ALIBABA_MODELS, alibabaModelKey, type AlibabaNodeGroup } from './trace/alibaba.js';
export { DemandProfiler, type ClusterDemand, type DemandUnit } from './demand.js';
export * from './network-model.js';
export { chinaHubs, chinaHubsFile, HUB_SITES, type HubSite } from './networks/china-hubs.js';
export {
  alibabaNetwork,
  capacityFor,
  centerId,
  DEFAULT_CAPACITY_RULE,
  traceNetwork,
  type CapacityChoice,
  type CapacityRule,
  type TraceNetworkOptions,
} from './networks/trace-network.js';
export * from './snapshot-builder.js';
export * from './metrics.js';
export * from './simulate.js';
export * from './policies/index.js';
export { pooledNetwork, POOLED_CENTER_ID } from './networks/pooled.js';
export { summarize, checkGoals, type PolicySummary, type GoalCheck } from './report/summary.js';
export { renderReport, metricsTable, networkTable, type ReportInput, type ReportRun, type TraceSection } from './report/markdown.js';
export { compareSection, type TraceFacts } from './report/compare.js';
export { utilisationChart, waitCdfChart, perPolicyBars, downsample } from './report/charts.js';
export { lineChart, barChart } from './report/svg.js';
export { progressLine, formatSeconds } from './report/progress.js';
export { completionBound, orderedEndsBound, srptEnds, srptFlowSum, poolCanRun, type CompletionBound } from './bounds.js';
export { federationNetwork, capacityAtLoad, hubSite, sitePrice, HARDWARE_FEN, KWH_PER_PRICE, type FederationOptions } from './networks/federation.js';
export { replicate, copyCluster, type ReplicateOptions } from './trace/replicate.js';
export { pointGoals, bestNaive, allMet, NAIVE_BASELINES, type OperatingPoint } from './report/goals.js';
