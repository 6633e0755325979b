import type { Fen } from '../core/money.js';
import { PoolCapacity } from './capacity.js';
import { programKey } from './commands.js';
import { boardWatts, carbonIntensityAt, costOf, energyKwh, hourlyFen, jobWatts, toOption, type Estimate } from './estimate.js';
import { infeasibleDetail, placedSummary, waitingSummary } from './explain.js';
import { staticReason } from './feasibility.js';
import { rankPools, type PoolRef } from './network.js';
import { orderJobs } from './order.js';
import { rangeOf, scoreUnder, type FigureRange } from './score.js';
import {
  DEFAULT_POLICY,
  INFEASIBLE_REASONS,
  type Explanation,
  type Infeasible,
  type InfeasibleReason,
  type PendingJob,
  type Placement,
  type PlacementOption,
  type Policy,
  type ScheduleResult,
  type Snapshot,
} from './types.js';

/*
 * What a pass learns about one job on one pool, one integer per pool so that the explanation's
 * infeasible list (most of a 100,000-job backlog is infeasible almost everywhere) is only turned
 * into objects and sentences when someone reads it:
 *   n >= 0               insufficient-capacity, n nodes had room
 *   FEWER_THAN_NEEDED    insufficient-capacity, settled without counting (-1, from capacity.ts)
 *   FEASIBLE             an option
 *   REASON_BASE - i      INFEASIBLE_REASONS[i]
 */
const FEASIBLE = -2;
const REASON_BASE = -10;
const REASON_STATUS = Object.fromEntries(INFEASIBLE_REASONS.map((r, i) => [r, REASON_BASE - i])) as Record<
  InfeasibleReason,
  number
>;

function reasonOf(status: number): InfeasibleReason {
  return status <= REASON_BASE ? INFEASIBLE_REASONS[REASON_BASE - status]! : 'insufficient-capacity';
}

/**
 * One scheduling pass over `snapshot`: jobs in queue order (priority, age, id), each placed on the
 * pool whose option scores best under its objective, or left waiting with the reason. Capacity
 * taken by one job is gone for the jobs after it; no node is ever given more than it has free.
 * Pure and deterministic: the same snapshot, in any order of jobs and centers, gives the same result.
 */
export function schedule(snapshot: Snapshot, policy: Policy = DEFAULT_POLICY): ScheduleResult {
  const now = snapshot.now;
  const refs = rankPools(snapshot.centers);
  const poolCount = refs.length;

  // Per pool, what does not change during the pass.
  const capacity = refs.map((r) => new PoolCapacity(r.pool.freeByNode));
  const online = refs.map((r) => r.center.state === 'online');
  const acceleratorWatts = refs.map((r) => boardWatts(r.pool.accelerator));
  const carbonNow = refs.map((r) => carbonIntensityAt(r.center, now));
  const centerSlot = new Map(refs.map((r) => [r.center, 0]));
  let slot = 0;
  for (const c of centerSlot.keys()) centerSlot.set(c, slot++);
  const centerOf = refs.map((r) => centerSlot.get(r.center)!);

  // Scratch space reused by every job: the figures of its feasible options, and the best few.
  // `maxAlternatives` may be Infinity ("all"); NaN counts as none.
  const keep = 1 + Math.min(poolCount, Math.max(0, Math.floor(policy.maxAlternatives) || 0));
  const optPool = new Int32Array(poolCount);
  const optCost = new Float64Array(poolCount);
  const optSeconds = new Float64Array(poolCount);
  const optEnergy = new Float64Array(poolCount);
  const optCarbon = new Float64Array(poolCount);
  const topOpt = new Int32Array(keep);
  const topScore = new Float64Array(keep);
  // The command look-up is per center; this remembers it for the job being placed.
  const commandJob = new Int32Array(centerSlot.size).fill(-1);
  const commandOk = new Uint8Array(centerSlot.size);

  const statusRows = new StatusArena(poolCount);
  const placements: Placement[] = [];
  const waiting: { jobId: string; explanation: Explanation }[] = [];
  const jobs = orderJobs(snapshot.jobs);

  for (let j = 0; j < jobs.length; j++) {
    const job = jobs[j]!;
    const key = programKey(job.program);
    const at = statusRows.advance();
    const status = statusRows.block;
    const seconds = job.walltimeSeconds;
    let feasible = 0;

    for (let p = 0; p < poolCount; p++) {
      const { center, pool } = refs[p]!;
      const c = centerOf[p]!;
      if (commandJob[c] !== j) {
        commandJob[c] = j;
        commandOk[c] = center.commands === null || key === null || center.commands.has(key) ? 1 : 0;
      }
      const reason = staticReason(job, center, pool, commandOk[c] === 1) ?? (online[p] ? null : 'center-offline');
      if (reason !== null) {
        status[at + p] = REASON_STATUS[reason];
        continue;
      }
      const fit = capacity[p]!.fitCount(job.nodes, job.perNode);
      if (fit < job.nodes) {
        status[at + p] = fit;
        continue;
      }
      status[at + p] = FEASIBLE;
      const energy = energyKwh(jobWatts(job, acceleratorWatts[p]!), seconds, center.energy.pue);
      optPool[feasible] = p;
      optCost[feasible] = costOf(hourlyFen(job, pool), seconds);
      // Seconds to finish: every option starts now until reservations and a runtime model arrive.
      optSeconds[feasible] = seconds;
      optEnergy[feasible] = energy;
      optCarbon[feasible] = energy * carbonNow[p]!;
      feasible++;
    }

    if (feasible === 0) {
      waiting.push({ jobId: job.id, explanation: explanationOf(job, refs, status, at, null, NO_OPTIONS, 0, now) });
      continue;
    }

    // Score every option and keep the best `keep`, ordered by score then network order.
    const range = job.objective === 'balanced' ? rangeOf(feasible, optCost, optSeconds, optCarbon) : NO_RANGE;
    let kept = 0;
    for (let o = 0; o < feasible; o++) {
      const score = scoreUnder(job.objective, optCost[o]!, optSeconds[o]!, optCarbon[o]!, range);
      // Options arrive in network order, so an equal score never displaces an earlier option.
      let rank = kept;
      while (rank > 0 && score < topScore[rank - 1]!) rank--;
      if (rank >= keep) continue;
      for (let k = Math.min(kept, keep - 1); k > rank; k--) {
        topOpt[k] = topOpt[k - 1]!;
        topScore[k] = topScore[k - 1]!;
      }
      topOpt[rank] = o;
      topScore[rank] = score;
      if (kept < keep) kept++;
    }

    const options: PlacementOption[] = [];
    for (let k = 0; k < kept; k++) {
      const o = topOpt[k]!;
      const { center, pool } = refs[optPool[o]!]!;
      const e: Estimate = {
        startAt: now,
        runSeconds: optSeconds[o]!,
        costFen: optCost[o]! as Fen,
        energyKwh: optEnergy[o]!,
        carbonKg: optCarbon[o]!,
      };
      options.push(toOption(center, pool, e, topScore[k]!));
    }
    const chosen = options[0]!;
    const alternatives = options.slice(1);
    const chosenPool = optPool[topOpt[0]!]!;
    const nodeIndices = capacity[chosenPool]!.take(job.nodes, job.perNode);
    placements.push({
      jobId: job.id,
      centerId: chosen.centerId,
      poolId: chosen.poolId,
      nodeIndices,
      option: chosen,
      explanation: explanationOf(job, refs, status, at, chosen, alternatives, feasible, now),
    });
  }
  return { placements, waiting };
}

