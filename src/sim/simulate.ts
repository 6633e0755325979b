/*
 * The simulator's event loop: a trace replayed against a network model, with the production
 * scheduler (`schedule` of src/scheduler) deciding on a simulated clock. docs/simulator.md has the
 * whole story; in short:
 *
 * Events. Arrivals come from the trace stream, one job read ahead (the trace is never held in
 * memory: only jobs waiting or running are); job ends and wake-ups sit in an `EventHeap` ordered
 * by (time, sequence). Everything at one instant is handled as one batch, ends first (their nodes
 * come back), then wake-ups, then arrivals; then comes the pass.
 *
 * Pass cadence. After each batch, one scheduling pass per *scope* that changed (a job arrived in
 * it, a job of it ended, or a wake-up fell due): the whole network for the late-binding policies,
 * each center's own queue for the early-binding ones. A scope where nothing changed is not passed:
 * with no new job and no capacity back a pass has nothing new to decide (for an FCFS + EASY queue
 * provably: time passing only makes backfill harder), except for jobs the scheduler deferred to a
 * better hour, which get a wake-up at that hour. `minPassIntervalS` (default 0: off) caps passes to
 * one per interval per scope, events in between waiting for the next pass: a speed knob that does
 * change outcomes (measured in docs/simulator.md), never the scheduler's decision on a snapshot.
 *
 * What a pass sees (exactly what the scheduler would decide on the full queue, faster). A pending
 * job that does not fit the free capacity of any pool it could use can neither start now nor be
 * deferred; the only thing it can do in a pass is take a pool's reservation. So a pass is skipped
 * when no pending job fits anywhere, and otherwise the snapshot holds every job that might fit,
 * plus, per org and per set of usable pools U, the first |U| jobs in the org's order that do not
 * fit: once |U| of them have had their turn every pool of U holds a reservation, so the later ones
 * are no-ops, and leaving them out changes no decision (fair share moves only when a job is placed).
 * `filterPasses: false` gives every pass the whole queue, to check this (the tests do).
 *
 * Incremental passes (early binding only: FCFS + EASY, no look-ahead, no stage-in). When no
 * capacity came back since the scope's last pass, the jobs that were pending then cannot start now
 * and keep the same reservations; the pass sees only the reservation holders and the jobs that
 * arrived since (the proof is in #maybePass and docs/simulator.md; the tests compare every policy
 * filtered and unfiltered, run by run).
 *
 * Runs. A placed job takes the nodes the scheduler chose at once; its inputs stage in first
 * (the option's `stageInSeconds`, holding the nodes, as the scheduler plans a start now); then it
 * runs the trace's actual run time × reference chip speed ÷ chosen chip speed (FP16, the
 * scheduler's own `speedRatio`; 1 for CPU jobs, for a chip without a figure, and on a network of
 * the reference chip). The scheduler plans with the trace's requested time scaled the same way
 * (`runtimeSeconds` = the request on the reference chip; walltime = the request on the slowest chip
 * the job could use), and a running job's `endsAt` is its start + stage-in + walltime: the hold the
 * scheduler itself planned when it placed the job, never the actual end.
 */
import type { NodeRequest } from '../core/resources.js';
import { seededRng } from '../core/rng.js';
import {
  boardWatts,
  carbonCurve,
  carbonOf,
  checkFeasible,
  compareJobs,
  computeCost,
  DataRoutes,
  DEFAULT_POLICY,
  energyKwh,
  hourlyFen,
  jobWatts,
  Network,
  priceCurve,
  schedule,
  speedRatio,
  staticReason,
  type CenterView,
  type DatasetView,
  type HourlyCurve,
  type Infeasible,
  type PendingJob,
  type Placement,
  type Policy,
  type PoolView,
  type RunningJob,
} from '../scheduler/index.js';
import { EventHeap } from './event-heap.js';
import { computeMetrics, type CenterCapacity, type JobRecord, type Metrics, type UnplaceableRecord } from './metrics.js';
import { centerCapacity, type CenterModel, type NetworkModel, type PoolModel } from './network-model.js';
import { centerId as clusterCenterId } from './networks/trace-network.js';
import { binderFor, POLICIES, type Binder, type BindCandidate, type PolicyName, type PolicySpec } from './policies/index.js';
import { SimClock } from './sim-clock.js';
import { jobShape, LiveViews, pendingJob, runningJob, type ShapeOptions, type SimJob } from './snapshot-builder.js';
import { TraceOrderError } from './trace/source.js';
import type { TraceJob } from './trace/types.js';

/** The chip the public GPU traces ran on (their era): what trace run times are measured on by default. */
export const TRACE_REFERENCE_ACCELERATOR = 'nvidia-v100';

export interface SimulateOptions {
  readonly model: NetworkModel;
  readonly policy: PolicyName;
  /** Wall time (epoch ms) of trace second 0: time-of-use prices and carbon follow it. Default 0. */
  readonly epochMs?: number;
  /** Seed of the `random` policy. Default 1. */
  readonly seed?: number;
  /** The chip trace run times were measured on. Default `nvidia-v100`. */
  readonly referenceAccelerator?: string;
  /** Job shapes; default GPUs per node and cores per CPU node from the model's first GPU and CPU pools. */
  readonly shape?: ShapeOptions;
  /**
   * Every job reads one dataset of this many GB (10^9 bytes) whose only replica is in its home
   * center's region (`data:<cluster>`): running elsewhere stages it in over the links. Default 0: none.
   */
  readonly inputGB?: number;
  /** The trace's clusters (its header), to map homes onto centers when their names are not center ids. */
  readonly clusters?: readonly string[];
  /** At most one pass per scope per this many simulated seconds (0: after every batch of events). */
  readonly minPassIntervalS?: number;
  /** false: give every pass the whole queue (slow; for checking that the filter changes nothing). */
  readonly filterPasses?: boolean;
  /** Overrides of the policy's scheduler knobs. */
  readonly scheduler?: Partial<Policy>;
  /** Utilisation buckets in seconds (default 3600). */
  readonly bucketSeconds?: number;
  /** Keep every job record in the result (tests). */
  readonly keepRecords?: boolean;
  /** Called every `progressEvery` events (default 16,384) and at the end. */
  readonly onProgress?: (p: SimProgress) => void;
  readonly progressEvery?: number;
}

