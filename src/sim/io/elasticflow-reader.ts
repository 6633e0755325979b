import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ElasticFlowParser, elasticFlowCluster, elasticFlowHeader } from '../trace/elasticflow.js';
import { mergedSource, type TraceSource } from '../trace/source.js';
import { openLineSource } from './line-source.js';

/** Opens one ElasticFlow CSV (gzip or plain); its jobs' home cluster is the file name (`cluster03`). */
export function openElasticFlowCsv(path: string, options: { cluster?: string } = {}): Promise<TraceSource> {
  const parser = new ElasticFlowParser({ cluster: options.cluster ?? elasticFlowCluster(path), source: basename(path) });
  return openLineSource(path, parser, (_line, index) => index === 0);
}

/** The cluster CSVs of an ElasticFlow folder (`clusterNN.csv`, optionally gzipped), sorted by name. */
export function elasticFlowFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /^cluster\d+\.csv(\.gz)?$/i.test(name))
    .sort()
    .map((name) => join(dir, name))
    .filter((p) => statSync(p).isFile());
}

/**
 * Opens every `clusterNN.csv` of an ElasticFlow folder and merges them by submit time, streaming
 * (a k-way merge holding one job per file; equal submit times in file-name order). Throws when the
 * folder has no cluster files.
 */
export async function openElasticFlowFolder(dir: string): Promise<TraceSource> {
  const files = elasticFlowFiles(dir);
  if (files.length === 0) throw new Error(`${dir}: no clusterNN.csv files (an ElasticFlow trace folder has cluster01.csv … cluster10.csv)`);
  const parts = await Promise.all(files.map((f) => openElasticFlowCsv(f)));
  const header = elasticFlowHeader(basename(dir), files.map(elasticFlowCluster));
  return mergedSource(header, parts);
}
