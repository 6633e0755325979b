import type { NodeRequest } from '../core/resources.js';

/** `fitCount` result when the pool is known to be short but the exact count was not worth computing. */
export const FEWER_THAN_NEEDED = -1;

const MAX_REMEMBERED_MISSES = 32;

/** The arrays a `PoolCapacity` keeps its tree in, for a caller that builds one per pass to hand back. */
export interface TreeStorage {
  acc: number[];
  cores: number[];
  mem: number[];
}

/**
 * The working copy of one pool's free capacity during a pass; the snapshot's own `freeByNode` is
 * never modified. Nodes sit at the leaves of a tree whose inner entries hold the per-dimension
 * maxima below them, so finding the first node with room skips every run of nodes that cannot hold
 * the request, and a pool of 1,000 nodes answers in a few dozen steps instead of a scan.
 * Within a pass capacity only shrinks, so a remembered miss (shape, nodes) also settles every later
 * request at least as large without searching.
 */
export class PoolCapacity {
  readonly nodeCount: number;
  /** Leaves start here; the tree has `2 × #leaves` entries per dimension, entry 1 the root. */
  readonly #leaves: number;
  // Plain arrays of doubles, not typed arrays: a pass builds a tree per pool, and allocating typed
  // arrays (outside the heap) cost more than filling them; these are copied from a template.
  readonly #acc: number[];
  readonly #cores: number[];
  readonly #mem: number[];
  /** Flat (accelerators, cores, memoryMiB, nodes) quadruples of requests that did not fit. */
  readonly #misses: number[] = [];