export interface SimProgress {
  readonly events: number;
  readonly arrivals: number;
  readonly ends: number;
  /** Trace seconds of the simulated clock. */
  readonly simSeconds: number;
  readonly pending: number;
  readonly running: number;
  readonly done: boolean;
}

export interface SimCounters {
  /** Arrivals + ends + wake-ups handled. */
  readonly events: number;
  readonly arrivals: number;
  readonly ends: number;
  readonly wakeups: number;
  /** Scheduling passes run (calls of `schedule`). */
  readonly passes: number;
  /** Passes found needless: a changed scope where no pending job fit anywhere. */
  readonly passesSkipped: number;
  /** Passes that saw only reservation holders and new arrivals (no capacity back since the last). */
  readonly incrementalPasses: number;
  /** Pending jobs handed to `schedule`, over all passes. */
  readonly jobsInPasses: number;
  /** The longest queue seen (all scopes). */
  readonly maxPending: number;
}

export interface SimulationResult {
  readonly policy: PolicyName;
  readonly network: string;
  readonly centers: readonly CenterCapacity[];
  readonly metrics: Metrics;
  /** Waits at 0, 0.5, 1, ... 100 percent (nearest rank; empty when no job ran), for CDFs. */
  readonly waitQuantiles: readonly number[];
  /** The first unplaceable jobs (at most 20), with the scheduler's sentence. */
  readonly unplaceableExamples: readonly UnplaceableRecord[];
  readonly counters: SimCounters;
  /** Every finished job (only with `keepRecords`). */
  readonly records?: readonly JobRecord[];
}

// ------------------------------------------------------------------------------------------------

const ZERO: NodeRequest = Object.freeze({ accelerators: 0, cores: 0, memoryMiB: 0 });
/** The org of every job in an early-binding center queue: one org, so fair share is FCFS. */
const QUEUE_ORG = 'queue';

interface Slot {
  readonly index: number;
  readonly centerIndex: number;
  readonly center: CenterModel;
  readonly pool: PoolModel;
  readonly id: string;
  readonly view: PoolView;
  readonly centerView: CenterView;
  /** Live free capacity per node (the view's `freeByNode`). */
  readonly free: NodeRequest[];
  readonly chip: string | null;
  readonly prices: HourlyCurve | null;
  readonly grid: HourlyCurve;
  readonly watts: number;
  readonly pue: number;
  // Aggregates of `free`: totals, per-node maxima and how many nodes hold each maximum, kept by
  // starts and ends; recounted before a pass when dirty (at first, and after a start took from the
  // last node holding a maximum).
  dirty: boolean;
  totA: number;
  totC: number;
  totM: number;
  maxA: number;
  maxC: number;
  maxM: number;
  atMaxA: number;
  atMaxC: number;
  atMaxM: number;
}

interface QJob {
  readonly trace: TraceJob;
  readonly pending: PendingJob;
  readonly usable: readonly number[];
  /** `usable` as a key. */
  readonly key: string;
  readonly scope: number;
  readonly home: number;
  readonly unitIsAcc: boolean;
  readonly units: number;
  done: boolean;
}

interface Run {
  readonly job: QJob;
  readonly slot: Slot;
  readonly nodes: readonly number[];
  readonly running: RunningJob;
  readonly startS: number;
  readonly record: JobRecord;
}

interface Scope {
  readonly index: number;
  readonly centers: readonly CenterView[];
  readonly slots: readonly Slot[];
  /** Pending jobs per org, each list in `compareJobs` order once `sorted`. */
  readonly orgs: Map<string, { jobs: QJob[]; sorted: boolean; done: number }>;
  readonly running: RunningJob[];
  readonly runs: Run[];
  pending: number;
  dirty: boolean;
  lastPassS: number;
  readonly wakes: Set<number>;
  /** Since the last pass run: did capacity come back (a job ended) or a wake-up fall due? */
  capacityBack: boolean;
  /** The jobs that arrived since the last pass ran. */
  arrived: QJob[];
  /** The jobs that held reservations after the last pass run. */
  holders: readonly QJob[];
  /** The scheduler's view of the scope's fixed network (centers, links, datasets), built at the first pass. */
  network: Network | null;
}

