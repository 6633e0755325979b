import { basename } from 'node:path';
import type { TraceSource } from '../trace/source.js';
import { SwfParser } from '../trace/swf.js';
import { openLineSource } from './line-source.js';

/** The machine name of an SWF file name: `HPC2N-2002-2.1-cln.swf.gz` → `hpc2n`. */
export function swfCluster(path: string): string {
  const base = basename(path).replace(/\.gz$/i, '').replace(/\.swf$/i, '');
  return (base.split('-')[0] ?? base).toLowerCase() || 'swf';
}

/**
 * Opens an SWF file (gzip or plain) as a streaming `TraceSource`: the header is read on opening,
 * the jobs as they are iterated. `cluster` names the home center of every job (default: from the
 * file name). Line handling and fallbacks: src/sim/trace/swf.ts.
 */
export function openSwf(path: string, options: { cluster?: string } = {}): Promise<TraceSource> {
  const parser = new SwfParser({ cluster: options.cluster ?? swfCluster(path), source: basename(path) });
  return openLineSource(path, parser, (line) => line.trim() === '' || SwfParser.isComment(line));
}
