import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { TraceSource } from '../trace/source.js';
import { openAlibabaPods } from './alibaba-reader.js';
import { openElasticFlowCsv, openElasticFlowFolder } from './elasticflow-reader.js';
import { readLines } from './lines.js';
import { openSwf } from './swf-reader.js';

/**
 * Opens any supported trace by looking at it: a folder of `clusterNN.csv` files (ElasticFlow,
 * merged), a CSV whose header names ElasticFlow's or Alibaba's columns, or else SWF (`.swf`,
 * `.swf.gz` or any other text). Throws for a CSV of unknown columns, naming them.
 */
export async function openTrace(path: string): Promise<TraceSource> {
  if (statSync(path).isDirectory()) return openElasticFlowFolder(path);
  const name = basename(path).toLowerCase();
  if (/\.csv(\.gz)?$/.test(name)) {
    let first = '';
    for await (const line of readLines(path)) {
      first = line;
      break;
    }
    const cols = first.split(',').map((s) => s.trim());
    if (cols.includes('submission_time') && cols.includes('num_gpu')) return openElasticFlowCsv(path);
    if (cols.includes('gpu_milli') && cols.includes('pod_phase')) return openAlibabaPods(path);
    throw new Error(
      `${path}: a CSV with columns ${cols.join(', ')} is not a supported trace ` +
        `(ElasticFlow: job_id,submission_time,duration,num_gpu; Alibaba: name,cpu_milli,…,gpu_milli,…,pod_phase,…)`,
    );
  }
  return openSwf(path);
}
