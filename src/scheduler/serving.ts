import { formatFen } from '../core/money.js';
import { formatCarbon } from './explain.js';
import type { Infeasible, Link, PlacementOption } from './types.js';

/**
 * Placement of a serving replica (an inference endpoint's long-running job). Batch work ranks by
 * cost, time and carbon; a replica answers callers, so it ranks by the network latency from the
 * callers' region first, then by the balanced score of cost and carbon (each relative to the best
 * option at that latency). The options are those `quoteOptions` or a pass found for the replica.
 */
export interface ServingOption {
  readonly option: PlacementOption;
  readonly region: string;
  /** One-way latency from the callers' region in ms (0 in the same region; Infinity when no link is known). */
  readonly latencyMs: number;
  /** cost/best + carbon/best among options at the same latency (2 = best at both); lower is better. */
  readonly score: number;
}

export interface ServingExplanation {
  readonly objective: 'latency';
  readonly callerRegion: string;
  readonly chosen: ServingOption | null;
  readonly alternatives: readonly ServingOption[];
  readonly infeasible: readonly Infeasible[];
  readonly summary: string;
}

/** One-way latency between two regions: 0 within one, the best listed link either way, else Infinity. */
export function regionLatencyMs(links: readonly Link[], from: string, to: string): number {
  if (from === to) return 0;
  let best = Infinity;
  for (const l of links) {
    if ((l.fromRegion === from && l.toRegion === to) || (l.fromRegion === to && l.toRegion === from)) best = Math.min(best, l.latencyMs);
  }
  return best;
}

/**
 * Ranks `options` for a replica serving callers in `callerRegion`: nearest first, then cheaper and
 * greener (balanced, with equal weights), then the given order (the network's tie-break). Pure.
 */
export function rankServingOptions(
  options: readonly PlacementOption[],
  regionOfCenter: (centerId: string) => string,
  callerRegion: string,
  links: readonly Link[],
): ServingOption[] {
  const withLatency = options.map((option, i) => {
    const region = regionOfCenter(option.centerId);
    return { i, option, region, latencyMs: regionLatencyMs(links, callerRegion, region) };
  });
  const ratio = (v: number, best: number) => (best > 0 ? v / best : v > 0 ? 2 : 1);
  const ranked = withLatency.map((o) => {
    const peers = withLatency.filter((p) => p.latencyMs === o.latencyMs);
    const bestCost = Math.min(...peers.map((p) => p.option.costFen));
    const bestCarbon = Math.min(...peers.map((p) => p.option.carbonKg));
    return { ...o, score: ratio(o.option.costFen, bestCost) + ratio(o.option.carbonKg, bestCarbon) };
  });
  ranked.sort((a, b) => a.latencyMs - b.latencyMs || a.score - b.score || a.i - b.i);
  return ranked.map(({ option, region, latencyMs, score }) => ({ option, region, latencyMs, score }));
}

/** `rankServingOptions` with the sentence `show` prints: why this pool, against which others. */
export function explainServing(
  options: readonly PlacementOption[],
  infeasible: readonly Infeasible[],
  regionOfCenter: (centerId: string) => string,
  callerRegion: string,
  links: readonly Link[],
  maxAlternatives = 3,
): ServingExplanation {
  const ranked = rankServingOptions(options, regionOfCenter, callerRegion, links);
  const chosen = ranked[0] ?? null;
  const alternatives = ranked.slice(1, 1 + maxAlternatives);
  const summary =
    chosen === null
      ? `no pool can serve it now (${infeasible.length} ruled out: ${[...new Set(infeasible.map((i) => i.reason))].join(', ') || 'none listed'})`
      : `nearest to callers in ${callerRegion}: ${describeServing(chosen)}` +
        (alternatives.length > 0 ? `; vs ${alternatives.map(describeServing).join(', ')}` : '');
  return { objective: 'latency', callerRegion, chosen, alternatives, infeasible, summary };
}

/** `east-shanghai/a100 (shanghai, 0 ms, ¥12.00, 0.73 kg CO2e)`: the option's cost and carbon over its estimated run. */
export function describeServing(o: ServingOption): string {
  const latency = Number.isFinite(o.latencyMs) ? `${o.latencyMs} ms` : 'no known link';
  return `${o.option.centerName}/${o.option.poolName} (${o.region}, ${latency}, ${formatFen(o.option.costFen)}, ${formatCarbon(o.option.carbonKg)})`;
}