/** Maps a trace's clusters onto the network's centers: by id, else in the trace's cluster order. */
class HomeMap {
  readonly #byId: Map<string, number>;
  readonly #known: Map<string, number>;
  readonly #centers: number;
  readonly #seen = new Map<string, number>();
  constructor(centers: readonly CenterModel[], clusters: readonly string[]) {
    this.#byId = new Map(centers.map((c, i) => [c.id, i]));
    this.#centers = centers.length;
    this.#known = new Map([...clusters].sort().map((c, i) => [c, i]));
  }
  /** The center index of `cluster`: the center of that id; the only center; else by cluster order, cycling. */
  of(cluster: string): number {
    const direct = this.#byId.get(clusterCenterId(cluster)) ?? this.#byId.get(cluster);
    if (direct !== undefined) return direct;
    if (this.#centers === 1) return 0;
    const known = this.#known.get(cluster);
    if (known !== undefined) return known % this.#centers;
    let k = this.#seen.get(cluster);
    if (k === undefined) {
      k = this.#known.size + this.#seen.size;
      this.#seen.set(cluster, k);
    }
    return k % this.#centers;
  }
}

/** The most common reason among `infeasible` (ties: the first listed), with its first sentence. */
function mainReason(infeasible: readonly Infeasible[]): { reason: string; detail: string } {
  const counts = new Map<string, number>();
  for (const i of infeasible) counts.set(i.reason, (counts.get(i.reason) ?? 0) + 1);
  let best = infeasible[0];
  for (const i of infeasible) if ((counts.get(i.reason) ?? 0) > (counts.get(best!.reason) ?? 0)) best = i;
  return best === undefined ? { reason: 'no-pool', detail: 'the network has no pool' } : { reason: best.reason, detail: best.detail };
}

/**
 * Replays `jobs` (in submit order; one pass) on `options.model` under `options.policy` and returns
 * the metrics. Deterministic: the same trace, model and options give the same result.
 */
export async function simulate(jobs: AsyncIterable<TraceJob> | Iterable<TraceJob>, options: SimulateOptions): Promise<SimulationResult> {
  const sim = new Simulation(options);
  return sim.run(jobs);
}

/** One run (use `simulate`). */
export class Simulation {
  readonly #o: SimulateOptions;
  readonly #spec: PolicySpec;
  readonly #knobs: Policy;
  /** The knobs' `runtimeAging`: the order of every org's queue (the scheduler's `compareJobs`). */
  readonly #aging: number;
  /** The knobs' `agingByWork` (with `#aging`). */
  readonly #byWork: boolean;
  readonly #model: NetworkModel;
  readonly #views: LiveViews;
  readonly #clock: SimClock;
  readonly #slots: Slot[] = [];
  readonly #slotById = new Map<string, Slot>();
  readonly #scopes: Scope[] = [];
  readonly #heap = new EventHeap<Run | number>();
  readonly #homes: HomeMap;
  readonly #binder: Binder | null;
  readonly #reference: string;
  readonly #shape: ShapeOptions;
  readonly #inputBytes: number;
  readonly #datasets: DatasetView[] = [];
  readonly #routes: DataRoutes;
  readonly #filter: boolean;
  readonly #incremental: boolean;
  readonly #minInterval: number;
  readonly #records: JobRecord[] = [];
  readonly #unplaceable: UnplaceableRecord[] = [];
  /** Per center: units held and queued, accelerators and cores (least-loaded). */
  readonly #heldAcc: Float64Array;
  readonly #heldCores: Float64Array;
  readonly #capAcc: Float64Array;
  readonly #capCores: Float64Array;
  #now = 0;
  #events = 0;
  #arrivals = 0;
  #ends = 0;
  #wakeups = 0;
  #passes = 0;
  #skipped = 0;
  #incrementalPasses = 0;
  #jobsInPasses = 0;
  #pending = 0;
  #maxPending = 0;
  #running = 0;
  /** The candidates (pools that could ever run it) of a job, by its static key (see #arrive). */
  readonly #candidates = new Map<string, readonly BindCandidate[]>();
  readonly #candidatePools = new Map<string, readonly number[]>();
  /** The scopes marked dirty since their last pass (`#touch`). */
  #dirty: Scope[] = [];
  /** Every job waiting in some scope, by id: what a pass's decisions are looked up in. */
  readonly #queued = new Map<string, QJob>();