  /**
   * Free capacity per node: a list of requests, or a copy of another `PoolCapacity` as it is now
   * (what it remembers of misses aside). With `storage` the tree is written into those arrays (a
   * caller that builds a tree per pass reuses the last pass's); arrays of the right size must hold
   * a whole tree, as a `PoolCapacity` built in them leaves them.
   */
  constructor(source: readonly NodeRequest[] | PoolCapacity, storage?: TreeStorage) {
    const copy = source instanceof PoolCapacity ? source : null;
    const n = copy !== null ? copy.nodeCount : (source as readonly NodeRequest[]).length;
    let leaves = 1;
    while (leaves < n) leaves *= 2;
    this.nodeCount = n;
    this.#leaves = leaves;
    const size = 2 * leaves;
    const reuse = storage !== undefined && storage.acc.length === size;
    const acc = reuse ? storage.acc : emptyTree(size).slice();
    const cores = reuse ? storage.cores : emptyTree(size).slice();
    const mem = reuse ? storage.mem : emptyTree(size).slice();
    if (storage !== undefined && !reuse) {
      storage.acc = acc;
      storage.cores = cores;
      storage.mem = mem;
    }
    this.#acc = acc;
    this.#cores = cores;
    this.#mem = mem;
    if (copy !== null) {
      const fromAcc = copy.#acc;
      const fromCores = copy.#cores;
      const fromMem = copy.#mem;
      for (let k = 1; k < size; k++) {
        acc[k] = fromAcc[k]!;
        cores[k] = fromCores[k]!;
        mem[k] = fromMem[k]!;
      }
      return;
    }
    const list = source as readonly NodeRequest[];
    if (reuse) {
      // The arrays hold a whole tree (the last pass's, as that pass left it): only the leaves that
      // differ from `list` are written, each followed up its path while the maxima change. A
      // simulator's passes mostly see a few nodes change between them.
      for (let i = 0; i < leaves; i++) {
        const free = i < n ? list[i]! : null;
        const a = free === null ? -Infinity : free.accelerators;
        const c = free === null ? -Infinity : free.cores;
        const m = free === null ? -Infinity : free.memoryMiB;
        let k = leaves + i;
        if (acc[k] === a && cores[k] === c && mem[k] === m) continue;
        acc[k] = a;
        cores[k] = c;
        mem[k] = m;
        for (k >>= 1; k >= 1; k >>= 1) {
          const l = 2 * k;
          const pa = Math.max(acc[l]!, acc[l + 1]!);
          const pc = Math.max(cores[l]!, cores[l + 1]!);
          const pm = Math.max(mem[l]!, mem[l + 1]!);
          if (acc[k] === pa && cores[k] === pc && mem[k] === pm) break;
          acc[k] = pa;
          cores[k] = pc;
          mem[k] = pm;
        }
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      const free = list[i]!;
      acc[leaves + i] = free.accelerators;
      cores[leaves + i] = free.cores;
      mem[leaves + i] = free.memoryMiB;
    }
    // Padding leaves hold -Infinity: they never have room for anything.
    for (let i = leaves + n; i < size; i++) acc[i] = cores[i] = mem[i] = -Infinity;
    for (let k = leaves - 1; k >= 1; k--) {
      const l = 2 * k;
      acc[k] = Math.max(acc[l]!, acc[l + 1]!);
      cores[k] = Math.max(cores[l]!, cores[l + 1]!);
      mem[k] = Math.max(mem[l]!, mem[l + 1]!);
    }
  }

  /** Copies what is free on every node into three arrays of at least `nodeCount` entries. */
  copyFreeInto(acc: Float64Array, cores: Float64Array, mem: Float64Array): void {
    const l = this.#leaves;
    const fromAcc = this.#acc;
    const fromCores = this.#cores;
    const fromMem = this.#mem;
    for (let i = 0; i < this.nodeCount; i++) {
      acc[i] = fromAcc[l + i]!;
      cores[i] = fromCores[l + i]!;
      mem[i] = fromMem[l + i]!;
    }
  }

  /** What is free now, summed over the nodes. */
  totals(): NodeRequest {
    const l = this.#leaves;
    let accelerators = 0;
    let cores = 0;
    let memoryMiB = 0;
    for (let i = 0; i < this.nodeCount; i++) {
      accelerators += this.#acc[l + i]!;
      cores += this.#cores[l + i]!;
      memoryMiB += this.#mem[l + i]!;
    }
    return { accelerators, cores, memoryMiB };
  }

  /** What is free on node `i` now. */
  freeOn(i: number): NodeRequest {
    const k = this.#leaves + i;
    return { accelerators: this.#acc[k]!, cores: this.#cores[k]!, memoryMiB: this.#mem[k]! };
  }

  /**
   * How many nodes could hold `perNode` now, counting no further than `nodes`: a result equal to
   * `nodes` means the gang fits; a smaller one is the exact count of nodes with room, or
   * `FEWER_THAN_NEEDED` when a remembered miss already settled that it does not fit.
   */
  fitCount(nodes: number, perNode: NodeRequest): number {
    const a = perNode.accelerators;
    const c = perNode.cores;
    const m = perNode.memoryMiB;
    if (nodes <= 0) return nodes;
    if (!this.#fits(1, a, c, m)) return 0;
    const misses = this.#misses;
    for (let k = 0; k < misses.length; k += 4) {
      if (a >= misses[k]! && c >= misses[k + 1]! && m >= misses[k + 2]! && nodes >= misses[k + 3]!) return FEWER_THAN_NEEDED;
    }
    const count = this.#collect(nodes, a, c, m, null);
    if (count === nodes) return nodes;
    this.#rememberMiss(a, c, m, nodes);
    return count;
  }

  /**
   * Takes `nodes` distinct nodes for `perNode`, first fit by index, and returns their indices in
   * ascending order. All or nothing: throws, changing nothing, when they do not fit (a caller bug,
   * since callers ask `fitCount` first).
   */
  take(nodes: number, perNode: NodeRequest): number[] {
    const a = perNode.accelerators;
    const c = perNode.cores;
    const m = perNode.memoryMiB;
    const chosen: number[] = [];
    this.#collect(nodes, a, c, m, chosen);
    if (chosen.length < nodes) throw new RangeError(`cannot take ${nodes} nodes: only ${chosen.length} have room`);
    for (const i of chosen) {
      const k = this.#leaves + i;
      this.#set(i, this.#acc[k]! - a, this.#cores[k]! - c, this.#mem[k]! - m);
    }
    return chosen;
  }

  /** The first `nodes` nodes with room for `perNode`, in index order, without taking them (fewer when short). */
  peek(nodes: number, perNode: NodeRequest): number[] {
    const chosen: number[] = [];
    this.#collect(nodes, perNode.accelerators, perNode.cores, perNode.memoryMiB, chosen);
    return chosen;
  }

  /**
   * Takes `perNode` on each of `indices` (nodes a caller found with room, say through another view
   * of the same pool). Throws, changing nothing, when one of them lacks room.
   */
  takeAt(indices: readonly number[], perNode: NodeRequest): void {
    const a = perNode.accelerators;
    const c = perNode.cores;
    const m = perNode.memoryMiB;
    for (const i of indices) {
      const k = this.#leaves + i;
      if (!(i >= 0 && i < this.nodeCount) || !this.#fits(k, a, c, m)) throw new RangeError(`node ${i} has no room for the request`);
    }
    for (const i of indices) this.#set(i, this.#acc[this.#leaves + i]! - a, this.#cores[this.#leaves + i]! - c, this.#mem[this.#leaves + i]! - m);
  }

  /**
   * Lowers what node `i` offers to `free` where that is less (never raises it: remembered misses
   * rely on capacity only shrinking during a pass).
   */
  lowerTo(i: number, free: NodeRequest): void {
    const k = this.#leaves + i;
    this.#set(i, Math.min(this.#acc[k]!, free.accelerators), Math.min(this.#cores[k]!, free.cores), Math.min(this.#mem[k]!, free.memoryMiB));
  }

  #set(i: number, a: number, c: number, m: number): void {
    let k = this.#leaves + i;
    this.#acc[k] = a;
    this.#cores[k] = c;
    this.#mem[k] = m;
    for (k >>= 1; k >= 1; k >>= 1) this.#pull(k);
  }

  #fits(k: number, a: number, c: number, m: number): boolean {
    return this.#acc[k]! >= a && this.#cores[k]! >= c && this.#mem[k]! >= m;
  }

  #pull(k: number): void {
    const l = 2 * k;
    this.#acc[k] = Math.max(this.#acc[l]!, this.#acc[l + 1]!);
    this.#cores[k] = Math.max(this.#cores[l]!, this.#cores[l + 1]!);
    this.#mem[k] = Math.max(this.#mem[l]!, this.#mem[l + 1]!);
  }

  /**
   * Counts (and with `into`, lists) up to `need` nodes with room, in index order: a depth-first walk
   * that enters a subtree only when its maxima suffice. The maxima may come from different nodes,
   * so an entered subtree can still hold no node with room; the walk then moves on to the next.
   */
  #collect(need: number, a: number, c: number, m: number, into: number[] | null): number {
    const acc = this.#acc;
    const cores = this.#cores;
    const mem = this.#mem;
    const leaves = this.#leaves;
    let found = 0;
    let k = 1;
    for (;;) {
      if (acc[k]! >= a && cores[k]! >= c && mem[k]! >= m) {
        if (k < leaves) {
          k *= 2;
          continue;
        }
        into?.push(k - leaves);
        if (++found === need) return found;
      }
      // On to the next subtree to the right: up past every right child, then across.
      while ((k & 1) === 1) {
        k >>= 1;
        if (k === 0) return found;
      }
      k++;
    }
  }

