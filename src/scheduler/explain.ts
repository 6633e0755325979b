import type { NodeRequest } from '../core/resources.js';
import { formatFen } from '../core/money.js';
import { FEWER_THAN_NEEDED } from './capacity.js';
import type { Estimate } from './estimate.js';
import { isPermanentReason } from './reasons.js';
import { secondsToFinish } from './score.js';
import type { CenterView, Infeasible, InfeasibleReason, JobObjective, PendingJob, PlacementOption, PoolView } from './types.js';

/** `1 node`, `3 nodes`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Memory in GiB when it is whole GiB (`256 GiB`), else in MiB (`1500 MiB`). */
export function formatMemory(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

/** `2h 05m`, `45m`, `30s`; `3d 02h` beyond two days; `never` for an endless span. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'never';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h >= 48) return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
  return h === 0 ? `${m}m` : `${h}h ${String(m).padStart(2, '0')}m`;
}

/** `0.52 kg CO2e`. */
export function formatCarbon(kg: number): string {
  return `${kg.toFixed(2)} kg CO2e`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** `Jan 15 14:30 UTC+8` on a clock `utcOffsetHours` ahead of UTC (`UTC+5:30`, `UTC-5`, `UTC`). */
export function formatClock(epochMs: number, utcOffsetHours: number): string {
  const d = new Date(Math.round(epochMs + utcOffsetHours * 3_600_000));
  const two = (n: number) => String(n).padStart(2, '0');
  const sign = utcOffsetHours < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetHours);
  const whole = Math.floor(abs);
  const minutes = Math.round((abs - whole) * 60);
  const zone = abs === 0 ? 'UTC' : `UTC${sign}${whole}${minutes > 0 ? `:${two(minutes)}` : ''}`;
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} ${zone}`;
}

/** `Jan 15 14:30 UTC+8 (in 3h 10m)`. */
export function formatWhen(epochMs: number, now: number, utcOffsetHours: number): string {
  return `${formatClock(epochMs, utcOffsetHours)} (in ${formatDuration((epochMs - now) / 1000)})`;
}

/** One node's worth of a request in words, on a pool with accelerator `key`: `8 ascend-910b, 64 cores, 512 GiB`. */
export function describeNode(request: NodeRequest, key: string | null): string {
  const parts: string[] = [];
  if (request.accelerators > 0) parts.push(`${request.accelerators} ${key ?? 'accelerators'}`);
  parts.push(count(request.cores, 'core'), formatMemory(request.memoryMiB));
  return parts.join(', ');
}

/** The facts behind a detail that the job and the pool alone do not give. */
export interface DetailFacts {
  readonly now: number;
  /** The estimate of a start now on this pool (for the limit reasons). */
  readonly estimate?: Estimate;
  /** The input that cannot reach the pool, and where its replicas are (null when the dataset is unknown). */
  readonly unreachable?: { readonly datasetId: string; readonly replicas: readonly string[] | null };
  /** The reservation a start now would delay. */
  readonly blockedBy?: { readonly jobId: string; readonly startAt: number; readonly holdUntil: number };
}

function limitFigures(e: Estimate): string {
  return `stage-in ${formatDuration(e.stageInSeconds)}, run ${formatDuration(e.runSeconds)}`;
}

/**
 * The sentence for one infeasible pool: what the job needs and what the pool has, in numbers.
 * `fitCount` matters for `insufficient-capacity` only: how many nodes had room when the job was
 * considered, or `FEWER_THAN_NEEDED` when that was settled without counting. `facts` feed the
 * limit reasons (without them the sentence names the limit only).
 */
export function infeasibleDetail(
  reason: InfeasibleReason,
  job: PendingJob,
  center: CenterView,
  pool: PoolView,
  fitCount: number = FEWER_THAN_NEEDED,
  facts?: DetailFacts,
): string {
  const want = job.perNode;
  const cap = pool.perNode;
  const nodes = pool.freeByNode.length;
  const e = facts?.estimate;
  const offset = center.energy.utcOffsetHours;
  switch (reason) {
    case 'residency-forbids':
      return `may run only in ${job.allowedRegions.join(', ')}; center ${center.name} is in ${center.region}`;
    case 'no-accelerator':
      return `needs ${want.accelerators} accelerators per node; pool ${pool.name} is CPU-only`;
    case 'forbidden-accelerator':
      return `forbids ${pool.accelerator}; pool ${pool.name} has it`;
    case 'no-adapted-accelerator':
      if (job.allowedAccelerators.length > 0 && (pool.accelerator === null || !job.allowedAccelerators.includes(pool.accelerator))) {
        return `allows only ${job.allowedAccelerators.join(', ')}; pool ${pool.name} has ${pool.accelerator ?? 'no accelerator (CPU-only)'}`;
      } else {
        const adapted = Object.keys(job.adaptation ?? {})
          .filter((k) => (job.adaptation?.[k] ?? 0) > 0)
          .sort();
        return `the app is not adapted to ${pool.accelerator} (adapted: ${adapted.length > 0 ? adapted.join(', ') : 'none'})`;
      }
    case 'command-not-found': {
      return `program "${job.program}" is not on the PATH at center ${center.name}`;
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
    case 'data-unreachable': {
      const u = facts?.unreachable;
      if (u === undefined) return `an input cannot reach region ${center.region}`;
      if (u.replicas === null) return `input ${u.datasetId} is not a known dataset`;
      const where = u.replicas.length > 0 ? `replicas in ${u.replicas.join(', ')}` : 'no replica anywhere';
      return `input ${u.datasetId} cannot reach region ${center.region}: ${where}, and no link from there`;
    }
    case 'exceeds-walltime':
      if (e === undefined) return `its run would outlast its walltime ${formatDuration(job.walltimeSeconds)}`;
      return (
        `would run ${formatDuration(e.runSeconds)} on ${pool.accelerator ?? 'CPU'}` +
        (e.efficiency !== null ? ` (efficiency ${e.efficiency.toFixed(2)})` : '') +
        `, beyond its walltime ${formatDuration(job.walltimeSeconds)}`
      );
    case 'over-budget':
      if (e === undefined) return `would cost more than its budget ${formatFen(job.budgetFen ?? 0)}`;
      return (
        `would cost ${formatFen(e.costFen)} (${formatFen(e.computeFen)} compute + ${formatFen(e.egressFen)} egress) ` +
        `starting now, over its budget ${formatFen(job.budgetFen ?? 0)}`
      );
    case 'misses-deadline': {
      const deadline = job.deadline === null ? 'its deadline' : `its deadline ${formatClock(job.deadline, offset)}`;
      if (e === undefined) return `cannot finish by ${deadline}`;
      return `would finish ${formatClock(e.completionAt, offset)} even starting now (${limitFigures(e)}), after ${deadline}`;
    }
    case 'center-offline':
      return `center ${center.name} is ${center.state}`;
    case 'insufficient-capacity': {
      const b = facts?.blockedBy;
      if (b !== undefined) {
        return (
          `${count(job.nodes, 'node')} with ${describeNode(want, pool.accelerator)} each ${job.nodes === 1 ? 'has' : 'have'} room now, ` +
          `but job ${b.jobId} holds a reservation on them from ${formatClock(b.startAt, offset)} and this one could run until ${formatClock(b.holdUntil, offset)}`
        );
      }
      const room = fitCount === FEWER_THAN_NEEDED ? `fewer than ${job.nodes}` : String(fitCount);
      return (
        `needs ${count(job.nodes, 'free node')} with ${describeNode(want, pool.accelerator)} each; ` +
        `${room} of ${nodes} ${nodes === 1 ? 'has' : 'have'} room now`
      );
    }
  }
}

/** The objective in a word or two: `cheapest`, `best balance`, `best weighted (cost 2, time 1, carbon 0)`. */
export function objectiveWords(objective: JobObjective): string {
  switch (objective) {
    case 'cheapest':
    case 'fastest':
    case 'greenest':
      return objective;
    case 'balanced':
      return 'best balance';
    default: {
      const w = objective.weights;
      return `best weighted (cost ${w.cost}, time ${w.time}, carbon ${w.carbon})`;
    }
  }
}

function startWords(option: PlacementOption, now: number): string {
  if (option.start === 'now') return '';
  const verb = option.start === 'reservation' ? 'reserved' : 'deferred';
  return ` (${verb}, starts in ${formatDuration((option.startAt - now) / 1000)})`;
}

/** The figure the objective ranks by: `¥12.00`, `done in 2h 00m`, `0.52 kg CO2e`, `score 3.25 (¥12.00, 2h 00m, 0.52 kg CO2e)`. */
export function figureOf(objective: JobObjective, option: PlacementOption, now: number): string {
  const done = formatDuration(secondsToFinish(option, now));
  switch (objective) {
    case 'cheapest':
      return formatFen(option.costFen);
    case 'fastest':
      return `done in ${done}`;
    case 'greenest':
      return formatCarbon(option.carbonKg);
    default:
      return `score ${option.score.toFixed(2)} (${formatFen(option.costFen)}, ${done}, ${formatCarbon(option.carbonKg)})`;
  }
}

/**
 * The figures of a plan that do not depend on when they are read (`¥8.00`, `0.40 kg CO2e`, both
 * for weights; none for `fastest`, whose plan is told by its end): a waiting job's summary stays
 * the same from pass to pass while its plan does, and does not go stale once stored.
 */
function planFigure(objective: JobObjective, option: PlacementOption): string {
  switch (objective) {
    case 'cheapest':
      return `${formatFen(option.costFen)} `;
    case 'fastest':
      return '';
    case 'greenest':
      return `${formatCarbon(option.carbonKg)} `;
    default:
      return `${formatFen(option.costFen)}, ${formatCarbon(option.carbonKg)} `;
  }
}

/** An option as a summary shows it, leading with the figure the objective ranks by: `¥12.00 at west/910b`. */
export function describeOption(objective: JobObjective, option: PlacementOption, now: number): string {
  return `${figureOf(objective, option, now)} at ${option.centerName}/${option.poolName}${startWords(option, now)}`;
}

/**
 * Why a placed job went where it did: `cheapest of 3 feasible options: ¥12.00 at west/910b,
 * ¥30.00 at east/a100 …`, the chosen option first.
 */
export function placedSummary(
  objective: JobObjective,
  chosen: PlacementOption,
  alternatives: readonly PlacementOption[],
  feasibleCount: number,
  infeasibleCount: number,
  now: number,
): string {
  const shown = [chosen, ...alternatives].map((o) => describeOption(objective, o, now)).join(', ');
  const more = feasibleCount > alternatives.length + 1 ? ' …' : '';
  const others = infeasibleCount > 0 ? `; ${count(infeasibleCount, 'pool')} cannot take it now` : '';
  return `${objectiveWords(objective)} of ${count(feasibleCount, 'feasible option')}: ${shown}${more}${others}`;
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

/** What a summary reads of an infeasible entry (its sentence only for the one example it gives). */
export type ListedInfeasible = Pick<Infeasible, 'reason' | 'centerName' | 'poolName'>;

/** What the infeasible pools of a job that can run somewhere amount to: `1 is full now and …; 2 never can (…)`. */
function blockedWords(infeasible: readonly ListedInfeasible[]): { could: number; waitsFor: string; never: string } {
  const permanent = infeasible.filter((i) => isPermanentReason(i.reason));
  const busy = infeasible.filter((i) => i.reason === 'insufficient-capacity').length;
  const offline = infeasible.filter((i) => i.reason === 'center-offline');
  const waitsFor: string[] = [];
  if (busy > 0) waitsFor.push(`${busy} ${busy === 1 ? 'is' : 'are'} full now`);
  if (offline.length > 0) {
    const centers = [...new Set(offline.map((i) => i.centerName))].join(', ');
    waitsFor.push(`${offline.length} ${offline.length === 1 ? 'is' : 'are'} at ${centers}, not online`);
  }
  const never = permanent.length > 0 ? `; ${permanent.length} never can (${tally(permanent.map((i) => i.reason))})` : '';
  return { could: busy + offline.length, waitsFor: waitsFor.join(' and '), never };
}

/**
 * Why a job with no plan waits, from its infeasible pools (all of them): either it can never run as
 * asked (every pool fails for a permanent reason), or what it waits for.
 */
export function waitingSummary(infeasible: readonly Infeasible[]): string {
  return waitingSummaryOf(infeasible, (i) => i.detail);
}

/** `waitingSummary` from entries without their sentences: `detailOf` writes the one it shows. */
export function waitingSummaryOf<T extends ListedInfeasible>(infeasible: readonly T[], detailOf: (entry: T) => string): string {
  if (infeasible.length === 0) return 'waits: the network has no pools';
  const permanent = infeasible.filter((i) => isPermanentReason(i.reason));
  if (permanent.length === infeasible.length) {
    const first = infeasible[0]!;
    return (
      `can never run as asked: none of ${count(infeasible.length, 'pool')} can take it ` +
      `(${tally(permanent.map((i) => i.reason))}); e.g. ${first.centerName}/${first.poolName}: ${detailOf(first)}`
    );
  }
  const b = blockedWords(infeasible);
  return `waits: ${count(b.could, 'pool')} could run it, but ${b.waitsFor}${b.never}`;
}

/**
 * Why a job waits for its reservation: when it starts and ends, and either what stops it starting
 * now or, when it could have, what waiting gains (`bestNow`, the best start now). Times are
 * absolute, so the sentence holds as long as the plan does.
 */
export function reservedSummary(
  objective: JobObjective,
  chosen: PlacementOption,
  bestNow: PlacementOption | null,
  infeasible: readonly ListedInfeasible[],
  now: number,
  utcOffsetHours: number,
): string {
  const when = `from ${formatClock(chosen.startAt, utcOffsetHours)}, done by ${formatClock(chosen.completionAt, utcOffsetHours)}`;
  if (bestNow !== null) {
    return (
      `waits for a reservation that pays off: ${planFigure(objective, chosen)}at ${chosen.centerName}/${chosen.poolName} ${when}, ` +
      `vs ${describeOption(objective, bestNow, now)} starting now`
    );
  }
  const plan = `reserved ${chosen.centerName}/${chosen.poolName} ${when}`;
  const b = blockedWords(infeasible);
  const tail = b.could > 0 ? `; of the other pools ${b.waitsFor}${b.never}` : b.never;
  return `waits for capacity: ${plan}${tail}`;
}

/** Which way a deferred option is better than starting now (or, with nothing to start now, the objective's word). */
function betterHourWords(objective: JobObjective, chosen: PlacementOption, bestNow: PlacementOption | null): string {
  if (bestNow === null) return objective === 'greenest' ? 'a greener' : objective === 'cheapest' ? 'a cheaper' : 'a better';
  const cheaper = chosen.costFen < bestNow.costFen;
  const greener = chosen.carbonKg < bestNow.carbonKg;
  return cheaper && greener ? 'a cheaper, greener' : cheaper ? 'a cheaper' : greener ? 'a greener' : 'a better';
}

/**
 * Why a job waits for a later hour: the planned start, and what it saves over starting now
 * (`bestNow`), or, with nothing to start now, that only a cheaper hour keeps it within `budgetFen`.
 */
export function deferredSummary(
  objective: JobObjective,
  chosen: PlacementOption,
  bestNow: PlacementOption | null,
  infeasible: readonly ListedInfeasible[],
  now: number,
  utcOffsetHours: number,
  budgetFen: number | null = null,
): string {
  const head =
    `waits for ${bestNow === null && budgetFen !== null ? 'a cheaper' : betterHourWords(objective, chosen, bestNow)} hour: ` +
    `${planFigure(objective, chosen)}at ${chosen.centerName}/${chosen.poolName} ` +
    `from ${formatClock(chosen.startAt, utcOffsetHours)}, done by ${formatClock(chosen.completionAt, utcOffsetHours)}`;
  if (bestNow !== null) return `${head}, vs ${describeOption(objective, bestNow, now)} starting now`;
  const b = blockedWords(infeasible);
  const tail = b.could > 0 ? `; of the other pools ${b.waitsFor}${b.never}` : b.never;
  const why = budgetFen !== null ? `starting now would break its budget ${formatFen(budgetFen)}` : 'it cannot start now';
  return `${head}; ${why}${tail}`;
}