  constructor(options: SimulateOptions) {
    this.#o = options;
    this.#spec = POLICIES[options.policy];
    if (this.#spec === undefined) throw new Error(`unknown policy "${options.policy}"`);
    this.#knobs = { ...policyKnobs(options.policy), ...options.scheduler };
    this.#aging = this.#knobs.runtimeAging ?? 0;
    this.#byWork = this.#knobs.agingByWork ?? false;
    const model = options.model;
    this.#model = model;
    this.#views = new LiveViews(model);
    this.#clock = new SimClock(options.epochMs ?? 0);
    this.#reference = options.referenceAccelerator ?? TRACE_REFERENCE_ACCELERATOR;
    this.#filter = options.filterPasses ?? true;
    this.#minInterval = Math.max(0, options.minPassIntervalS ?? 0);
    this.#inputBytes = Math.max(0, (options.inputGB ?? 0) * 1e9);
    // FCFS + EASY queues with no look-ahead and no stage-in: see "Incremental passes" in #maybePass.
    this.#incremental = this.#filter && this.#spec.binding === 'early' && !(this.#knobs.lookAheadHours > 0) && this.#inputBytes === 0;
    const gpuPool = model.centers.flatMap((c) => c.pools).find((p) => p.perNode.accelerators > 0);
    const cpuPool = model.centers.flatMap((c) => c.pools).find((p) => p.perNode.accelerators === 0);
    this.#shape = {
      ...(gpuPool ? { gpusPerNode: gpuPool.perNode.accelerators } : {}),
      ...(cpuPool ? { coresPerNode: cpuPool.perNode.cores } : {}),
      ...options.shape,
    };
    model.centers.forEach((c, ci) => {
      const cv = this.#views.centers[ci]!;
      c.pools.forEach((p, pi) => {
        const view = cv.pools[pi]!;
        const slot: Slot = {
          index: this.#slots.length,
          centerIndex: ci,
          center: c,
          pool: p,
          id: view.id,
          view,
          centerView: cv,
          free: this.#views.freeByNode[ci]![pi]!,
          chip: p.accelerator,
          prices: priceCurve(cv, view),
          grid: carbonCurve(cv),
          watts: boardWatts(p.accelerator),
          pue: c.energy.pue,
          dirty: true,
          totA: 0,
          totC: 0,
          totM: 0,
          maxA: 0,
          maxC: 0,
          maxM: 0,
          atMaxA: 0,
          atMaxC: 0,
          atMaxM: 0,
        };
        this.#slots.push(slot);
        this.#slotById.set(slot.id, slot);
      });
    });
    const caps = model.centers.map(centerCapacity);
    this.#capAcc = Float64Array.from(caps, (c) => c.accelerators);
    this.#capCores = Float64Array.from(caps, (c) => c.cores);
    this.#heldAcc = new Float64Array(caps.length);
    this.#heldCores = new Float64Array(caps.length);
    if (this.#spec.binding === 'late') {
      this.#scopes.push(this.#newScope(0, this.#views.centers, this.#slots));
    } else {
      model.centers.forEach((_c, ci) => {
        this.#scopes.push(this.#newScope(ci, [this.#views.centers[ci]!], this.#slots.filter((s) => s.centerIndex === ci)));
      });
    }
    this.#homes = new HomeMap(model.centers, options.clusters ?? []);
    this.#binder = this.#spec.binding === 'early' ? binderFor(options.policy, seededRng(options.seed ?? 1), model.centers.length) : null;
    if (this.#inputBytes > 0) {
      for (const c of model.centers) this.#datasets.push({ id: `data:${c.id}`, bytes: this.#inputBytes, regions: [c.region] });
    }
    this.#routes = new DataRoutes(this.#views.links, this.#datasets, [...new Set(model.centers.map((c) => c.region))].sort());
  }

  #newScope(index: number, centers: readonly CenterView[], slots: readonly Slot[]): Scope {
    return {
      index, centers, slots, orgs: new Map(), running: [], runs: [], pending: 0, dirty: false, lastPassS: -Infinity, wakes: new Set(),
      capacityBack: true, arrived: [], holders: [], network: null,
    };
  }

