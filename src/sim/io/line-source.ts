import type { TraceSource } from '../trace/source.js';
import type { ReadReport, TraceHeader, TraceJob } from '../trace/types.js';
import { readLineBatches } from './lines.js';

/** What `openLineSource` needs of a format's parser (pure, in src/sim/trace). */
export interface LineParser {
  readonly report: ReadReport;
  header(): TraceHeader;
  line(text: string): TraceJob | null;
}

/**
 * Opens `path` as a `TraceSource` parsed by `parser`. Lines for which `inHeader` says true are fed
 * before the source is returned, so the header is complete; the first other line and the rest are
 * parsed as the jobs are read, one batch of lines at a time.
 */
export async function openLineSource(
  path: string,
  parser: LineParser,
  inHeader: (line: string, index: number) => boolean,
): Promise<TraceSource> {
  const batches = readLineBatches(path)[Symbol.asyncIterator]();
  let pending: string[] = [];
  let pos = 0;
  let index = 0;
  let ended = false;
  outer: for (;;) {
    const r = await batches.next();
    if (r.done) {
      ended = true;
      break;
    }
    const b = r.value;
    for (let i = 0; i < b.length; i++, index++) {
      if (inHeader(b[i]!, index)) {
        parser.line(b[i]!);
        continue;
      }
      pending = b;
      pos = i;
      break outer;
    }
  }
  const header = parser.header();
  let used = false;
  async function* jobs(): AsyncGenerator<TraceJob> {
    try {
      for (let i = pos; i < pending.length; i++) {
        const job = parser.line(pending[i]!);
        if (job !== null) yield job;
      }
      pending = [];
      if (ended) return;
      for (;;) {
        const r = await batches.next();
        if (r.done) break;
        const b = r.value;
        for (let i = 0; i < b.length; i++) {
          const job = parser.line(b[i]!);
          if (job !== null) yield job;
        }
      }
    } finally {
      await batches.return?.(undefined);
    }
  }
  return {
    header,
    report: parser.report,
    jobs(): AsyncIterable<TraceJob> {
      if (used) throw new Error(`${header.source}: the jobs of a trace can be read once; open it again`);
      used = true;
      return jobs();
    },
    async close(): Promise<void> {
      await batches.return?.(undefined);
    },
  };
}
