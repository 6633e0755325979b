import { compareText } from './network.js';
import { compareJobs } from './order.js';
import type { CenterView, PendingJob, Policy, RunningJob } from './types.js';

/** How much of the two fair-share resources something takes: accelerators and cores. */
export interface Usage {
  readonly accelerators: number;
  readonly cores: number;
}

/** An org's fair-share weight: as listed when a positive finite number, else 1. */
export function weightOf(weights: Readonly<Record<string, number>>, orgId: string): number {
  const w = Object.hasOwn(weights, orgId) ? weights[orgId] : undefined;
  return typeof w === 'number' && Number.isFinite(w) && w > 0 ? w : 1;
}

/** Accelerators and cores of every pool of the online centers: the denominators of the shares. */
export function networkCapacity(centers: readonly CenterView[]): Usage {
  let accelerators = 0;
  let cores = 0;
  for (const c of centers) {
    if (c.state !== 'online') continue;
    for (const p of c.pools) {
      accelerators += p.freeByNode.length * p.perNode.accelerators;
      cores += p.freeByNode.length * p.perNode.cores;
    }
  }
  return { accelerators, cores };
}

/**
 * Weighted dominant share: the larger of the org's share of the network's accelerators and of its
 * cores, divided by its weight. A resource the network has none of does not count.
 */
export function dominantShare(usage: Usage, capacity: Usage, weight: number): number {
  const a = capacity.accelerators > 0 ? usage.accelerators / capacity.accelerators : 0;
  const c = capacity.cores > 0 ? usage.cores / capacity.cores : 0;
  return Math.max(a, c) / weight;
}

/** The queue's order knobs of the policy (`Policy`): within an org, and whether orgs share fairly. */
export type QueueOrder = Pick<Policy, 'runtimeAging' | 'agingByWork' | 'fairShare'>;

interface Org {
  readonly id: string;
  readonly weight: number;
  readonly jobs: PendingJob[];
  cursor: number;
  accelerators: number;
  cores: number;
  share: number;
}

/**
 * The queue of a pass, by weighted DRF: the next job always comes from the org whose weighted
 * dominant share is lowest (ties by org id), counting what it runs and what this pass has placed
 * for it so far. Within an org, jobs go by priority, then age (queue time with the policy's
 * `runtimeAging`, `agingByWork`), then id (`compareJobs`); with `fairShare: false` every job is in
 * one queue in that order, whatever its org. Priority
 * orders an org's own work and never jumps another org's fair share. An org whose jobs do not fit
 * keeps its low share, so its later jobs keep their turn.
 */
export class FairQueue {
  readonly #orgs: Org[] = [];
  /** false: every job in one queue (the org key ''), no fair share. */
  readonly #fair: boolean;
  /** The running jobs, while a queue of one org has not needed their usage (`shareOf`). */
  #uncounted: readonly RunningJob[] | null = null;
  readonly #byId = new Map<string, Org>();
  readonly #capacity: Usage;
  /** A binary min-heap of org indices by (share, id). */
  readonly #heap: number[] = [];
  #current = -1;

  constructor(jobs: readonly PendingJob[], running: readonly RunningJob[], capacity: Usage, weights: Readonly<Record<string, number>>, order: QueueOrder = {}) {
    this.#capacity = capacity;
    this.#fair = order.fairShare ?? true;
    const runtimeAging = order.runtimeAging ?? 0;
    const byWork = order.agingByWork ?? false;
    for (const job of jobs) this.#org(this.#key(job.orgId), weights).jobs.push(job);
    // With one org in the queue its share decides nothing: what it runs is counted only if asked.
    if (this.#orgs.length > 1) this.#count(running);
    else this.#uncounted = running;
    this.#orgs.sort((a, b) => compareText(a.id, b.id));
    for (let i = 0; i < this.#orgs.length; i++) {
      const org = this.#orgs[i]!;
      if (!inOrder(org.jobs, runtimeAging, byWork)) org.jobs.sort((a, b) => compareJobs(a, b, runtimeAging, byWork)); // callers often keep queues in order already
      org.share = dominantShare(org, capacity, org.weight);
      this.#push(i);
    }
  }

  /** The next job in fair-share order, or undefined when every job has had its turn. */
  next(): PendingJob | undefined {
    if (this.#current >= 0) {
      const org = this.#orgs[this.#current]!;
      if (org.cursor < org.jobs.length) this.#push(this.#current);
      this.#current = -1;
    }
    if (this.#heap.length === 0) return undefined;
    const i = this.#pop();
    this.#current = i;
    const org = this.#orgs[i]!;
    return org.jobs[org.cursor++]!;
  }

  /** Counts `job`, the one `next` just gave, as placed: its org's share grows before its next turn. */
  charge(job: PendingJob): void {
    const org = this.#byId.get(this.#key(job.orgId))!;
    org.accelerators += job.nodes * job.perNode.accelerators;
    org.cores += job.nodes * job.perNode.cores;
    org.share = dominantShare(org, this.#capacity, org.weight);
  }

  /** The weighted dominant share of `orgId` now (0 for an org with nothing pending). */
  shareOf(orgId: string): number {
    if (this.#uncounted !== null) {
      this.#count(this.#uncounted);
      for (const org of this.#orgs) org.share = dominantShare(org, this.#capacity, org.weight);
    }
    return this.#byId.get(this.#key(orgId))?.share ?? 0;
  }

  /** Adds what `running` holds to the usage of the orgs with jobs pending. */
  #count(running: readonly RunningJob[]): void {
    this.#uncounted = null;
    for (const r of running) {
      const org = this.#byId.get(this.#key(r.orgId));
      if (org === undefined) continue; // an org with nothing pending is never picked
      org.accelerators += r.perNode.accelerators * r.nodeIndices.length;
      org.cores += r.perNode.cores * r.nodeIndices.length;
    }
  }

  #key(orgId: string): string {
    return this.#fair ? orgId : '';
  }

  #org(id: string, weights: Readonly<Record<string, number>>): Org {
    let org = this.#byId.get(id);
    if (org === undefined) {
      org = { id, weight: weightOf(weights, id), jobs: [], cursor: 0, accelerators: 0, cores: 0, share: 0 };
      this.#byId.set(id, org);
      this.#orgs.push(org);
    }
    return org;
  }

  #less(i: number, k: number): boolean {
    const a = this.#orgs[i]!;
    const b = this.#orgs[k]!;
    return a.share < b.share || (a.share === b.share && i < k); // indices follow org id order
  }

  #push(i: number): void {
    const heap = this.#heap;
    let at = heap.length;
    heap.push(i);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.#less(i, heap[parent]!)) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = i;
  }

  #pop(): number {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let at = 0;
      for (;;) {
        const l = 2 * at + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const child = r < heap.length && this.#less(heap[r]!, heap[l]!) ? r : l;
        if (!this.#less(heap[child]!, last)) break;
        heap[at] = heap[child]!;
        at = child;
      }
      heap[at] = last;
    }
    return top;
  }
}

function inOrder(jobs: readonly PendingJob[], runtimeAging: number, byWork: boolean): boolean {
  for (let i = 1; i < jobs.length; i++) if (compareJobs(jobs[i - 1]!, jobs[i]!, runtimeAging, byWork) > 0) return false;
  return true;
}
