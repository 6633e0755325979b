/*
 * A national-scale workload from real traces (issue 16: 1,000,000 jobs over 300 centers): `copies`
 * copies of a trace, each shifted in time and with its own clusters (`cluster04` of copy 7 is
 * `cluster04-k07`), merged in submit order, stopping after `limit` jobs. The copies keep every job's
 * size, run time and GPU models and each cluster's own rhythm; the shifts (copy k starts k ×
 * `shiftS` later, wrapped within the trace's span) spread their bursts, as real centers' are.
 */
import type { TraceJob } from './types.js';

export interface ReplicateOptions {
  readonly copies: number;
  /** Seconds between the starts of consecutive copies (wrapped within the trace's span). */
  readonly shiftS: number;
  /** Stop after this many jobs (default: all). */
  readonly limit?: number;
}

/** The cluster name of `cluster` in copy `k`. */
export function copyCluster(cluster: string, k: number): string {
  return `${cluster}-k${String(k).padStart(2, '0')}`;
}

/**
 * The merged copies of `base` (sorted by submit; see the top of this file). A copy's shift wraps:
 * jobs shifted past the trace's last submit come round to its start, so every copy spans the same
 * window and stays sorted as two runs merged.
 */
export function* replicate(base: readonly TraceJob[], options: ReplicateOptions): Generator<TraceJob> {
  const n = base.length;
  if (n === 0) return;
  for (let i = 1; i < n; i++) if (base[i]!.submitAt < base[i - 1]!.submitAt) throw new Error(`replicate needs jobs sorted by submit (job ${base[i]!.id})`);
  const first = base[0]!.submitAt;
  const span = base[n - 1]!.submitAt - first + 1;
  const limit = options.limit ?? Infinity;
  // Per copy: the shift, and where in `base` it starts (the first job at or after span − shift).
  const copies = Math.max(1, Math.floor(options.copies));
  const shift = Array.from({ length: copies }, (_, k) => ((k * options.shiftS) % span + span) % span);
  const startAt = shift.map((s) => lowerBound(base, first + span - s));
  const pos = new Int32Array(copies); // jobs of the copy emitted so far (0..n)
  const timeOf = (k: number): number => {
    const i = (startAt[k]! + pos[k]!) % n;
    const t = base[i]!.submitAt - first + shift[k]!;
    return (t >= span ? t - span : t) + first;
  };
  // A heap of copies by (next submit, copy index).
  const heap: number[] = [];
  const next = new Float64Array(copies);
  const less = (a: number, b: number) => next[a]! < next[b]! || (next[a] === next[b] && a < b);
  const down = (i: number): void => {
    const x = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= heap.length) break;
      if (c + 1 < heap.length && less(heap[c + 1]!, heap[c]!)) c++;
      if (!less(heap[c]!, x)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = x;
  };
  for (let k = 0; k < copies; k++) {
    next[k] = timeOf(k);
    heap.push(k);
  }
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  let emitted = 0;
  while (heap.length > 0 && emitted < limit) {
    const k = heap[0]!;
    const job = base[(startAt[k]! + pos[k]!) % n]!;
    yield { ...job, id: `${job.id}#${k}`, submitAt: next[k]!, homeCluster: copyCluster(job.homeCluster, k) };
    emitted++;
    pos[k]!++;
    if (pos[k]! >= n) {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        down(0);
      }
    } else {
      next[k] = timeOf(k);
      down(0);
    }
  }
}

/** The index of the first job of `jobs` submitted at or after `t`. */
function lowerBound(jobs: readonly TraceJob[], t: number): number {
  let lo = 0;
  let hi = jobs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (jobs[mid]!.submitAt < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
