import type { NodeRequest } from '../core/resources.js';
import { PoolCapacity } from './capacity.js';
import type { PoolView, RunningJob } from './types.js';

/** `fitCount` result: the gang fits now, but only by taking room a reservation on the pool needs. */
export const WOULD_DELAY_RESERVATION = -3;

/** A reservation as a pool keeps it. */
export interface PoolReservation {
  readonly jobId: string;
  readonly startAt: number;
  readonly nodeIndices: readonly number[];
  readonly perNode: NodeRequest;
}

/** The earliest time a gang fits on a pool, and on which nodes. */
export interface EarliestFit {
  readonly startAt: number;
  readonly nodeIndices: readonly number[];
}

/**
 * One pool during a pass: what is free now (`free`), what comes back when (releases of running
 * jobs at their `endsAt`, and of this pass's placements at the end of their walltime), and at most
 * one reservation, EASY style: the reserved job takes its nodes at `startAt`; a later job may start
 * now only if it is sure to be gone by then (its stage-in and walltime end before `startAt`) or
 * it fits in what the reservation leaves over at `startAt` (`#crossing`: per node, the smaller of
 * what is free now and what will be spare then). So no job placed after a reservation delays it.
 */
export class PoolState {
  readonly free: PoolCapacity;
  readonly #cap: NodeRequest;
  readonly #now: number;
  // Releases, in insertion order; `#order` sorts them by time when a scan needs it.
  readonly #time: number[] = [];
  readonly #node: number[] = [];
  readonly #acc: number[] = [];
  readonly #cores: number[] = [];
  readonly #mem: number[] = [];
  #order: Int32Array | null = null;
  /** Bumped by every placement: earliest fits computed before it no longer hold. */
  #version = 0;
  #cacheVersion = 0;
  readonly #cache = new Map<string, EarliestFit | null>();
  #reservation: PoolReservation | null = null;
  #crossing: PoolCapacity | null = null;
  // Scratch for scans: per node accelerators, cores, memory.
  #curAcc: Float64Array | null = null;
  #curCores: Float64Array | null = null;
  #curMem: Float64Array | null = null;

  /** `releases` are the running jobs on this pool; an `endsAt` already past counts as `now`. */
  constructor(pool: PoolView, releases: readonly RunningJob[], now: number) {
    this.free = new PoolCapacity(pool.freeByNode);
    this.#cap = pool.perNode;
    this.#now = now;
    for (const r of releases) {
      const at = Math.max(now, r.endsAt);
      if (!Number.isFinite(at)) continue;
      for (const i of r.nodeIndices) {
        if (Number.isInteger(i) && i >= 0 && i < this.free.nodeCount) this.#release(at, i, r.perNode);
      }
    }
  }

  get reservation(): PoolReservation | null {
    return this.#reservation;
  }

  /**
   * `PoolCapacity.fitCount` for a job that would hold its nodes until `holdUntil`: `nodes` when it
   * may start now, `WOULD_DELAY_RESERVATION` when it fits only by delaying the reservation, else
   * how many nodes have room (or `FEWER_THAN_NEEDED`).
   */
  fitCount(nodes: number, perNode: NodeRequest, holdUntil: number): number {
    const crossing = this.#crossing;
    if (crossing !== null && holdUntil > this.#reservation!.startAt) {
      if (crossing.fitCount(nodes, perNode) === nodes) return nodes;
      const plain = this.free.fitCount(nodes, perNode);
      return plain === nodes ? WOULD_DELAY_RESERVATION : plain;
    }
    return this.free.fitCount(nodes, perNode);
  }

  /** Takes the first nodes that may hold the job until `holdUntil` (ask `fitCount` first); their indices ascending. */
  take(nodes: number, perNode: NodeRequest, holdUntil: number): number[] {
    const crossing = this.#crossing;
    let taken: number[];
    if (crossing !== null && holdUntil > this.#reservation!.startAt) {
      taken = crossing.take(nodes, perNode);
      this.free.takeAt(taken, perNode);
    } else {
      taken = this.free.take(nodes, perNode);
      if (crossing !== null) for (const i of taken) crossing.lowerTo(i, this.free.freeOn(i));
    }
    for (const i of taken) this.#release(holdUntil, i, perNode);
    this.#version++;
    return taken;
  }

