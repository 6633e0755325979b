import type { NodeRequest } from '../core/resources.js';
import { PoolCapacity, type TreeStorage } from './capacity.js';
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

/** Arrays a pool's capacity trees may be built in, pass after pass (a pass's scratch in schedule.ts). */
export interface PoolStorage {
  readonly free: TreeStorage;
  readonly crossing: TreeStorage;
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
  // Releases, one per job (its nodes come back together), in insertion order; `#order` lists them
  // by time (ties in insertion order) once a scan has needed it, and later ones are put into place.
  readonly #time: number[] = [];
  readonly #nodes: (readonly number[])[] = [];
  readonly #per: NodeRequest[] = [];
  #order: number[] | null = null;
  /** Accelerators and cores free now, summed over the nodes: counted when `heldAt` first needs them, then kept by `take`. */
  #freeAcc = -1;
  #freeCores = -1;
  /** Per position in `#order`, accelerators and cores released up to and including it (built on demand). */
  #releasedAcc: number[] | null = null;
  #releasedCores: number[] | null = null;
  /** Bumped by every placement: earliest fits computed before it no longer hold. */
  #version = 0;
  #cacheVersion = 0;
  readonly #cache = new Map<string, EarliestFit | null>();
  #reservation: PoolReservation | null = null;
  /** Per reserved node (in `nodeIndices` order): accelerators, cores, memory the reservation leaves spare at its start. */
  #spareAtStart: Float64Array | null = null;
  #crossing: PoolCapacity | null = null;
  /** What each earliest fit found free on its nodes at its start (3 numbers per node), for `reserve`. */
  readonly #freeAtFit = new WeakMap<EarliestFit, Float64Array>();

  readonly #storage: PoolStorage | undefined;
  /** The running jobs' releases, until the first walk of the releases reads them in (`#sorted`). */
  #running: readonly RunningJob[] | (() => readonly RunningJob[]) | null;

  /**
   * `releases` are the running jobs on this pool (or a function giving them, called at most once,
   * when a walk of the releases first needs them); an `endsAt` already past counts as `now`. With
   * `storage` the capacity trees are written into the arrays left there by the last pass.
   */
  constructor(pool: PoolView, releases: readonly RunningJob[] | (() => readonly RunningJob[]), now: number, storage?: PoolStorage) {
    this.free = new PoolCapacity(pool.freeByNode, storage?.free);
    this.#storage = storage;
    this.#cap = pool.perNode;
    this.#now = now;
    this.#running = releases;
  }

