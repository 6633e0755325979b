import type { NodeRequest } from '../core/resources.js';
import { formatFen } from '../core/money.js';
import { FEWER_THAN_NEEDED } from './capacity.js';
import { programKey } from './commands.js';
import { isStaticReason } from './reasons.js';
import { secondsToFinish } from './score.js';
import type {
  CenterView,
  Infeasible,
  InfeasibleReason,
  Objective,
  PendingJob,
  PlacementOption,
  PoolView,
} from './types.js';

/** `1 node`, `3 nodes`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Memory in GiB when it is whole GiB (`256 GiB`), else in MiB (`1500 MiB`). */
export function formatMemory(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

/** `2h 05m`, `45m`, `30s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h === 0 ? `${m}m` : `${h}h ${String(m).padStart(2, '0')}m`;
}

/** `0.52 kg CO2e`. */
export function formatCarbon(kg: number): string {
  return `${kg.toFixed(2)} kg CO2e`;
}

/** One node's worth of a request in words, on a pool with accelerator `key`: `8 ascend-910b, 64 cores, 512 GiB`. */
export function describeNode(request: NodeRequest, key: string | null): string {
  const parts: string[] = [];
  if (request.accelerators > 0) parts.push(`${request.accelerators} ${key ?? 'accelerators'}`);
  parts.push(count(request.cores, 'core'), formatMemory(request.memoryMiB));
  return parts.join(', ');
}

/**
 * The sentence for one infeasible pool: what the job needs and what the pool has, in numbers.
 * `fitCount` matters for `insufficient-capacity` only: how many nodes had room when the job was
 * considered, or `FEWER_THAN_NEEDED` when that was settled without counting.
 */
export function infeasibleDetail(
  reason: InfeasibleReason,
  job: PendingJob,
  center: CenterView,
  pool: PoolView,
  fitCount: number = FEWER_THAN_NEEDED,
): string {
  const want = job.perNode;
  const cap = pool.perNode;
  const nodes = pool.freeByNode.length;
  switch (reason) {
    case 'no-accelerator':
      return `needs ${want.accelerators} accelerators per node; pool ${pool.name} is CPU-only`;
    case 'no-adapted-accelerator':
      return `allows only ${job.allowedAccelerators.join(', ')}; pool ${pool.name} has ${pool.accelerator ?? 'no accelerator (CPU-only)'}`;
    case 'command-not-found': {
      const key = programKey(job.program) ?? job.program;
      const shown = key === job.program ? `"${key}"` : `"${key}" (from "${job.program}")`;
      return `program ${shown} is not on the PATH at center ${center.name}`;
    }
    case 'node-too-small': {
      const short: string[] = [];
      if (want.accelerators > cap.accelerators) {
        short.push(`needs ${want.accelerators} ${pool.accelerator ?? 'accelerators'} per node; nodes have ${cap.accelerators}`);
      }
      if (want.cores > cap.cores) short.push(`needs ${count(want.cores, 'core')} per node; nodes have ${cap.cores}`);
      if (want.memoryMiB > cap.memoryMiB) {
        short.push(`needs ${formatMemory(want.memoryMiB)} memory per node; nodes have ${formatMemory(cap.memoryMiB)}`);
      }
      return short.join('; ');
    }
    case 'gang-does-not-fit':
      return `needs ${count(job.nodes, 'node')} at once; pool ${pool.name} has ${nodes}`;
    case 'center-offline':
      return `center ${center.name} is ${center.state}`;
    case 'insufficient-capacity': {
      const room = fitCount === FEWER_THAN_NEEDED ? `fewer than ${job.nodes}` : String(fitCount);
      return (
        `needs ${count(job.nodes, 'free node')} with ${describeNode(want, pool.accelerator)} each; ` +
        `${room} of ${nodes} ${nodes === 1 ? 'has' : 'have'} room now`
      );
    }
  }
}

const OBJECTIVE_WORDS: Readonly<Record<Objective, string>> = {
  cheapest: 'cheapest',
  fastest: 'fastest',
  greenest: 'greenest',
  balanced: 'best balance',
};

/** An option as a summary shows it, leading with the figure the objective ranks by: `¥12.00 at west/910b`. */
export function describeOption(objective: Objective, option: PlacementOption, now: number): string {
  const where = `${option.centerName}/${option.poolName}`;
  const done = formatDuration(secondsToFinish(option, now));
  switch (objective) {
    case 'cheapest':
      return `${formatFen(option.costFen)} at ${where}`;
    case 'fastest':
      return `done in ${done} at ${where}`;
    case 'greenest':
      return `${formatCarbon(option.carbonKg)} at ${where}`;
    case 'balanced':
      return `score ${option.score.toFixed(2)} (${formatFen(option.costFen)}, ${done}, ${formatCarbon(option.carbonKg)}) at ${where}`;
  }
}

/**
 * Why a placed job went where it did: `cheapest of 3 feasible options: ¥12.00 at west/910b,
 * ¥30.00 at east/a100 …`, the chosen option first.
 */
export function placedSummary(
  objective: Objective,
  chosen: PlacementOption,
  alternatives: readonly PlacementOption[],
  feasibleCount: number,
  infeasibleCount: number,
  now: number,
): string {
  const shown = [chosen, ...alternatives].map((o) => describeOption(objective, o, now)).join(', ');
  const more = feasibleCount > alternatives.length + 1 ? ' …' : '';
  const others = infeasibleCount > 0 ? `; ${count(infeasibleCount, 'pool')} cannot take it now` : '';
  return `${OBJECTIVE_WORDS[objective]} of ${count(feasibleCount, 'feasible option')}: ${shown}${more}${others}`;
}

/** `2 node-too-small, 1 command-not-found`: most frequent first, then by name. */
function tally(reasons: readonly InfeasibleReason[]): string {
  const counts = new Map<InfeasibleReason, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([r, n]) => `${n} ${r}`)
    .join(', ');
}

/**
 * Why a job waits, from its infeasible pools (all of them, as no pool can take it now): either it
 * can never run as asked (every pool fails for a permanent reason), or what it waits for.
 */
export function waitingSummary(infeasible: readonly Infeasible[]): string {
  if (infeasible.length === 0) return 'waits: the network has no pools';
  const permanent = infeasible.filter((i) => isStaticReason(i.reason));
  if (permanent.length === infeasible.length) {
    const first = infeasible[0]!;
    return (
      `can never run as asked: none of ${count(infeasible.length, 'pool')} can take it ` +
      `(${tally(permanent.map((i) => i.reason))}); e.g. ${first.centerName}/${first.poolName}: ${first.detail}`
    );
  }
  const busy = infeasible.filter((i) => i.reason === 'insufficient-capacity').length;
  const offline = infeasible.filter((i) => i.reason === 'center-offline');
  const waitsFor: string[] = [];
  if (busy > 0) waitsFor.push(`${busy} ${busy === 1 ? 'is' : 'are'} full now`);
  if (offline.length > 0) {
    const centers = [...new Set(offline.map((i) => i.centerName))].join(', ');
    waitsFor.push(`${offline.length} ${offline.length === 1 ? 'is' : 'are'} at ${centers}, not online`);
  }
  const could = busy + offline.length;
  const never = permanent.length > 0 ? `; ${permanent.length} never can (${tally(permanent.map((i) => i.reason))})` : '';
  return `waits: ${count(could, 'pool')} could run it, but ${waitsFor.join(' and ')}${never}`;
}