  /**
   * The earliest time `nodes` nodes have room for `perNode`, counting releases as they come, and
   * the first such nodes by index; null when the known releases never make room. Remembered until
   * the next placement on the pool.
   */
  earliestFit(nodes: number, perNode: NodeRequest): EarliestFit | null {
    if (this.#cacheVersion !== this.#version) {
      this.#cache.clear();
      this.#cacheVersion = this.#version;
    }
    const key = `${perNode.accelerators} ${perNode.cores} ${perNode.memoryMiB} ${nodes}`;
    const known = this.#cache.get(key);
    if (known !== undefined) return known;
    const found = this.#scan(nodes, perNode, Infinity);
    this.#cache.set(key, found);
    return found;
  }

  /** Records `r` (its nodes have room at its start, from `earliestFit`): from now on no placement may delay it. */
  reserve(r: PoolReservation): void {
    if (this.#reservation !== null) throw new Error('a pool holds at most one reservation per pass');
    const n = this.free.nodeCount;
    this.#scan(0, r.perNode, r.startAt); // leaves what is free at r.startAt in the scratch arrays
    const inReservation = new Uint8Array(n);
    for (const i of r.nodeIndices) inReservation[i] = 1;
    const rows: NodeRequest[] = [];
    for (let i = 0; i < n; i++) {
      const now = this.free.freeOn(i);
      const take = inReservation[i] === 1;
      rows.push({
        accelerators: Math.min(now.accelerators, this.#curAcc![i]! - (take ? r.perNode.accelerators : 0)),
        cores: Math.min(now.cores, this.#curCores![i]! - (take ? r.perNode.cores : 0)),
        memoryMiB: Math.min(now.memoryMiB, this.#curMem![i]! - (take ? r.perNode.memoryMiB : 0)),
      });
    }
    this.#reservation = r;
    this.#crossing = new PoolCapacity(rows);
  }

  #release(at: number, node: number, perNode: NodeRequest): void {
    this.#time.push(at);
    this.#node.push(node);
    this.#acc.push(perNode.accelerators);
    this.#cores.push(perNode.cores);
    this.#mem.push(perNode.memoryMiB);
    this.#order = null;
  }

  /**
   * Walks the releases in time order from what is free now. With `until` finite it applies every
   * release up to then and stops (the scratch arrays then hold what is free at `until`); else it
   * stops at the first time `nodes` nodes have room for `perNode` and returns that time and the nodes.
   */
  #scan(nodes: number, perNode: NodeRequest, until: number): EarliestFit | null {
    const n = this.free.nodeCount;
    if (this.#curAcc === null) {
      this.#curAcc = new Float64Array(n);
      this.#curCores = new Float64Array(n);
      this.#curMem = new Float64Array(n);
    }
    const acc = this.#curAcc;
    const cores = this.#curCores!;
    const mem = this.#curMem!;
    this.free.copyFreeInto(acc, cores, mem);
    const a = perNode.accelerators;
    const c = perNode.cores;
    const m = perNode.memoryMiB;
    const fits = (i: number) => acc[i]! >= a && cores[i]! >= c && mem[i]! >= m;
    let fitting = 0;
    for (let i = 0; i < n; i++) if (fits(i)) fitting++;
    const order = this.#sorted();
    let at = this.#now;
    let e = 0;
    const searching = !Number.isFinite(until);
    while (!(searching && fitting >= nodes)) {
      if (e >= order.length) return searching ? null : { startAt: until, nodeIndices: [] };
      at = this.#time[order[e]!]!;
      if (!searching && at > until) return { startAt: until, nodeIndices: [] };
      // Every release at this instant, before looking again.
      while (e < order.length && this.#time[order[e]!] === at) {
        const k = order[e++]!;
        const i = this.#node[k]!;
        const before = fits(i);
        // Never beyond the node's size, should the snapshot list more releases than it has use.
        acc[i] = Math.max(acc[i]!, Math.min(this.#cap.accelerators, acc[i]! + this.#acc[k]!));
        cores[i] = Math.max(cores[i]!, Math.min(this.#cap.cores, cores[i]! + this.#cores[k]!));
        mem[i] = Math.max(mem[i]!, Math.min(this.#cap.memoryMiB, mem[i]! + this.#mem[k]!));
        if (!before && fits(i)) fitting++;
      }
    }
    const chosen: number[] = [];
    for (let i = 0; i < n && chosen.length < nodes; i++) if (fits(i)) chosen.push(i);
    return { startAt: at, nodeIndices: chosen };
  }

  #sorted(): Int32Array {
    if (this.#order === null) {
      const time = this.#time;
      const order = new Int32Array(time.length);
      for (let k = 0; k < order.length; k++) order[k] = k;
      order.sort((x, y) => time[x]! - time[y]! || x - y);
      this.#order = order;
    }
    return this.#order;
  }
}