const NO_OPTIONS: readonly PlacementOption[] = Object.freeze([]);
const NO_RANGE: FigureRange = { bestCost: 0, worstCost: 0, bestSeconds: 0, worstSeconds: 0, bestCarbon: 0, worstCarbon: 0 };

/** The infeasible entries recorded in `status[at … at + refs.length)`, in network order, sentences included. */
function infeasibleOf(job: PendingJob, refs: readonly PoolRef[], status: Int32Array, at: number): Infeasible[] {
  const out: Infeasible[] = [];
  for (let p = 0; p < refs.length; p++) {
    const s = status[at + p]!;
    if (s === FEASIBLE) continue;
    const { center, pool } = refs[p]!;
    const reason = reasonOf(s);
    out.push({
      centerId: center.id,
      centerName: center.name,
      poolId: pool.id,
      poolName: pool.name,
      reason,
      detail: infeasibleDetail(reason, job, center, pool, s),
    });
  }
  return out;
}

/**
 * The explanation of one job's decision. Its infeasible list and summary are built on first read
 * and kept; they are own enumerable getters, so JSON, spreading and deep equality see plain values.
 */
function explanationOf(
  job: PendingJob,
  refs: readonly PoolRef[],
  status: Int32Array,
  at: number,
  chosen: PlacementOption | null,
  alternatives: readonly PlacementOption[],
  feasibleCount: number,
  now: number,
): Explanation {
  let infeasible: readonly Infeasible[] | undefined;
  let summary: string | undefined;
  return {
    objective: job.objective,
    chosen,
    alternatives,
    get infeasible() {
      return (infeasible ??= infeasibleOf(job, refs, status, at));
    },
    get summary() {
      return (summary ??=
        chosen === null
          ? waitingSummary(this.infeasible)
          : placedSummary(job.objective, chosen, alternatives, feasibleCount, refs.length - feasibleCount, now));
    },
  };
}

/**
 * Status rows for many jobs, carved from large shared blocks: one typed array per job would
 * make the allocator and the collector the slowest part of a pass over a long backlog.
 */
class StatusArena {
  readonly #row: number;
  readonly #blockRows: number;
  #block: Int32Array;
  #used = 0;
  constructor(rowLength: number) {
    this.#row = rowLength;
    this.#blockRows = Math.max(1, Math.floor(65_536 / Math.max(1, rowLength)));
    this.#block = new Int32Array(this.#blockRows * rowLength);
  }
  /** Moves to a fresh row and returns its offset in `block` (which may now be a new block). */
  advance(): number {
    if (this.#used === this.#blockRows) {
      this.#block = new Int32Array(this.#blockRows * this.#row);
      this.#used = 0;
    }
    return this.#used++ * this.#row;
  }
  /** The block holding the current row. */
  get block(): Int32Array {
    return this.#block;
  }
}
