/**
 * A binary min-heap of events ordered by (time, sequence). The sequence is the order of `push`, so
 * events at the same time come out in the order they went in: the simulation is deterministic and
 * never depends on how the heap happens to break ties.
 *
 * Times, sequences and items sit in three parallel arrays rather than one array of entry objects:
 * a replay pushes a few events per job (HPC2N: ~600,000), and parallel arrays keep that free of
 * per-event allocation.
 */
export interface HeapEntry<T> {
  readonly time: number;
  readonly seq: number;
  readonly item: T;
}

export class EventHeap<T> {
  #times: number[] = [];
  #seqs: number[] = [];
  #items: T[] = [];
  #nextSeq = 0;

  get size(): number {
    return this.#times.length;
  }

  /** Adds `item` at `time` (any finite number) and returns its sequence number. */
  push(time: number, item: T): number {
    if (!Number.isFinite(time)) throw new RangeError(`an event needs a finite time, got ${time}`);
    const seq = this.#nextSeq++;
    const times = this.#times;
    const seqs = this.#seqs;
    const items = this.#items;
    let i = times.length;
    times.push(time);
    seqs.push(seq);
    items.push(item);
    // Sift up: move the hole towards the root while the parent is later.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && seqs[parent]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    items[i] = item;
    return seq;
  }

  /** The earliest event without removing it, or undefined when empty. */
  peek(): HeapEntry<T> | undefined {
    if (this.#times.length === 0) return undefined;
    return { time: this.#times[0]!, seq: this.#seqs[0]!, item: this.#items[0]! };
  }

  /** The time of the earliest event, or Infinity when empty (cheap: no object). */
  peekTime(): number {
    return this.#times.length === 0 ? Infinity : this.#times[0]!;
  }

  /** Removes and returns the earliest event (lowest time, then lowest sequence), or undefined when empty. */
  pop(): HeapEntry<T> | undefined {
    const times = this.#times;
    const n = times.length;
    if (n === 0) return undefined;
    const seqs = this.#seqs;
    const items = this.#items;
    const top: HeapEntry<T> = { time: times[0]!, seq: seqs[0]!, item: items[0]! };
    const lastTime = times.pop()!;
    const lastSeq = seqs.pop()!;
    const lastItem = items.pop()!;
    const size = n - 1;
    if (size > 0) {
      // Sift the last entry down from the root.
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= size) break;
        const right = left + 1;
        let child = left;
        if (right < size) {
          const lt = times[left]!;
          const rt = times[right]!;
          if (rt < lt || (rt === lt && seqs[right]! < seqs[left]!)) child = right;
        }
        const ct = times[child]!;
        if (lastTime < ct || (lastTime === ct && lastSeq < seqs[child]!)) break;
        times[i] = ct;
        seqs[i] = seqs[child]!;
        items[i] = items[child]!;
        i = child;
      }
      times[i] = lastTime;
      seqs[i] = lastSeq;
      items[i] = lastItem;
    }
    return top;
  }

  /** Removes every event. Sequence numbers keep counting, so order stays stable across a clear. */
  clear(): void {
    this.#times = [];
    this.#seqs = [];
    this.#items = [];
  }
}
