import { Summary, type Registry } from 'prom-client';
import type { SuanwangError } from '../../core/errors.js';
import { isTerminal } from '../../core/job-state.js';
import { randomUUID } from 'node:crypto';
import { combineTraffic, decideReplicas, FRESH_MEMORY, type AutoscaleMemory, type ProcessTraffic } from '../../scheduler/autoscale.js';
import { isPriced } from '../../ledger/serving.js';
import { explainServing, regionLatencyMs, type ServingExplanation } from '../../scheduler/serving.js';
import type { Link } from '../../scheduler/types.js';
import { listCenters, listPools } from '../../store/centers.js';
import { listLinks } from '../../store/datasets.js';
import { addEndpointUsage, deleteReplica, drainReplica, insertReplica, listEndpoints, listReplicas, recentTraffic, setReplicaAddress, writeTraffic, type EndpointRow, type EndpointTrafficRow, type ReplicaRow } from '../../store/endpoints.js';
import { getJobs } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import type { Principal } from '../accounts.js';
import { appJobSpec } from '../catalog.js';
import type { EngineContext } from '../context.js';
import { cancelJob, quoteJob, submitJob } from '../jobs.js';
import { replicaLaunch } from './endpoints.js';
import { chargeEndpoints, priceOf, refusedOrgs } from './metering.js';

type User = Extract<Principal, { kind: 'user' }>;

/** Tunables of serving; durations in ms. Tests shorten them. */
export interface ServingConfig {
  /** How often the controller looks at replicas, probes them and autoscales. */
  readonly passMs: number;
  readonly scaleUpDelayMs: number;
  readonly scaleDownDelayMs: number;
  /** How long a request to an endpoint with no ready replica is held before a 503. */
  readonly coldStartHoldMs: number;
  /** A probe of a replica (`/ready`, `/load`) that takes longer failed. */
  readonly probeTimeoutMs: number;
}

export const DEFAULT_SERVING_CONFIG: ServingConfig = { passMs: 500, scaleUpDelayMs: 5_000, scaleDownDelayMs: 60_000, coldStartHoldMs: 60_000, probeTimeoutMs: 2_000 };

/** One replica as this process sees it. */
export interface LiveReplica {
  readonly jobId: string;
  readonly version: string;
  readonly region: string;
  centerName: string | null;
  accelerator: string | null;
  /** Requests it can work on at once, relative to its chip: the app's `slots` × the chip's adaptation efficiency. */
  capacity: number;
  address: string | null;
  ready: boolean;
  draining: boolean;
  cancelled: boolean;
  /** Requests this process has in flight to it. */
  inflight: number;
  /** What the replica last said it had in flight (all callers). */
  reportedInflight: number;
  served: number;
  jobState: JobRow['state'];
}

/** One endpoint as this process sees it: its replicas, what its gateway saw, and its autoscaling memory. */
export interface LiveEndpoint {
  row: EndpointRow;
  readonly replicas: Map<string, LiveReplica>;
  memory: AutoscaleMemory;
  lastActivityAt: number;
  /** Peak of in-flight plus held requests since the last pass. */
  peak: number;
  arrivals: number;
  held: number;
  lastDecision: string;
  /** Metering not yet written to the store. */
  usage: { requests: number; failed: number; tokens: number; coldStarts: number };
  /** Metering being written now (see `unwritten`). */
  flushing: { requests: number; failed: number; tokens: number; coldStarts: number } | null;
  /** The last request durations in seconds, for p50/p95/p99 (a ring). */
  readonly latencies: number[];
  latencyAt: number;
  readonly waiters: Set<() => void>;
}

const LATENCY_WINDOW = 2048;
const ADDRESS_LINE = /suanwang-serve: listening on (http:\/\/127\.0\.0\.1:\d+)/;

/**
 * The serving side of the control plane: keeps each endpoint's replica jobs in step with its
 * autoscaling policy (start, drain, rolling update), learns each replica's loopback address from
 * its first line of output, probes readiness and load, and gives the gateway a ready replica
 * (`acquire`), holding a request while an endpoint scales from zero. Replicas are ordinary jobs:
 * the scheduler places them (narrowed to the region `explainServing` picks) and agents run them.
 * Starting and draining replicas happens only while `isLeader()`; probing and routing in every process.
 */
