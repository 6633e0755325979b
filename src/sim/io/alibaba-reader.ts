import { basename } from 'node:path';
import { AlibabaNodeParser, AlibabaPodParser, type AlibabaNodeGroup } from '../trace/alibaba.js';
import type { TraceSource } from '../trace/source.js';
import type { ReadReport } from '../trace/types.js';
import { openLineSource } from './line-source.js';
import { readLineBatches } from './lines.js';

/** Opens an Alibaba GPU 2023 pod list (`openb_pod_list_*.csv`) as a streaming `TraceSource` (handling: src/sim/trace/alibaba.ts). */
export function openAlibabaPods(path: string, options: { cluster?: string } = {}): Promise<TraceSource> {
  const parser = new AlibabaPodParser({ source: basename(path), ...(options.cluster === undefined ? {} : { cluster: options.cluster }) });
  return openLineSource(path, parser, (_line, index) => index === 0);
}

/** Reads an Alibaba node list (`openb_node_list_gpu_node.csv`) into groups of identical nodes (streamed; the groups are small). */
export async function readAlibabaNodes(path: string): Promise<{ groups: AlibabaNodeGroup[]; report: ReadReport }> {
  const parser = new AlibabaNodeParser(basename(path));
  for await (const batch of readLineBatches(path)) for (const line of batch) parser.line(line);
  return { groups: parser.groups(), report: parser.report };
}
