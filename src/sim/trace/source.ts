import { mergeReports, type ReadReport, type TraceHeader, type TraceJob } from './types.js';

/**
 * An opened trace: its header (known on opening), its jobs in submit order (one pass), and the
 * reader's report, filled in while the jobs are read and final once they are exhausted.
 */
export interface TraceSource {
  readonly header: TraceHeader;
  readonly report: ReadReport;
  /** The jobs, in submit order. One pass only: a second call throws. Reading them to the end closes the file. */
  jobs(): AsyncIterable<TraceJob>;
  /** Closes the file(s) without reading on (needed only when `jobs()` is not read to the end). */
  close(): Promise<void>;
}

/** Thrown when a trace that must be in submit order is not: names the trace and the job. */
export class TraceOrderError extends Error {
  constructor(source: string, job: TraceJob, previous: number) {
    super(
      `${source}: job ${job.id} is submitted at ${job.submitAt} s, before the job ahead of it (${previous} s); ` +
        `the simulator reads traces as streams and needs them sorted by submit time (sort the file first)`,
    );
    this.name = 'TraceOrderError';
  }
}

/** `jobs` unchanged, but throws `TraceOrderError` at the first job submitted before the one ahead of it. */
export async function* sortedBySubmit(source: string, jobs: AsyncIterable<TraceJob>): AsyncGenerator<TraceJob> {
  let last = -Infinity;
  for await (const job of jobs) {
    if (job.submitAt < last) throw new TraceOrderError(source, job, last);
    last = job.submitAt;
    yield job;
  }
}

/**
 * A k-way merge of sorted job streams into one sorted stream, holding one job per stream: a heap of
 * stream heads ordered by (submitAt, stream index), so equal submit times come out in the order the
 * streams are given (for ElasticFlow: cluster01 before cluster02), and within a stream in file
 * order. Each input must be sorted; one that is not throws `TraceOrderError`.
 */
export async function* mergeBySubmit(streams: readonly { readonly name: string; readonly jobs: AsyncIterable<TraceJob> }[]): AsyncGenerator<TraceJob> {
  const iters = streams.map((s) => sortedBySubmit(s.name, s.jobs)[Symbol.asyncIterator]());
  const heads: (TraceJob | undefined)[] = new Array(iters.length);
  const heap: number[] = []; // stream indices
  const less = (a: number, b: number): boolean => {
    const ta = heads[a]!.submitAt;
    const tb = heads[b]!.submitAt;
    return ta < tb || (ta === tb && a < b);
  };
  const up = (i: number): void => {
    const x = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(x, heap[p]!)) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = x;
  };
  const down = (i: number): void => {
    const x = heap[i]!;
    const n = heap.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && less(heap[c + 1]!, heap[c]!)) c++;
      if (!less(heap[c]!, x)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = x;
  };
  try {
    const firsts = await Promise.all(iters.map((it) => it.next()));
    firsts.forEach((r, i) => {
      if (!r.done) {
        heads[i] = r.value;
        heap.push(i);
        up(heap.length - 1);
      }
    });
    while (heap.length > 0) {
      const i = heap[0]!;
      yield heads[i]!;
      const r = await iters[i]!.next();
      if (r.done) {
        heads[i] = undefined;
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          down(0);
        }
      } else {
        heads[i] = r.value;
        down(0);
      }
    }
  } finally {
    // Stopped early (or failed): close every input so its file is released.
    await Promise.all(iters.map((it) => it.return?.(undefined)));
  }
}

/** One `TraceSource` of several, merged by submit time; its report sums theirs. */
export function mergedSource(header: TraceHeader, parts: readonly TraceSource[]): TraceSource {
  let used = false;
  return {
    header,
    get report(): ReadReport {
      return mergeReports(header.source, parts.map((p) => p.report));
    },
    jobs(): AsyncIterable<TraceJob> {
      if (used) throw new Error(`${header.source}: the jobs of a trace can be read once; open it again`);
      used = true;
      return mergeBySubmit(parts.map((p) => ({ name: p.header.source, jobs: p.jobs() })));
    },
    async close(): Promise<void> {
      await Promise.all(parts.map((p) => p.close()));
    },
  };
}