export class ServingController {
  readonly #ctx: EngineContext;
  readonly #config: ServingConfig;
  readonly #isLeader: () => boolean;
  readonly #endpoints = new Map<string, LiveEndpoint>();
  readonly #byOrgName = new Map<string, LiveEndpoint>();
  #links: readonly Link[] = [];
  readonly #abort = new AbortController();
  #loop: Promise<void> | null = null;
  #passing: Promise<void> | null = null;
  readonly #latency: Summary<'endpoint'> | null;
  #lastPassAt: number;
  /** This process among the control plane's, in the traffic it reports for the leader's autoscaler. */
  readonly processId = randomUUID();
  /** Orgs whose calls to priced endpoints are refused (no credit left), as of the last pass. */
  #refused = new Map<string, SuanwangError>();
  /** Errors of a pass go here (the loop keeps going). */
  onError: (error: unknown) => void = () => {};

  constructor(ctx: EngineContext, options: { config?: Partial<ServingConfig>; isLeader?: () => boolean; registry?: Registry } = {}) {
    this.#ctx = ctx;
    this.#config = { ...DEFAULT_SERVING_CONFIG, ...options.config };
    this.#isLeader = options.isLeader ?? (() => true);
    this.#lastPassAt = ctx.clock.now();
    this.#latency = options.registry
      ? new Summary({
          name: 'suanwang_endpoint_request_duration_seconds',
          help: 'Requests through the endpoint gateway, from arrival to the last byte of the answer (cold-start holds included), by endpoint (org/name).',
          labelNames: ['endpoint'],
          percentiles: [0.5, 0.95, 0.99],
          maxAgeSeconds: 600,
          ageBuckets: 5,
          registers: [options.registry],
        })
      : null;
  }

  get config(): ServingConfig {
    return this.#config;
  }