  /**
   * Reads the running jobs' releases in, before the ones this pass's placements recorded (`take`),
   * as if they had been read at construction: the same insertion order, so the same ties.
   */
  #readRunning(): void {
    const source = this.#running;
    if (source === null) return;
    this.#running = null;
    const running = typeof source === 'function' ? source() : source;
    const time = this.#time.splice(0);
    const nodesOf = this.#nodes.splice(0);
    const per = this.#per.splice(0);
    const n = this.free.nodeCount;
    const onPool = (i: number): boolean => Number.isInteger(i) && i >= 0 && i < n;
    for (const r of running) {
      const at = Math.max(this.#now, r.endsAt);
      if (!Number.isFinite(at)) continue;
      let nodes = r.nodeIndices;
      if (!nodes.every(onPool)) nodes = nodes.filter(onPool);
      if (nodes.length > 0) this.#release(at, nodes, r.perNode);
    }
    for (let k = 0; k < time.length; k++) this.#release(time[k]!, nodesOf[k]!, per[k]!);
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
    const plain = this.free.fitCount(nodes, perNode);
    if (plain !== nodes || this.#reservation === null || holdUntil <= this.#reservation.startAt) return plain;
    return this.#crossingNow().fitCount(nodes, perNode) === nodes ? nodes : WOULD_DELAY_RESERVATION;
  }

  /** Takes the first nodes that may hold the job until `holdUntil` (ask `fitCount` first); their indices ascending. */
  take(nodes: number, perNode: NodeRequest, holdUntil: number): number[] {
    let taken: number[];
    if (this.#reservation !== null && holdUntil > this.#reservation.startAt) {
      const crossing = this.#crossingNow();
      taken = crossing.take(nodes, perNode);
      this.free.takeAt(taken, perNode);
    } else {
      taken = this.free.take(nodes, perNode);
      const crossing = this.#crossing;
      if (crossing !== null) for (const i of taken) crossing.lowerTo(i, this.free.freeOn(i));
    }
    this.#release(holdUntil, taken, perNode);
    if (this.#freeAcc >= 0) {
      this.#freeAcc -= nodes * perNode.accelerators;
      this.#freeCores -= nodes * perNode.cores;
    }
    this.#version++;
    return taken;
  }

  /**
   * Accelerators (or, with `cores`, cores) still held at time `t` (≥ now) by running jobs and this
   * pass's placements: what is held now less what their releases give back by `t`, summed over the
   * pool (not per node: for planning capacity by the hour, not for placing).
   */
  heldAt(t: number, cores: boolean): number {
    if (this.#freeAcc < 0) {
      const totals = this.free.totals();
      this.#freeAcc = totals.accelerators;
      this.#freeCores = totals.cores;
    }
    const order = this.#sorted();
    if (this.#releasedAcc === null) {
      const acc: number[] = [];
      const cs: number[] = [];
      let a = 0;
      let c = 0;
      for (const k of order) {
        a += this.#per[k]!.accelerators * this.#nodes[k]!.length;
        c += this.#per[k]!.cores * this.#nodes[k]!.length;
        acc.push(a);
        cs.push(c);
      }
      this.#releasedAcc = acc;
      this.#releasedCores = cs;
    }
    const upTo = this.#firstAfter(order, t); // the releases at or before t
    const released = upTo === 0 ? 0 : cores ? this.#releasedCores![upTo - 1]! : this.#releasedAcc[upTo - 1]!;
    const capacity = this.free.nodeCount * (cores ? this.#cap.cores : this.#cap.accelerators);
    const heldNow = capacity - (cores ? this.#freeCores : this.#freeAcc);
    return Math.max(0, heldNow - released);
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
    const key = shapeKey(nodes, perNode);
    const known = this.#cache.get(key);
    if (known !== undefined) return known;
    const found = this.#scan(nodes, perNode, Infinity);
    this.#cache.set(key, found);
    return found;
  }

  /** Records `r` (its nodes have room at its start, from `earliestFit`): from now on no placement may delay it. */
  reserve(r: PoolReservation): void {
    if (this.#reservation !== null) throw new Error('a pool holds at most one reservation per pass');
    // What is free on the reserved nodes at the start: from the earliest fit that found them (the
    // usual case, nothing placed since), else walked again.
    const k = r.nodeIndices.length;
    const fit = this.#cacheVersion === this.#version ? this.#cache.get(shapeKey(k, r.perNode)) : undefined;
    let free = fit && fit.startAt === r.startAt && sameNodes(fit.nodeIndices, r.nodeIndices) ? this.#freeAtFit.get(fit) : undefined;
    if (free === undefined) {
      this.#scan(0, r.perNode, r.startAt);
      free = scannedFreeOn(r.nodeIndices);
    }
    const spare = new Float64Array(3 * k);
    for (let j = 0; j < k; j++) {
      spare[3 * j] = free[3 * j]! - r.perNode.accelerators;
      spare[3 * j + 1] = free[3 * j + 1]! - r.perNode.cores;
      spare[3 * j + 2] = free[3 * j + 2]! - r.perNode.memoryMiB;
    }
    this.#reservation = r;
    this.#spareAtStart = spare;
  }

  /**
   * What a job that would still run at the reservation's start may take: per node, the smaller of
   * what is free now and what the reservation leaves spare at its start. Built when first needed
   * (most jobs after a reservation do not fit what is free at all), then kept up to date by `take`.
   * Placements made before it is built end before the reservation starts, so what they take now
   * comes back by then and building it later gives what building it at once would have.
   */
  #crossingNow(): PoolCapacity {
    if (this.#crossing !== null) return this.#crossing;
    // Off the reserved nodes a job may take what is free now: releases only add room by the start.
    const crossing = new PoolCapacity(this.free, this.#storage?.crossing);
    const r = this.#reservation!;
    const spare = this.#spareAtStart!;
    r.nodeIndices.forEach((i, j) => crossing.lowerTo(i, { accelerators: spare[3 * j]!, cores: spare[3 * j + 1]!, memoryMiB: spare[3 * j + 2]! }));
    this.#crossing = crossing;
    return crossing;
  }

  #release(at: number, nodes: readonly number[], perNode: NodeRequest): void {
    const k = this.#time.length;
    this.#time.push(at);
    this.#nodes.push(nodes);
    this.#per.push(perNode);
    this.#releasedAcc = null;
    this.#releasedCores = null;
    const order = this.#order;
    if (order === null) return;
    // Into place after every release at or before `at`.
    const place = this.#firstAfter(order, at);
    if (place === order.length) order.push(k);
    else order.splice(place, 0, k);
  }

  /** The position in `order` (releases in time order) of the first release after `t`: a binary search. */
  #firstAfter(order: readonly number[], t: number): number {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#time[order[mid]!]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Walks the releases in time order from what is free now. With `until` finite it applies every
   * release up to then and stops (the scan arrays, `scratchFor`, then hold what is free at `until`); else it
   * stops at the first time `nodes` nodes have room for `perNode` and returns that time and the nodes.
   */
  #scan(nodes: number, perNode: NodeRequest, until: number): EarliestFit | null {
    const n = this.free.nodeCount;
    const { acc, cores, mem } = scratchFor(n);
    this.free.copyFreeInto(acc, cores, mem);
    const a = perNode.accelerators;
    const c = perNode.cores;
    const m = perNode.memoryMiB;
    const capA = this.#cap.accelerators;
    const capC = this.#cap.cores;
    const capM = this.#cap.memoryMiB;
    let fitting = 0;
    for (let i = 0; i < n; i++) if (acc[i]! >= a && cores[i]! >= c && mem[i]! >= m) fitting++;
    const order = this.#sorted();
    const time = this.#time;
    let at = this.#now;
    let e = 0;
    const searching = !Number.isFinite(until);
    while (!(searching && fitting >= nodes)) {
      if (e >= order.length) return searching ? null : { startAt: until, nodeIndices: [] };
      at = time[order[e]!]!;
      if (!searching && at > until) return { startAt: until, nodeIndices: [] };
      // Every release at this instant, before looking again.
      while (e < order.length && time[order[e]!] === at) {
        const k = order[e++]!;
        const per = this.#per[k]!;
        const ra = per.accelerators;
        const rc = per.cores;
        const rm = per.memoryMiB;
        for (const i of this.#nodes[k]!) {
          const before = acc[i]! >= a && cores[i]! >= c && mem[i]! >= m;
          // Never beyond the node's size, should the snapshot list more releases than it has use.
          acc[i] = Math.max(acc[i]!, Math.min(capA, acc[i]! + ra));
          cores[i] = Math.max(cores[i]!, Math.min(capC, cores[i]! + rc));
          mem[i] = Math.max(mem[i]!, Math.min(capM, mem[i]! + rm));
          if (!before && acc[i]! >= a && cores[i]! >= c && mem[i]! >= m) fitting++;
        }
      }
    }
    const chosen: number[] = [];
    for (let i = 0; i < n && chosen.length < nodes; i++) if (acc[i]! >= a && cores[i]! >= c && mem[i]! >= m) chosen.push(i);
    const fit = { startAt: at, nodeIndices: chosen };
    this.#freeAtFit.set(fit, scannedFreeOn(chosen));
    return fit;
  }

  #sorted(): readonly number[] {
    if (this.#order === null) {
      this.#readRunning();
      const time = this.#time;
      const order: number[] = [];
      let sorted = true;
      for (let k = 0; k < time.length; k++) {
        order.push(k);
        if (k > 0 && time[k - 1]! > time[k]!) sorted = false;
      }
      if (!sorted) order.sort((x, y) => time[x]! - time[y]! || x - y);
      this.#order = order;
    }
    return this.#order;
  }
}

interface NodeArrays {
  readonly acc: Float64Array;
  readonly cores: Float64Array;
  readonly mem: Float64Array;
}

/**
 * Per-node working arrays shared by every pool's scans: a scan's result is read before the next
 * scan starts (nothing in a pass runs two at once), and allocating them per pool and pass was a
 * measurable share of a simulator's replay. Only their size survives a pass, never their content.
 */
let shared: NodeArrays | null = null;

function scratchFor(n: number): NodeArrays {
  if (shared === null || shared.acc.length < n) {
    const size = Math.max(n, 2 * (shared?.acc.length ?? 0));
    shared = { acc: new Float64Array(size), cores: new Float64Array(size), mem: new Float64Array(size) };
  }
  return shared;
}

/** What the last scan left free on `nodes`: accelerators, cores and memory of each, in order. */
function scannedFreeOn(nodes: readonly number[]): Float64Array {
  const { acc, cores, mem } = shared!;
  const free = new Float64Array(3 * nodes.length);
  nodes.forEach((i, j) => {
    free[3 * j] = acc[i]!;
    free[3 * j + 1] = cores[i]!;
    free[3 * j + 2] = mem[i]!;
  });
  return free;
}

function shapeKey(nodes: number, perNode: NodeRequest): string {
  return `${perNode.accelerators} ${perNode.cores} ${perNode.memoryMiB} ${nodes}`;
}

function sameNodes(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
