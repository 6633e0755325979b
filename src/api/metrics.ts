import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { JOB_STATES } from '../core/job-state.js';
import type { EngineMetrics } from '../engine/metrics.js';
import { centerLiveness, countJobsByState, type CenterLiveness } from '../store/stats.js';
import type { Queryable } from '../store/transaction.js';

/**
 * The Prometheus metrics of one control-plane process, on a registry of its own (so several apps in
 * one test process never share counters). Events (placements, heartbeats, HTTP requests) are counted
 * as they happen in this process; what lives in the store (jobs by state, queue depth, centers'
 * heartbeat ages) is read at scrape time with one GROUP BY and one small SELECT, cached for
 * `storeCacheMs` so a burst of scrapes costs one read.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Hooks for EngineContext.metrics. */
  readonly engine: EngineMetrics;
  /** One HTTP request ended; `route` is the route pattern (`/v1/jobs/:id`), never the raw path. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** The text exposition format, with its content type. */
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
}

export interface MetricsOptions {
  /** How long store-read figures are reused; at least 1000 ms (default). */
  readonly storeCacheMs?: number;
  /** Also export Node's process metrics (CPU, memory, event-loop lag, GC); default true. */
  readonly processMetrics?: boolean;
}

interface StoreFigures {
  readonly jobs: Map<string, number>;
  readonly centers: readonly CenterLiveness[];
  readonly at: number;
}

/** Creates the metrics over a store handle (`ctx.store.db`). */
export function createMetrics(db: Queryable, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const cacheMs = Math.max(1000, options.storeCacheMs ?? 1000);
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  let cached: Promise<StoreFigures | undefined> | undefined;
  let cachedAt = -Infinity;
  const storeReadErrors = new Counter({
    name: 'suanwang_metrics_store_read_errors_total',
    help: 'Scrapes whose store read failed (the store-read gauges then keep their previous values).',
    registers: [registry],
  });
  /** The store's figures, read at most once per cacheMs (a failed read too: undefined until the next). */
  const figures = (): Promise<StoreFigures | undefined> => {
    const now = performance.now();
    if (!cached || now - cachedAt >= cacheMs) {
      cachedAt = now;
      cached = Promise.all([countJobsByState(db), centerLiveness(db)]).then(
        ([jobs, centers]) => ({ jobs, centers, at: Date.now() }),
        () => {
          storeReadErrors.inc();
          return undefined;
        },
      );
    }
    return cached;
  };

  new Gauge({
    name: 'suanwang_jobs',
    help: 'Jobs in the store by state (all replicas see the same figure).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const f = await figures();
      if (!f) return;
      for (const state of JOB_STATES) this.set({ state }, f.jobs.get(state) ?? 0);
    },
  });
  new Gauge({
    name: 'suanwang_queue_depth',
    help: 'Jobs waiting for a placement (submitted + queued).',
    registers: [registry],
    async collect() {
      const f = await figures();
      if (f) this.set((f.jobs.get('submitted') ?? 0) + (f.jobs.get('queued') ?? 0));
    },
  });
  new Gauge({
    name: 'suanwang_center_state',
    help: "1 for each center's current state (online, draining, offline), 0 for the others.",
    labelNames: ['center', 'state'],
    registers: [registry],
    async collect() {
      const f = await figures();
      if (!f) return;
      this.reset();
      for (const c of f.centers) for (const state of ['online', 'draining', 'offline'] as const) this.set({ center: c.name, state }, c.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'suanwang_agent_last_heartbeat_age_seconds',
    help: "Seconds since a center's agent last sent a heartbeat (to any replica); absent before its first.",
    labelNames: ['center'],
    registers: [registry],
    async collect() {
      const f = await figures();
      if (!f) return;
      this.reset();
      for (const c of f.centers) if (c.lastHeartbeatAt) this.set({ center: c.name }, Math.max(0, (f.at - c.lastHeartbeatAt.getTime()) / 1000));
    },
  });

  const passDuration = new Histogram({
    name: 'suanwang_scheduling_pass_duration_seconds',
    help: 'Duration of one control-loop pass (reconcile, admit, snapshot, schedule, persist) in this process.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const waiting = new Gauge({
    name: 'suanwang_scheduling_waiting_jobs',
    help: 'Jobs the last pass of this process considered and could not place yet.',
    registers: [registry],
  });
  const placements = new Counter({ name: 'suanwang_placements_total', help: 'Jobs placed on a center by this process.', registers: [registry] });
  const admitted = new Counter({ name: 'suanwang_admitted_total', help: 'Jobs admitted to the queue by this process.', registers: [registry] });
  const centersLost = new Counter({
    name: 'suanwang_center_losses_total',
    help: 'Times a center was declared lost or drained past the deadline, its jobs requeued.',
    labelNames: ['center'],
    registers: [registry],
  });
  const dispatch = new Histogram({
    name: 'suanwang_dispatch_latency_seconds',
    help: 'From placement to the agent reporting the run running.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
    registers: [registry],
  });
  const heartbeats = new Counter({
    name: 'suanwang_agent_heartbeats_total',
    help: 'Agent heartbeats received by this process, per center.',
    labelNames: ['center'],
    registers: [registry],
  });
  const http = new Histogram({
    name: 'suanwang_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status (long polls included: they last up to their wait).',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });

  return {
    registry,
    engine: {
      pass(seconds, report) {
        passDuration.observe(seconds);
        waiting.set(report.waiting);
        if (report.placed > 0) placements.inc(report.placed);
        if (report.admitted > 0) admitted.inc(report.admitted);
        for (const center of report.lostCenters) centersLost.inc({ center });
      },
      dispatched: (seconds) => dispatch.observe(seconds),
      heartbeat: (center) => heartbeats.inc({ center }),
    },
    observeRequest: (method, route, status, seconds) => http.observe({ method, route, status: String(status) }, seconds),
    async render() {
      await figures(); // read before the registry serializes, so the error counter is current
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