  // Misses form an antichain: a new miss is never covered by an old one (it would not have been
  // searched), and it replaces the old ones it covers, so the list keeps the smallest shapes.
  #rememberMiss(a: number, c: number, m: number, nodes: number): void {
    const misses = this.#misses;
    let kept = 0;
    for (let k = 0; k < misses.length; k += 4) {
      if (misses[k]! >= a && misses[k + 1]! >= c && misses[k + 2]! >= m && misses[k + 3]! >= nodes) continue;
      if (kept !== k) {
        misses[kept] = misses[k]!;
        misses[kept + 1] = misses[k + 1]!;
        misses[kept + 2] = misses[k + 2]!;
        misses[kept + 3] = misses[k + 3]!;
      }
      kept += 4;
    }
    misses.length = kept;
    if (kept === MAX_REMEMBERED_MISSES * 4) misses.splice(0, 4); // the oldest goes
    misses.push(a, c, m, nodes);
  }

}

/** Per size, an array of that many -Infinity (doubles), which trees copy: a copy is cheaper than a fill. */
const EMPTY_TREES = new Map<number, readonly number[]>();

function emptyTree(size: number): number[] {
  let t = EMPTY_TREES.get(size);
  if (t === undefined) {
    const a: number[] = [];
    for (let i = 0; i < size; i++) a.push(-Infinity);
    t = a;
    EMPTY_TREES.set(size, t);
  }
  return t as number[];
}
