import type { EngineContext } from './context.js';

/**
 * What the engine tells the metrics about, as it happens. The engine only calls these hooks; the
 * Prometheus side (src/api/metrics.ts) implements them. A context without `metrics` reports nothing.
 * Counts that live in the store (jobs by state, queue depth, heartbeat ages) are read at scrape
 * time instead, so every replica reports the same figures whichever one did the work.
 */
export interface EngineMetrics {
  /** One control-loop turn ended: how long it took and what it did. */
  pass(seconds: number, report: { readonly placed: number; readonly waiting: number; readonly admitted: number; readonly lostCenters: readonly string[] }): void;
  /** A placed run was reported running by its agent `seconds` after its placement. */
  dispatched(seconds: number): void;
  /** The agent of the center with this name sent a heartbeat. */
  heartbeat(centerName: string): void;
}

/** Reports nothing. */
export const noMetrics: EngineMetrics = { pass: () => {}, dispatched: () => {}, heartbeat: () => {} };

/**
 * Runs one control-loop turn and reports its duration and outcome to `ctx.metrics` (the loop's
 * one-line hook). Failures are not timed: they are logged by the loop and retried.
 */
export async function measuredPass<R extends Parameters<EngineMetrics['pass']>[1]>(ctx: EngineContext, pass: () => Promise<R>): Promise<R> {
  const started = performance.now();
  const report = await pass();
  ctx.metrics?.pass((performance.now() - started) / 1000, report);
  return report;
}