  /** Runs a pass every `passMs` and whenever something wakes `serving`, until `stop()`. */
  start(): void {
    if (this.#loop) return;
    const signal = this.#abort.signal;
    this.#loop = (async () => {
      while (!signal.aborted) {
        try {
          await this.pass();
        } catch (error) {
          if (!signal.aborted) this.onError(error);
        }
        await this.#ctx.signals.wait('serving', this.#config.passMs, signal);
      }
    })();
  }

  /** Stops the loop, releases held requests (they get a 503) and writes the calls counted since the last pass. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    await this.#passing?.catch(() => undefined);
    for (const e of this.#endpoints.values()) wakeAll(e);
    for (const e of this.#endpoints.values()) await this.#flushUsage(e).catch((error: unknown) => this.onError(error));
  }

  /** The endpoint of an org by name as last loaded (undefined when it has none). */
  endpoint(orgId: string, name: string): LiveEndpoint | undefined {
    return this.#byOrgName.get(`${orgId}\n${name}`);
  }

  /** Live figures of an endpoint by id, for the API (undefined before the first pass saw it). */
  live(endpointId: string): LiveEndpoint | undefined {
    return this.#endpoints.get(endpointId);
  }

  /** One pass now (a pass already running is awaited instead of starting a second). */
  async pass(): Promise<void> {
    if (this.#passing) return this.#passing;
    this.#passing = this.#pass().finally(() => {
      this.#passing = null;
    });
    return this.#passing;
  }

  /** Loads an org's endpoint now (a request for an endpoint created since the last pass). */
  async refresh(orgId: string, name: string): Promise<LiveEndpoint | undefined> {
    await this.pass();
    return this.endpoint(orgId, name);
  }

  /**
   * A ready replica for a request from `callerRegion`: the nearest region's replicas first, the
   * least loaded relative to its capacity; the next region's when all of those are full; the least
   * loaded anywhere when every one is. With none ready, the request is held (counted, the
   * controller woken) until one is or `holdMs` passes: then null.
   */
  async acquire(e: LiveEndpoint, callerRegion: string, exclude: ReadonlySet<string>, holdMs: number, signal?: AbortSignal): Promise<LiveReplica | null> {
    const deadline = performance.now() + holdMs;
    let held = false;
    try {
      for (;;) {
        const r = this.pick(e, callerRegion, exclude);
        if (r) return r;
        const left = deadline - performance.now();
        if (left <= 0 || this.#abort.signal.aborted || signal?.aborted) return null;
        if (!held) {
          held = true;
          e.held++;
          e.peak = Math.max(e.peak, inflightOf(e) + e.held);
          this.#ctx.signals.wake('serving');
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            e.waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, Math.min(left, this.#config.passMs * 2));
          e.waiters.add(done);
        });
      }
    } finally {
      if (held) e.held--;
    }
  }

  /** The routing choice of `acquire`, without holding. */
  pick(e: LiveEndpoint, callerRegion: string, exclude: ReadonlySet<string>): LiveReplica | null {
    let best: LiveReplica | null = null;
    let bestKey: [number, number, number] = [Infinity, Infinity, Infinity];
    for (const r of e.replicas.values()) {
      if (!r.ready || r.draining || r.address === null || exclude.has(r.jobId)) continue;
      const load = (r.inflight + 1) / r.capacity;
      const full = r.inflight >= r.capacity ? 1 : 0;
      // Not full before full; then nearer; then less loaded relative to its capacity.
      const key: [number, number, number] = [full, regionLatencyMs(this.#links, callerRegion, r.region), load];
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
        best = r;
        bestKey = key;
      }
    }
    return best;
  }

  /** Why a request to `e` is refused before it is routed (402 without credit when it is billed), or null. */
  admission(e: LiveEndpoint): SuanwangError | null {
    return isPriced(priceOf(e.row)) ? (this.#refused.get(e.row.org_id) ?? null) : null;
  }

  /** A request starts on `r` (after `acquire`). */
  begin(e: LiveEndpoint, r: LiveReplica): void {
    r.inflight++;
    e.arrivals++;
    e.lastActivityAt = this.#ctx.clock.now();
    e.peak = Math.max(e.peak, inflightOf(e) + e.held);
  }

  /** A request on `r` ended (its whole answer sent, or failed). */
  end(r: LiveReplica): void {
    r.inflight = Math.max(0, r.inflight - 1);
  }

  /** `r` failed a request before answering: routed around until a probe finds it ready again. */
  failed(r: LiveReplica): void {
    r.ready = false;
    this.#ctx.signals.wake('serving');
  }

  /** Meters one request of `e` (tokens from the replica's `X-Tokens`) and its duration. */
  record(e: LiveEndpoint, outcome: { ok: boolean; tokens: number; seconds: number; coldStart: boolean }): void {
    e.lastActivityAt = this.#ctx.clock.now();
    e.usage.requests++;
    if (!outcome.ok) e.usage.failed++;
    e.usage.tokens += outcome.tokens;
    if (outcome.coldStart) e.usage.coldStarts++;
    if (e.latencies.length < LATENCY_WINDOW) e.latencies.push(outcome.seconds);
    else e.latencies[e.latencyAt] = outcome.seconds;
    e.latencyAt = (e.latencyAt + 1) % LATENCY_WINDOW;
    this.#latency?.observe({ endpoint: endpointLabel(e) }, outcome.seconds);
  }

  /** Marks a request as arrived (an arrival with no replica yet still counts as activity). */
  touch(e: LiveEndpoint): void {
    e.lastActivityAt = this.#ctx.clock.now();
  }

  async #pass(): Promise<void> {
    const ctx = this.#ctx;
    const db = ctx.store.db;
    const [rows, links] = await Promise.all([listEndpoints(db, null), listLinks(db)]);
    this.#links = links;
    this.#refused = await refusedOrgs(ctx, db, rows);
    const replicas = await listReplicas(db, rows.map((r) => r.id));
    const jobs = new Map((await getJobs(db, replicas.map((r) => r.job_id))).map((j) => [j.id, j]));
    const [centers, pools] = await Promise.all([listCenters(db), listPools(db)]);
    const centerById = new Map(centers.map((c) => [c.id, c]));
    const poolById = new Map(pools.map((p) => [p.id, p]));
    const now = ctx.clock.now();
    const elapsedS = Math.max((now - this.#lastPassAt) / 1000, 1e-3);
    this.#lastPassAt = now;

    // Endpoints deleted since: forget them, release their held requests.
    const present = new Set(rows.map((r) => r.id));
    for (const [id, e] of this.#endpoints) {
      if (present.has(id)) continue;
      this.#endpoints.delete(id);
      this.#byOrgName.delete(`${e.row.org_id}\n${e.row.name}`);
      wakeAll(e);
    }
    const byEndpoint = new Map<string, ReplicaRow[]>();
    for (const r of replicas) byEndpoint.set(r.endpoint_id, [...(byEndpoint.get(r.endpoint_id) ?? []), r]);

    const probes: Promise<void>[] = [];
    for (const row of rows) {
      let e = this.#endpoints.get(row.id);
      if (!e) {
        e = { row, replicas: new Map(), memory: FRESH_MEMORY, lastActivityAt: row.created_at.getTime(), peak: 0, arrivals: 0, held: 0, lastDecision: 'new', usage: { requests: 0, failed: 0, tokens: 0, coldStarts: 0 }, flushing: null, latencies: [], latencyAt: 0, waiters: new Set() };
        this.#endpoints.set(row.id, e);
      }
      e.row = row;
      this.#byOrgName.set(`${row.org_id}\n${row.name}`, e);
      const seen = new Set<string>();
      for (const rep of byEndpoint.get(row.id) ?? []) {
        const job = jobs.get(rep.job_id);
        if (!job || isTerminal(job.state)) {
          await deleteReplica(db, rep.job_id);
          continue;
        }
        seen.add(rep.job_id);
        let live = e.replicas.get(rep.job_id);
        if (!live) {
          live = { jobId: rep.job_id, version: rep.version, region: rep.region, centerName: null, accelerator: null, capacity: 1, address: null, ready: false, draining: false, cancelled: false, inflight: 0, reportedInflight: 0, served: 0, jobState: job.state };
          e.replicas.set(rep.job_id, live);
        }
        live.jobState = job.state;
        live.draining = rep.draining_since !== null;
        const pool = job.pool_id ? poolById.get(job.pool_id) : undefined;
        live.centerName = job.center_id ? (centerById.get(job.center_id)?.name ?? null) : null;
        live.accelerator = pool?.accelerator ?? null;
        live.capacity = capacityOf(row, job, pool?.accelerator ?? null);
        if (job.state !== 'running') {
          // Not running (yet, or requeued): its old address means nothing.
          live.ready = false;
          live.address = null;
          if (rep.address !== null) await setReplicaAddress(db, rep.job_id, null);
          continue;
        }
        live.address = rep.address ?? (await this.#announcedAddress(job));
        if (live.address !== null && rep.address === null) await setReplicaAddress(db, rep.job_id, live.address);
        if (live.address !== null) probes.push(this.#probe(e, live));
      }
      for (const id of [...e.replicas.keys()]) if (!seen.has(id)) e.replicas.delete(id);
    }
    await Promise.all(probes);

    // What this process saw, written for the leader; the leader adds up every process's.
    const own = new Map<string, ProcessTraffic>();
    for (const e of this.#endpoints.values()) {
      own.set(e.row.id, { processId: this.processId, at: now, peak: Math.max(e.peak, inflightOf(e) + e.held), arrivals: e.arrivals, held: e.held, elapsedMs: elapsedS * 1000, lastActivityAt: e.lastActivityAt });
      e.arrivals = 0;
      e.peak = inflightOf(e) + e.held;
      await this.#flushUsage(e);
    }
    await writeTraffic(db, [...own].map(([id, t]): EndpointTrafficRow => ({ endpoint_id: id, process_id: t.processId, at: new Date(t.at), peak: t.peak, arrivals: t.arrivals, held: t.held, elapsed_ms: Math.max(1, Math.round(t.elapsedMs)), last_activity_at: new Date(t.lastActivityAt) })));
    if (!this.#isLeader()) return;
    await chargeEndpoints(ctx);
    const others = new Map<string, ProcessTraffic[]>();
    for (const t of await recentTraffic(db, new Date(now - this.#staleMs))) {
      const list = others.get(t.endpoint_id) ?? [];
      list.push({ processId: t.process_id, at: t.at.getTime(), peak: t.peak, arrivals: t.arrivals, held: t.held, elapsedMs: t.elapsed_ms, lastActivityAt: t.last_activity_at.getTime() });
      others.set(t.endpoint_id, list);
    }
    for (const e of this.#endpoints.values()) {
      await this.#drainIdle(e);
      await this.#scale(e, combineTraffic(own.get(e.row.id)!, others.get(e.row.id) ?? [], now, this.#staleMs));
    }
  }

  /** Another process's traffic report older than this is left out (it stopped): three of its passes. */
  get #staleMs(): number {
    return this.#config.passMs * 3;
  }

  async #probe(e: LiveEndpoint, r: LiveReplica): Promise<void> {
    const timeout = AbortSignal.timeout(this.#config.probeTimeoutMs);
    try {
      if (!r.ready) {
        const res = await fetch(`${r.address}/ready`, { signal: timeout });
        await res.arrayBuffer();
        if (res.status !== 200) return;
        r.ready = true;
        wakeAll(e);
      }
      const load = (await (await fetch(`${r.address}/load`, { signal: timeout })).json()) as { inflight?: unknown; served?: unknown };
      if (typeof load.inflight === 'number') r.reportedInflight = load.inflight;
      if (typeof load.served === 'number') r.served = load.served;
    } catch {
      r.ready = false;
    }
  }

  /** The address a running replica announced on its first lines of output (this attempt's), or null. */
  async #announcedAddress(job: JobRow): Promise<string | null> {
    const rows = await this.#ctx.store.db
      .selectFrom('job_logs')
      .select('data')
      .where('job_id', '=', job.id)
      .where('attempt', '=', job.attempt)
      .where('stream', '=', 'stdout')
      .orderBy('byte_offset')
      .limit(4)
      .execute();
    const m = ADDRESS_LINE.exec(rows.map((r) => r.data).join(''));
    return m ? m[1]! : null;
  }

  async #flushUsage(e: LiveEndpoint): Promise<void> {
    const u = e.usage;
    if (u.requests === 0 && u.coldStarts === 0) return;
    // Counted as unwritten until the write is done, so a view in between neither loses nor doubles it.
    e.usage = { requests: 0, failed: 0, tokens: 0, coldStarts: 0 };
    e.flushing = u;
    try {
      await addEndpointUsage(this.#ctx.store.db, e.row.id, u);
      e.row = { ...e.row, requests: e.row.requests + u.requests, failed_requests: e.row.failed_requests + u.failed, tokens: e.row.tokens + u.tokens, cold_starts: e.row.cold_starts + u.coldStarts };
    } catch (error) {
      // Not lost: added back for the next pass.
      e.usage = { requests: e.usage.requests + u.requests, failed: e.usage.failed + u.failed, tokens: e.usage.tokens + u.tokens, coldStarts: e.usage.coldStarts + u.coldStarts };
      throw error;
    } finally {
      e.flushing = null;
    }
  }

  /** Metering not yet in the store: counted since the last write, and a write under way. */
  unwritten(e: LiveEndpoint): { requests: number; failed: number; tokens: number; coldStarts: number } {
    const f = e.flushing;
    const u = e.usage;
    return f ? { requests: u.requests + f.requests, failed: u.failed + f.failed, tokens: u.tokens + f.tokens, coldStarts: u.coldStarts + f.coldStarts } : u;
  }

  /** Draining replicas are cancelled once no request of this process is in flight to them. */
  async #drainIdle(e: LiveEndpoint): Promise<void> {
    for (const r of e.replicas.values()) {
      if (!r.draining || r.cancelled || r.inflight > 0) continue;
      r.cancelled = true;
      await cancelJob(this.#ctx, await this.#owner(e.row), r.jobId).catch(() => undefined); // ended meanwhile
    }
  }

  /**
   * Autoscaling and rolling updates: the policy says how many replicas; replicas of an older version
   * are replaced one at a time, each drained once a replica of the new version is ready.
   */
  async #scale(e: LiveEndpoint, seen: { rps: number; concurrency: number; held: number; lastActivityAt: number }): Promise<void> {
    const row = e.row;
    const active = [...e.replicas.values()].filter((r) => !r.draining);
    const decision = decideReplicas(
      {
        min: row.min_replicas,
        max: row.max_replicas,
        targetConcurrency: row.target_concurrency,
        targetRps: null,
        scaleUpDelayMs: this.#config.scaleUpDelayMs,
        scaleDownDelayMs: this.#config.scaleDownDelayMs,
        idleToZeroMs: row.idle_to_zero_ms,
      },
      { replicas: active.length, concurrency: seen.concurrency, rps: seen.rps, held: seen.held, lastActivityAt: seen.lastActivityAt },
      e.memory,
      this.#ctx.clock,
    );
    e.memory = decision.memory;
    e.lastDecision = `${decision.replicas} replica${decision.replicas === 1 ? '' : 's'}: ${decision.reason}`;
    const target = decision.replicas;
    const current = active.filter((r) => r.version === row.version);
    const old = active.filter((r) => r.version !== row.version);
    if (old.length > 0) {
      const newReady = current.filter((r) => r.ready).length;
      if (target === 0) for (const r of old) await this.#drain(r);
      else if (newReady > 0 && newReady + old.length > target) await this.#drain(pickToDrain(old)!);
      if (current.length < target && current.every((r) => r.ready)) await this.#launch(e);
      return;
    }
    for (let n = current.length; n < target; n++) await this.#launch(e);
    for (let n = current.length; n > target; n--) {
      const r = pickToDrain(active.filter((x) => !x.draining));
      if (r) await this.#drain(r);
    }
  }

  async #drain(r: LiveReplica): Promise<void> {
    r.draining = true;
    await drainReplica(this.#ctx.store.db, r.jobId, this.#ctx.now());
  }

  /** Starts one replica: quoted, ranked for the callers' region, then submitted narrowed to the chosen region. */
  async #launch(e: LiveEndpoint): Promise<void> {
    const ctx = this.#ctx;
    const row = e.row;
    const owner = await this.#owner(row);
    const { spec } = await appJobSpec(ctx, owner, row.app, replicaLaunch(row.params, row.version, row.accelerators_per_node, `${row.name}@${row.version}`));
    const quote = await quoteJob(ctx, owner, spec);
    const centers = new Map((await listCenters(ctx.store.db)).map((c) => [c.id, c.region]));
    const options = [quote.chosen, ...quote.alternatives].filter((o) => o !== null);
    const explanation = explainServing(options, quote.infeasible, (id) => centers.get(id) ?? '', row.region, this.#links);
    if (!explanation.chosen) {
      e.lastDecision = `cannot start a replica: ${explanation.summary}`;
      return;
    }
    const { job } = await submitJob(ctx, owner, { ...spec, regions: [explanation.chosen.region] });
    const replica: ReplicaRow & { explanation: ServingExplanation } = {
      job_id: job.id,
      endpoint_id: row.id,
      version: row.version,
      region: explanation.chosen.region,
      explanation,
      address: null,
      created_at: ctx.now(),
      draining_since: null,
    };
    await insertReplica(ctx.store.db, replica);
    e.replicas.set(job.id, { jobId: job.id, version: row.version, region: replica.region, centerName: null, accelerator: null, capacity: 1, address: null, ready: false, draining: false, cancelled: false, inflight: 0, reportedInflight: 0, served: 0, jobState: job.state });
    ctx.signals.wake('tick');
  }

  async #owner(row: EndpointRow): Promise<User> {
    const u = await this.#ctx.store.db.selectFrom('users').select(['id', 'org_id', 'name', 'role']).where('id', '=', row.user_id).executeTakeFirstOrThrow();
    return { kind: 'user', userId: u.id, orgId: u.org_id, name: u.name, role: u.role };
  }
}

/** `org/name` as a metrics label: an operator's view, like /metrics itself. */
function endpointLabel(e: LiveEndpoint): string {
  return `${e.row.org_id}/${e.row.name}`;
}

function inflightOf(e: LiveEndpoint): number {
  let n = 0;
  for (const r of e.replicas.values()) n += r.inflight;
  return n;
}

function wakeAll(e: LiveEndpoint): void {
  for (const w of [...e.waiters]) w();
}

/** Not ready before ready, then the least loaded: what to drain first. */
function pickToDrain(rs: readonly LiveReplica[]): LiveReplica | undefined {
  return [...rs].sort((a, b) => Number(a.ready) - Number(b.ready) || a.inflight - b.inflight)[0];
}

/**
 * A replica's capacity: the app's `slots` parameter (8 unless set) times its chip's adaptation
 * efficiency (1 on CPU): a replica on a chip the app runs at 0.75 takes three quarters of the load.
 */
function capacityOf(row: EndpointRow, job: JobRow, accelerator: string | null): number {
  const slots = Number(row.params.slots ?? 8);
  const efficiency = accelerator && job.adaptation ? (job.adaptation[accelerator] ?? 1) : 1;
  return Math.max(0.1, (Number.isFinite(slots) && slots > 0 ? slots : 8) * efficiency);
}

/** p50/p95/p99 (seconds) of recent requests; null without any. */
export function latencyPercentiles(e: LiveEndpoint): { p50: number; p95: number; p99: number } | null {
  if (e.latencies.length === 0) return null;
  const sorted = [...e.latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}