  async run(source: AsyncIterable<TraceJob> | Iterable<TraceJob>): Promise<SimulationResult> {
    const it: AsyncIterator<TraceJob> | Iterator<TraceJob> =
      Symbol.asyncIterator in source ? (source as AsyncIterable<TraceJob>)[Symbol.asyncIterator]() : (source as Iterable<TraceJob>)[Symbol.iterator]();
    const every = Math.max(1, Math.floor(this.#o.progressEvery ?? 16_384));
    let nextProgress = every;
    let next = await it.next();
    let lastSubmit = -Infinity;
    const heap = this.#heap;
    for (;;) {
      const tArrival = next.done ? Infinity : next.value.submitAt;
      const tEvent = heap.peekTime();
      const t = Math.min(tArrival, tEvent);
      if (t === Infinity) break;
      this.#now = t;
      this.#clock.advanceTo(this.#clock.atTraceSeconds(t));
      // The batch at t: ends, then wake-ups, then arrivals.
      while (heap.peekTime() === t) {
        const item = heap.pop()!.item;
        this.#events++;
        if (typeof item === 'number') {
          this.#wakeups++;
          const scope = this.#scopes[item]!;
          scope.wakes.delete(t);
          this.#touch(scope);
          scope.capacityBack = true;
        } else this.#end(item);
      }
      while (!next.done && next.value.submitAt === t) {
        const job = next.value;
        if (job.submitAt < lastSubmit) throw new TraceOrderError('trace', job, lastSubmit);
        lastSubmit = job.submitAt;
        this.#events++;
        this.#arrivals++;
        this.#arrive(job);
        next = await it.next();
      }
      if (!next.done && next.value.submitAt < t) throw new TraceOrderError('trace', next.value, t);
      // The scopes that changed, in scope order (as a scan of every scope would find them); one
      // still dirty after its pass (a pass put off by the cadence cap) stays on the list.
      if (this.#dirty.length > 0) {
        const dirty = this.#dirty.length > 1 ? this.#dirty.sort((a, b) => a.index - b.index) : this.#dirty;
        this.#dirty = [];
        for (const scope of dirty) this.#maybePass(scope);
        for (const scope of dirty) if (scope.dirty) this.#dirty.push(scope);
      }
      if (this.#events >= nextProgress) {
        nextProgress = this.#events + every;
        this.#o.onProgress?.(this.#progress(false));
      }
    }
    // Nothing left to happen: whatever still waits can never start.
    for (const scope of this.#scopes) {
      for (const org of scope.orgs.values()) {
        for (const q of org.jobs) {
          if (q.done) continue;
          q.done = true;
          this.#unplaceable.push({ id: q.trace.id, submitAt: q.trace.submitAt, reason: 'never-started', detail: 'still waiting when every other job had ended and no event was left' });
        }
      }
    }
    this.#o.onProgress?.(this.#progress(true));
    return this.#result();
  }

  #progress(done: boolean): SimProgress {
    return { events: this.#events, arrivals: this.#arrivals, ends: this.#ends, simSeconds: this.#now, pending: this.#pending, running: this.#running, done };
  }

  // ----------------------------------------------------------------------------------------------
  // Arrivals

  #arrive(trace: TraceJob): void {
    const home = this.#homes.of(trace.homeCluster);
    const shape = jobShape(trace, this.#shape);
    const inputs = this.#inputBytes > 0 ? [{ datasetId: `data:${this.#model.centers[home]!.id}` }] : [];
    const base: SimJob = {
      trace,
      shape,
      submittedAtMs: this.#clock.now(),
      objective: this.#spec.objective,
      orgId: this.#spec.binding === 'late' ? trace.homeCluster : QUEUE_ORG,
      runtimeSeconds: trace.requestedSeconds,
      referenceAccelerator: this.#reference,
      inputs,
    };
    let probe = pendingJob(base);
    // Pools that could ever run it, grouped by center: the static checks read only the job's shape
    // and chip lists (a trace job has no regions or adaptation matrix), so jobs alike share them.
    const staticKey = `${probe.nodes}|${probe.perNode.accelerators}|${probe.perNode.cores}|${probe.perNode.memoryMiB}|${probe.allowedAccelerators.join(',')}|${probe.forbiddenAccelerators.join(',')}`;
    let candidates = this.#candidates.get(staticKey);
    if (candidates === undefined) {
      const found: BindCandidate[] = [];
      for (const s of this.#slots) {
        if (staticReason(probe, s.centerView, s.view, true) !== null) continue;
        const last = found[found.length - 1];
        if (last !== undefined && last.center === s.centerIndex) (last.pools as number[]).push(s.index);
        else found.push({ center: s.centerIndex, pools: [s.index] });
      }
      candidates = found;
      if (this.#candidates.size < 10_000) this.#candidates.set(staticKey, found);
    }
    let scope = this.#scopes[0]!;
    let chosen: readonly number[] | null = candidates.length === 0 ? null : this.#binder === null ? this.#allPools(staticKey, candidates) : [];
    if (this.#binder !== null && chosen !== null) {
      chosen = this.#binder(this.#bindContext(probe, home, candidates));
      if (chosen !== null && chosen.length > 0) {
        scope = this.#scopes[this.#slots[chosen[0]!]!.centerIndex]!;
        // A job bound to a spec (cheapest-static) may use only pools of that chip (or CPU pools):
        // said in the scheduler's own terms, since its snapshot holds the whole center.
        if (this.#spec.name === 'cheapest-static') {
          const chip = this.#slots[chosen[0]!]!.chip;
          probe =
            chip === null
              ? { ...probe, forbiddenAccelerators: [...new Set(scope.slots.flatMap((s) => (s.chip === null ? [] : [s.chip])))] }
              : { ...probe, allowedAccelerators: [chip] };
        }
      }
    }
    // What the scheduler will be able to use: the scope's pools the job passes (the same check it makes).
    const usable = chosen === null ? [] : scope.slots.filter((s) => staticReason(probe, s.centerView, s.view, true) === null).map((s) => s.index);
    if (usable.length === 0) {
      const centers = this.#spec.name === 'isolated' ? [this.#views.centers[home]!] : this.#views.centers;
      const { infeasible } = checkFeasible(pendingJob(base), centers, { now: this.#clock.now(), links: this.#views.links, datasets: this.#datasets });
      const { reason, detail } = mainReason(infeasible);
      this.#unplaceable.push({ id: trace.id, submitAt: trace.submitAt, reason, detail });
      return;
    }
    // Walltime: the request on the slowest chip it may use (so every estimate fits it).
    let maxRatio = 1;
    if (shape.perNode.accelerators > 0) {
      maxRatio = 0;
      for (const p of usable) {
        const chip = this.#slots[p]!.chip;
        maxRatio = Math.max(maxRatio, chip === null ? 1 : speedRatio(this.#reference, chip, 'fp16'));
      }
    }
    const walltime = Math.max(1, Math.ceil(trace.requestedSeconds * maxRatio));
    const unitIsAcc = shape.perNode.accelerators > 0;
    const q: QJob = {
      trace,
      // The scheduler's id: the arrival number, zero-padded, so ids are unique whatever the trace's
      // ids are, and jobs submitted at the same second keep the trace's order (FCFS ties go by id).
      pending: { ...probe, walltimeSeconds: walltime, id: String(this.#arrivals).padStart(10, '0') },
      usable,
      key: usable.join(','),
      scope: scope.index,
      home,
      unitIsAcc,
      units: shape.nodes * (unitIsAcc ? shape.perNode.accelerators : shape.perNode.cores),
      done: false,
    };
    const orgId = q.pending.orgId;
    let org = scope.orgs.get(orgId);
    if (org === undefined) {
      org = { jobs: [], sorted: true, done: 0 };
      scope.orgs.set(orgId, org);
    }
    const lastJob = org.jobs[org.jobs.length - 1];
    if (lastJob !== undefined && compareJobs(lastJob.pending, q.pending, this.#aging, this.#byWork) > 0) org.sorted = false;
    org.jobs.push(q);
    this.#queued.set(q.pending.id, q);
    if (this.#incremental) scope.arrived.push(q);
    scope.pending++;
    this.#touch(scope);
    this.#pending++;
    this.#maxPending = Math.max(this.#maxPending, this.#pending);
    const c = this.#slots[usable[0]!]!.centerIndex;
    if (unitIsAcc) this.#heldAcc[c]! += q.units;
    else this.#heldCores[c]! += q.units;
  }

  /** Every pool of `candidates` (the late-binding scope's choice), kept per static key. */
  #allPools(key: string, candidates: readonly BindCandidate[]): readonly number[] {
    let pools = this.#candidatePools.get(key);
    if (pools === undefined) {
      pools = candidates.flatMap((c) => c.pools);
      if (this.#candidatePools.size < 10_000) this.#candidatePools.set(key, pools);
    }
    return pools;
  }

  /** Marks `scope` changed: it gets a pass after this batch of events. */
  #touch(scope: Scope): void {
    if (scope.dirty) return;
    scope.dirty = true;
    this.#dirty.push(scope);
  }

  #bindContext(probe: PendingJob, home: number, candidates: readonly BindCandidate[]) {
    const acc = probe.perNode.accelerators > 0;
    return {
      home,
      candidates,
      capacity: (center: number): number => (acc ? this.#capAcc[center]! : this.#capCores[center]!),
      load: (center: number): number => {
        const cap = acc ? this.#capAcc[center]! : this.#capCores[center]!;
        return cap > 0 ? (acc ? this.#heldAcc[center]! : this.#heldCores[center]!) / cap : Infinity;
      },
      staticCost: (pool: number): number => {
        const s = this.#slots[pool]!;
        const nowMs = this.#clock.now();
        const ratio = acc && s.chip !== null ? speedRatio(this.#reference, s.chip, 'fp16') : 1;
        const stage = this.#routes.stageIn(probe.inputs, s.center.region);
        if (!Number.isFinite(stage.seconds)) return Infinity; // its data cannot get there
        const run = (probe.runtimeSeconds ?? probe.walltimeSeconds) * ratio;
        const start = nowMs + stage.seconds * 1000;
        // Unrounded: short jobs would otherwise tie at 0 fen everywhere.
        const hours = s.prices === null ? run / 3600 : s.prices.integral(start, start + run * 1000);
        return hourlyFen(probe, s.view) * hours + stage.egressFen;
      },
    };
  }

  // ----------------------------------------------------------------------------------------------
  // Passes

  #maybePass(scope: Scope): void {
    if (scope.pending === 0) {
      scope.dirty = false;
      return;
    }
    if (this.#minInterval > 0 && this.#now < scope.lastPassS + this.#minInterval) {
      this.#wake(scope, scope.lastPassS + this.#minInterval);
      return;
    }
    scope.dirty = false;
    for (const s of scope.slots) if (s.dirty) this.#aggregate(s);
    // Incremental passes (early binding: FCFS + EASY, no look-ahead, no stage-in). When no capacity
    // came back since the last pass ran (only arrivals), no job that was pending then can start now:
    // at its turn it sees no more room than it had then, the same reservations (a running job's
    // endsAt is the hold the scheduler planned for it, and backfill never delays a reservation), and
    // a later hold-until. Those jobs only matter through the reservations they hold, so the pass
    // sees the last pass's reservation holders and the jobs that arrived since.
    const incremental = this.#incremental && !scope.capacityBack;
    const jobs: PendingJob[] = [];
    let fitting = 0;
    const consider = (list: readonly QJob[]): void => {
      let blocked: Map<string, number> | null = null;
      for (const q of list) {
        if (q.done) continue;
        if (this.#mayFit(q)) fitting++;
        else if (this.#filter) {
          blocked ??= new Map();
          const n = (blocked.get(q.key) ?? 0) + 1;
          blocked.set(q.key, n);
          if (n > q.usable.length) continue; // its pools all hold reservations by now: a no-op
        }
        jobs.push(q.pending);
      }
    };
    if (incremental) {
      // Only the last pass's reservation holders and the jobs that arrived since, per org in order.
      const byOrg = new Map<string, QJob[]>();
      for (const q of scope.holders) if (!q.done) pushTo(byOrg, q.pending.orgId, q);
      for (const q of scope.arrived) if (!q.done) pushTo(byOrg, q.pending.orgId, q);
      for (const list of byOrg.values()) consider(list.length > 1 ? list.sort((a, b) => compareJobs(a.pending, b.pending, this.#aging, this.#byWork)) : list);
    } else {
      for (const org of scope.orgs.values()) {
        if (org.done > 32 && org.done * 2 > org.jobs.length) {
          org.jobs = org.jobs.filter((q) => !q.done);
          org.done = 0;
        }
        if (!org.sorted) {
          org.jobs.sort((a, b) => compareJobs(a.pending, b.pending, this.#aging, this.#byWork));
          org.sorted = true;
        }
        consider(org.jobs);
      }
    }
    if (fitting === 0 && this.#filter) {
      this.#skipped++;
      return;
    }
    scope.lastPassS = this.#now;
    if (incremental) this.#incrementalPasses++;
    scope.capacityBack = false;
    scope.arrived = [];
    this.#passes++;
    this.#jobsInPasses += jobs.length;
    const nowMs = this.#clock.now();
    // Links only matter for staging inputs in: without datasets the pass is spared building routes.
    const snapshot = this.#views.snapshot(nowMs, scope.centers, jobs, scope.running, this.#datasets, {}, this.#datasets.length > 0 ? this.#views.links : []);
    scope.network ??= new Network(snapshot);
    const result = schedule(snapshot, this.#knobs, scope.network);
    if (this.#incremental) scope.holders = result.reservations.map((r) => this.#lookup(r.jobId));
    for (const p of result.placements) this.#start(scope, this.#lookup(p.jobId), p);
    for (const w of result.waiting) {
      const wait = w.explanation.wait;
      if (wait === null) continue;
      if (wait.kind === 'better-hour') this.#wake(scope, (wait.until - this.#clock.epochMs) / 1000);
      else if (wait.kind === 'never') {
        const q = this.#lookup(w.jobId);
        const { reason, detail } = mainReason(w.explanation.infeasible);
        this.#unplaceable.push({ id: q.trace.id, submitAt: q.trace.submitAt, reason, detail });
        this.#dequeue(scope, q);
      }
    }
  }

  /** The queued job the scheduler decided on (every job of a snapshot is queued). */
  #lookup(id: string): QJob {
    const q = this.#queued.get(id);
    if (q === undefined) throw new Error(`the scheduler decided on job ${id}, which was not in its snapshot`);
    return q;
  }

  #wake(scope: Scope, atS: number): void {
    if (!(atS > this.#now) || scope.wakes.has(atS)) return;
    scope.wakes.add(atS);
    this.#heap.push(atS, scope.index);
  }

  /** A necessary condition for `q` to fit now: on some usable pool, the totals and the per-node maxima of free capacity suffice. */
  #mayFit(q: QJob): boolean {
    const want = q.pending.perNode;
    const n = q.pending.nodes;
    for (const p of q.usable) {
      const s = this.#slots[p]!;
      if (
        want.accelerators <= s.maxA &&
        want.cores <= s.maxC &&
        want.memoryMiB <= s.maxM &&
        n * want.accelerators <= s.totA &&
        n * want.cores <= s.totC &&
        n * want.memoryMiB <= s.totM
      ) {
        return true;
      }
    }
    return false;
  }

  #aggregate(s: Slot): void {
    let totA = 0;
    let totC = 0;
    let totM = 0;
    let maxA = 0;
    let maxC = 0;
    let maxM = 0;
    let atMaxA = 0;
    let atMaxC = 0;
    let atMaxM = 0;
    for (const f of s.free) {
      totA += f.accelerators;
      totC += f.cores;
      totM += f.memoryMiB;
      if (f.accelerators > maxA) {
        maxA = f.accelerators;
        atMaxA = 1;
      } else if (f.accelerators === maxA) atMaxA++;
      if (f.cores > maxC) {
        maxC = f.cores;
        atMaxC = 1;
      } else if (f.cores === maxC) atMaxC++;
      if (f.memoryMiB > maxM) {
        maxM = f.memoryMiB;
        atMaxM = 1;
      } else if (f.memoryMiB === maxM) atMaxM++;
    }
    s.totA = totA;
    s.totC = totC;
    s.totM = totM;
    s.maxA = maxA;
    s.maxC = maxC;
    s.maxM = maxM;
    s.atMaxA = atMaxA;
    s.atMaxC = atMaxC;
    s.atMaxM = atMaxM;
    s.dirty = false;
  }

  #dequeue(scope: Scope, q: QJob): void {
    q.done = true;
    this.#queued.delete(q.pending.id);
    scope.orgs.get(q.pending.orgId)!.done++;
    scope.pending--;
    this.#pending--;
    const c = this.#slots[q.usable[0]!]!.centerIndex;
    if (q.unitIsAcc) this.#heldAcc[c]! -= q.units;
    else this.#heldCores[c]! -= q.units;
  }

  // ----------------------------------------------------------------------------------------------
  // Runs

  #start(scope: Scope, q: QJob, p: Placement): void {
    const slot = this.#slotById.get(p.poolId);
    if (slot === undefined) throw new Error(`the scheduler placed job ${p.jobId} on unknown pool ${p.poolId}`);
    this.#dequeue(scope, q);
    const job = q.pending;
    const want = job.perNode;
    for (const i of p.nodeIndices) {
      const f = slot.free[i]!;
      const left = { accelerators: f.accelerators - want.accelerators, cores: f.cores - want.cores, memoryMiB: f.memoryMiB - want.memoryMiB };
      if (left.accelerators < 0 || left.cores < 0 || left.memoryMiB < 0) {
        throw new Error(`the scheduler placed job ${p.jobId} on node ${i} of ${slot.id}, which has no room for it`);
      }
      slot.free[i] = left.accelerators === 0 && left.cores === 0 && left.memoryMiB === 0 ? ZERO : left;
      // The slot's totals follow; its maxima are recounted only when the last node holding one
      // gives it up (a dimension the job takes nothing of stays where it was).
      if (want.accelerators > 0 && f.accelerators === slot.maxA && --slot.atMaxA === 0) slot.dirty = true;
      if (want.cores > 0 && f.cores === slot.maxC && --slot.atMaxC === 0) slot.dirty = true;
      if (want.memoryMiB > 0 && f.memoryMiB === slot.maxM && --slot.atMaxM === 0) slot.dirty = true;
    }
    const n = p.nodeIndices.length;
    slot.totA -= n * want.accelerators;
    slot.totC -= n * want.cores;
    slot.totM -= n * want.memoryMiB;
    const option = p.option;
    const nowMs = this.#clock.now();
    const usesChip = want.accelerators > 0 && slot.chip !== null;
    const ratio = usesChip ? speedRatio(this.#reference, slot.chip!, 'fp16') : 1;
    const run = q.trace.runSeconds * ratio;
    const stage = Number.isFinite(option.stageInSeconds) ? option.stageInSeconds : 0;
    const runStartMs = nowMs + stage * 1000;
    const watts = jobWatts(job, slot.watts);
    const moved = job.inputs.length > 0 && this.#model.centers[q.home]!.region !== slot.center.region ? this.#inputBytes : 0;
    const endS = this.#now + stage + run;
    const record: JobRecord = {
      id: q.trace.id,
      submitAt: q.trace.submitAt,
      startAt: this.#now,
      endAt: endS,
      centerId: slot.center.id,
      accelerators: job.nodes * want.accelerators,
      cores: job.nodes * want.cores,
      costFen: computeCost(hourlyFen(job, slot.view), slot.prices, runStartMs, run) + option.egressFen,
      energyKwh: energyKwh(watts, run, slot.pue),
      carbonKg: carbonOf(watts, slot.pue, slot.grid, runStartMs, run),
      bytesMoved: moved,
    };
    const rec: Run = {
      job: q,
      slot,
      nodes: p.nodeIndices,
      running: runningJob({
        jobId: job.id,
        orgId: job.orgId,
        centerId: slot.center.id,
        poolId: slot.id,
        nodeIndices: p.nodeIndices,
        perNode: want,
        startedAtMs: nowMs,
        // What the scheduler planned the hold to be (its stage-in and walltime), not the actual end.
        endsAtMs: nowMs + (stage + job.walltimeSeconds) * 1000,
      }),
      startS: this.#now,
      record,
    };
    // The scope's running jobs stay in `endsAt` order (ties by start): the scheduler then finds a
    // pool's releases already in time order and need not sort them every pass.
    const at = firstEndingAfter(scope.runs, rec.running.endsAt);
    scope.runs.splice(at, 0, rec);
    scope.running.splice(at, 0, rec.running);
    this.#running++;
    const c = slot.centerIndex;
    if (q.unitIsAcc) this.#heldAcc[c]! += q.units;
    else this.#heldCores[c]! += q.units;
    this.#heap.push(endS, rec);
  }

  #end(r: Run): void {
    this.#ends++;
    this.#running--;
    const slot = r.slot;
    const want = r.job.pending.perNode;
    for (const i of r.nodes) {
      const f = slot.free[i]!;
      const back = { accelerators: f.accelerators + want.accelerators, cores: f.cores + want.cores, memoryMiB: f.memoryMiB + want.memoryMiB };
      slot.free[i] = back;
      // A node that reaches a maximum joins its holders (a dirty slot is recounted before use anyway).
      if (back.accelerators > slot.maxA) {
        slot.maxA = back.accelerators;
        slot.atMaxA = 1;
      } else if (want.accelerators > 0 && back.accelerators === slot.maxA) slot.atMaxA++;
      if (back.cores > slot.maxC) {
        slot.maxC = back.cores;
        slot.atMaxC = 1;
      } else if (want.cores > 0 && back.cores === slot.maxC) slot.atMaxC++;
      if (back.memoryMiB > slot.maxM) {
        slot.maxM = back.memoryMiB;
        slot.atMaxM = 1;
      } else if (want.memoryMiB > 0 && back.memoryMiB === slot.maxM) slot.atMaxM++;
    }
    const n = r.nodes.length;
    slot.totA += n * want.accelerators;
    slot.totC += n * want.cores;
    slot.totM += n * want.memoryMiB;
    const scope = this.#scopes[this.#spec.binding === 'late' ? 0 : slot.centerIndex]!;
    // Out of the scope's running arrays (in `endsAt` order: found among those ending with it).
    let at = firstEndingAfter(scope.runs, r.running.endsAt) - 1;
    while (scope.runs[at] !== r) at--;
    scope.runs.splice(at, 1);
    scope.running.splice(at, 1);
    this.#touch(scope);
    scope.capacityBack = true;
    const c = slot.centerIndex;
    if (r.job.unitIsAcc) this.#heldAcc[c]! -= r.job.units;
    else this.#heldCores[c]! -= r.job.units;
    this.#records.push(r.record);
  }

  // ----------------------------------------------------------------------------------------------
  // Result

  #result(): SimulationResult {
    const centers: CenterCapacity[] = this.#model.centers.map((c) => {
      const cap = centerCapacity(c);
      return cap.accelerators > 0 ? { id: c.id, unit: 'accelerators', capacity: cap.accelerators } : { id: c.id, unit: 'cores', capacity: cap.cores };
    });
    const metrics = computeMetrics(this.#records, this.#unplaceable, { centers, bucketSeconds: this.#o.bucketSeconds ?? 3600 });
    const waits = Float64Array.from(this.#records, (r) => r.startAt - r.submitAt).sort();
    const waitQuantiles: number[] = [];
    if (waits.length > 0) {
      for (let k = 0; k <= 200; k++) {
        const rank = Math.max(1, Math.ceil((k * waits.length) / 200));
        waitQuantiles.push(waits[rank - 1]!);
      }
    }
    return {
      policy: this.#o.policy,
      network: this.#model.name,
      centers,
      metrics,
      waitQuantiles,
      unplaceableExamples: this.#unplaceable.slice(0, 20),
      counters: {
        events: this.#events,
        arrivals: this.#arrivals,
        ends: this.#ends,
        wakeups: this.#wakeups,
        passes: this.#passes,
        passesSkipped: this.#skipped,
        incrementalPasses: this.#incrementalPasses,
        jobsInPasses: this.#jobsInPasses,
        maxPending: this.#maxPending,
      },
      ...(this.#o.keepRecords ? { records: this.#records } : {}),
    };
  }
}

/** The default scheduler knobs of a policy (for reports). */
export function policyKnobs(name: PolicyName): Policy {
  return { ...DEFAULT_POLICY, ...POLICIES[name].knobs };
}

/** The index of the first run in `runs` (in `endsAt` order) that ends after `endsAt`. */
function firstEndingAfter(runs: readonly Run[], endsAt: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (runs[mid]!.running.endsAt <= endsAt) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
