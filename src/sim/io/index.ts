/** The simulator's file access: streaming trace readers and network files. */
export { readLineBatches, readLines, isGzip } from './lines.js';
export { openTrace } from './open-trace.js';
export { openSwf, swfCluster } from './swf-reader.js';
export { openElasticFlowCsv, openElasticFlowFolder, elasticFlowFiles } from './elasticflow-reader.js';
export { openAlibabaPods, readAlibabaNodes } from './alibaba-reader.js';
export { readNetworkFile } from './network-file.js';
export { prepareTrace, runPolicy, DEFAULT_EPOCH_MS, type PreparedTrace, type PolicyRun, type RunOptions } from './run-trace.js';
export { writeFiles } from './write-files.js';
