import { fen } from '../core/money.js';
import { FEWER_THAN_NEEDED } from './capacity.js';
import { programKey } from './commands.js';
import { carbonOf, computeCost, costOf, energyKwh, estimate, jobWatts, runStartOf } from './estimate.js';
import {
  deferredSummary,
  infeasibleDetail,
  placedSummary,
  reservedSummary,
  waitingSummaryOf,
  type DetailFacts,
  type ListedInfeasible,
} from './explain.js';
import { FairQueue, networkCapacity } from './fairshare.js';
import { limitFacts } from './feasibility.js';
import { Network } from './network.js';
import { PoolState, WOULD_DELAY_RESERVATION, type PoolReservation, type PoolStorage } from './pool-state.js';
import { referenceOf, runSeconds, speedRatio } from './runtime.js';
import { relativeTo, weightsOf } from './score.js';
import {
  DEFAULT_POLICY,
  INFEASIBLE_REASONS,
  START_KINDS,
  type Explanation,
  type Infeasible,
  type InfeasibleReason,
  type PendingJob,
  type Placement,
  type PlacementOption,
  type Policy,
  type Reservation,
  type RunningJob,
  type ScheduleResult,
  type Snapshot,
  type Wait,
} from './types.js';

/*
 * What a pass learns about one job on one pool, one integer per pool so that the explanation's
 * infeasible list (most of a 100,000-job backlog is infeasible almost everywhere) is only turned
 * into objects and sentences when someone reads it:
 *   n >= 0                     insufficient-capacity, n nodes had room
 *   FEWER_THAN_NEEDED (-1)     insufficient-capacity, settled without counting
 *   FEASIBLE (-2)              an option to start now
 *   WOULD_DELAY_RESERVATION    insufficient-capacity: room now, but only by delaying a reservation (-3)
 *   REASON_BASE - i            INFEASIBLE_REASONS[i]
 */
const FEASIBLE = -2;
/** Status rows are 16-bit: a count of nodes with room is capped here (a gang is never near this). */
const MAX_STATUS = 32_767;
const REASON_BASE = -10;
const REASON_STATUS = Object.fromEntries(INFEASIBLE_REASONS.map((r, i) => [r, REASON_BASE - i])) as Record<InfeasibleReason, number>;
const RESIDENCY = REASON_STATUS['residency-forbids'];
const NO_ACCELERATOR = REASON_STATUS['no-accelerator'];
const FORBIDDEN = REASON_STATUS['forbidden-accelerator'];
const NOT_ADAPTED = REASON_STATUS['no-adapted-accelerator'];
const NO_COMMAND = REASON_STATUS['command-not-found'];
const TOO_SMALL = REASON_STATUS['node-too-small'];
const GANG = REASON_STATUS['gang-does-not-fit'];
const NO_DATA = REASON_STATUS['data-unreachable'];
const TOO_LONG = REASON_STATUS['exceeds-walltime'];
const OVER_BUDGET = REASON_STATUS['over-budget'];
const LATE = REASON_STATUS['misses-deadline'];
const OFFLINE = REASON_STATUS['center-offline'];
const CHIP_OK = 0;

function reasonOf(status: number): InfeasibleReason {
  return status <= REASON_BASE ? INFEASIBLE_REASONS[REASON_BASE - status]! : 'insufficient-capacity';
}

const NOW = 0;
const RESERVED = 1;
const DEFERRED = 2;

const BY_COST = 0;
const BY_TIME = 1;
const BY_CARBON = 2;
const WEIGHTED = 3;

const HOUR_MS = 3_600_000;

/**
 * One scheduling pass over `snapshot` (`policy` fills in from `DEFAULT_POLICY`).
 *
 * Jobs come in weighted-DRF order across orgs, priority and age within one (`FairQueue`). Each is
 * checked against every pool (static reasons, its limits, center state, free capacity) and scored
 * under its objective. It then starts now on its best pool; or waits for a better plan when one
 * saves at least `minSavingToWait` within `lookAheadHours` (a cheaper or greener hour, or a
 * reservation on a better pool); or, when it can start nowhere now, takes a reservation at the
 * earliest time its gang fits on its best pool (EASY: the first `maxReservations` such jobs, one per
 * pool); or waits with its reasons. Jobs placed after a reservation never delay it (`PoolState`).
 * Capacity taken by one job is gone for the jobs after it; no node is ever given more than it has.
 * Pure and deterministic: the same snapshot, in any order of its lists, gives the same result.
 * `network`, when given, must be a `Network` of this snapshot's centers, links and datasets (a
 * simulator builds it once per run instead of once per pass).
 */
export function schedule(snapshot: Snapshot, policy: Partial<Policy> = DEFAULT_POLICY, network?: Network): ScheduleResult {
  const now = snapshot.now;
  const pol: Policy = isComplete(policy) ? policy : { ...DEFAULT_POLICY, ...policy };
  const net = network ?? new Network(snapshot);
  const refs = net.refs;
  const poolCount = refs.length;
  const lookAheadMs = pol.lookAheadHours > 0 ? pol.lookAheadHours * HOUR_MS : 0;
  const minSaving = pol.minSavingToWait >= 0 ? Math.min(1, pol.minSavingToWait) : 0;
  const delayPerSaving = pol.delayPerSaving >= 0 ? pol.delayPerSaving : 0;
  let reservationsLeft = pol.maxReservations > 0 ? Math.floor(pol.maxReservations) : 0;
  // `maxAlternatives` may be Infinity ("all"); NaN counts as none.
  const maxAlternatives = Math.min(poolCount, Math.max(0, Math.floor(pol.maxAlternatives) || 0));

  // Per pool, what does not change during the pass. The running jobs are sorted out by pool only
  // when a pool first needs its releases (a reservation, an hour's room): a pass that only starts
  // jobs on free nodes never walks them.
  let releases: RunningJob[][] | null = null;
  const byPool = (): RunningJob[][] => {
    const lists: RunningJob[][] = refs.map(() => []);
    let lastPoolId: string | null = null; // running jobs often come pool by pool
    let lastPool: number | undefined;
    for (const r of snapshot.running) {
      if (r.poolId !== lastPoolId) {
        lastPoolId = r.poolId;
        lastPool = net.rankOfPool.get(r.poolId);
      }
      if (lastPool !== undefined) lists[lastPool]!.push(r);
    }
    return lists;
  };
  const scratch = scratchOf(net);
  const states = refs.map((r, p) => new PoolState(r.pool, () => (releases ??= byPool())[p]!, now, scratch.trees[p]));
  const frees = states.map((st) => st.free);
  /** Per pool, its reservation once the pass made one (the hot loop's copy of `PoolState.reservation`; explanations read it too). */
  const reservationOn: (PoolReservation | null)[] = refs.map(() => null);
  const { regionOf, chipOf, centerOf, online, acceleratorWatts, grid, prices, capAcc, capCores, capMem, nodeCount, fenAcc, fenCore, pue, chipIndex } = net;
  const chips = net.chips;
  const regionCount = net.regions.length;
  // Speed ratios to every chip, by reference chip, one table per speed metric (they depend on the network's chips only).
  const ratios = scratch.ratios;
  const ratiosFor = (reference: string, metric: PendingJob['speedMetric']): Float64Array => {
    const byReference = ratios[metric] ?? ratios.fp16;
    let r = byReference.get(reference);
    if (r === undefined) {
      r = new Float64Array(chips.map((k) => speedRatio(reference, k, metric)));
      byReference.set(reference, r);
    }
    return r;
  };

  // Scratch reused by every job. Per chip: status, run seconds, efficiency; per region: residency,
  // stage-in, egress; per option (a start now on each pool, plus at most one plan per pool).
  const { chipStatus, chipRun, chipEff, regionOk, stageSec, egressFen, commandOk } = scratch;
  const stageJob = scratch.stageJob.fill(-1);
  const commandJob = scratch.commandJob.fill(-1);
  const inputTables: { seconds: Float64Array; fen: Float64Array }[] = [];
  const { optPool, optKind, optStart, optRun, optCompletion, optCompute, optEnergy, optCarbon, optScore, optNodes, fullPools, deferOnly } = scratch;
  const poolSeen = scratch.poolSeen.fill(-1);
  const promised: (Map<number, number> | undefined)[] = new Array<Map<number, number> | undefined>(poolCount);
  const unitsOf = (p: number): number => (usesChip ? capAcc[p]! : capCores[p]!) * nodeCount[p]!;
  const jobUnits = (): number => job.nodes * (usesChip ? job.perNode.accelerators : job.perNode.cores);
  const fitsPromise = (p: number, runStart: number, runSeconds: number): boolean => {
    const room = unitsOf(p) - jobUnits();
    for (let h = hourOf(runStart), last = lastHourOf(runStart, runSeconds); h <= last; h += HOUR_MS) {
      if (states[p]!.heldAt(Math.max(h, runStart), !usesChip) + (promised[p]?.get(h) ?? 0) > room) return false;
    }
    return true;
  };
  const promise = (p: number, runStart: number, runSeconds: number): void => {
    const need = jobUnits();
    const hours = (promised[p] ??= new Map<number, number>());
    for (let h = hourOf(runStart), last = lastHourOf(runStart, runSeconds); h <= last; h += HOUR_MS) hours.set(h, (hours.get(h) ?? 0) + need);
  };

  // The job being decided, and its scoring yardstick.
  let job!: PendingJob;
  let jobIndex = -1;
  let usesChip = false;
  let hasInputs = false;
  let cpuRun = 0;
  let mode = BY_COST;
  let wCost = 0;
  let wTime = 0;
  let wCarbon = 0;
  let bestCost = 0;
  let worstCost = 0;
  let bestSeconds = 0;
  let worstSeconds = 0;
  let bestCarbon = 0;
  let worstCarbon = 0;

  /** Whether the job being decided must pay for delay (`delayPerSaving`): no deadline, time not weighed. */
  let delayRule = false;
  /** Whether a plan scoring `s` and finishing at `completion` pays for its delay against a reference option. */
  const paysForDelay = (s: number, completion: number, refScore: number, refCompletion: number): boolean => {
    if (!delayRule || completion <= refCompletion) return true;
    const saving = refScore > 0 ? (refScore - s) / refScore : 0;
    return (completion - refCompletion) / Math.max(1, refCompletion - now) <= saving * delayPerSaving;
  };
  const runOn = (p: number): number => (chipOf[p]! < 0 ? cpuRun : chipRun[chipOf[p]!]!);
  /** Stage-in seconds and egress fen into region `r`, summed the first time the job needs them there. */
  const stageInto = (r: number): void => {
    let seconds = 0;
    let fen = 0;
    for (let i = 0; i < inputTables.length; i++) {
      seconds += inputTables[i]!.seconds[r]!;
      fen += inputTables[i]!.fen[r]!;
    }
    stageSec[r] = seconds;
    egressFen[r] = Math.round(fen);
    stageJob[r] = jobIndex;
  };
  const stageOn = (p: number): number => {
    if (!hasInputs) return 0;
    const r = regionOf[p]!;
    if (stageJob[r] !== jobIndex) stageInto(r);
    return stageSec[r]!;
  };
  const egressOn = (p: number): number => {
    if (!hasInputs) return 0;
    const r = regionOf[p]!;
    if (stageJob[r] !== jobIndex) stageInto(r);
    return egressFen[r]!;
  };
  const rateOn = (p: number): number => job.nodes * (job.perNode.accelerators * fenAcc[p]! + job.perNode.cores * fenCore[p]!);
  const holdUntilOn = (p: number): number => now + (stageOn(p) + job.walltimeSeconds) * 1000;
  const score = (cost: number, seconds: number, carbon: number): number => {
    switch (mode) {
      case BY_COST:
        return cost;
      case BY_TIME:
        return seconds;
      case BY_CARBON:
        return carbon;
      default: {
        let s = 0;
        if (wCost > 0) s += wCost * relativeTo(cost, bestCost, worstCost);
        if (wTime > 0) s += wTime * relativeTo(seconds, bestSeconds, worstSeconds);
        if (wCarbon > 0) s += wCarbon * relativeTo(carbon, bestCarbon, worstCarbon);
        return s;
      }
    }
  };
  const widenRange = (cost: number, seconds: number, carbon: number): void => {
    bestCost = Math.min(bestCost, cost);
    worstCost = Math.max(worstCost, cost);
    bestSeconds = Math.min(bestSeconds, seconds);
    worstSeconds = Math.max(worstSeconds, seconds);
    bestCarbon = Math.min(bestCarbon, carbon);
    worstCarbon = Math.max(worstCarbon, carbon);
  };
  const resetRange = (): void => {
    bestCost = bestSeconds = bestCarbon = Infinity;
    worstCost = worstSeconds = worstCarbon = -Infinity;
  };
  /** The figures of a start now on `p` (ignoring its load), for the yardstick of a job with no start now. */
  const widenWithNow = (p: number): void => {
    const run = runOn(p);
    const runStart = now + stageOn(p) * 1000;
    const watts = jobWatts(job, acceleratorWatts[p]!);
    widenRange(
      computeCost(rateOn(p), prices[p]!, runStart, run) + egressOn(p),
      stageOn(p) + run,
      carbonOf(watts, pue[p]!, grid[p]!, runStart, run),
    );
  };
  /** A score no plan on `p` can beat: cheapest hour, starting now, cleanest hour. */
  const lowerBound = (p: number): number => {
    const run = runOn(p);
    const watts = jobWatts(job, acceleratorWatts[p]!);
    const price = prices[p]!;
    const compute = price === null ? costOf(rateOn(p), run) : costOf(rateOn(p) * price.min, run);
    return score(compute + egressOn(p), stageOn(p) + run, energyKwh(watts, run, pue[p]!) * grid[p]!.min);
  };

  const explain: ExplainContext = { net, reservationOn, now };
  const statusRows = new StatusArena(poolCount, snapshot.jobs.length);
  const placements: Placement[] = [];
  const reservations: Reservation[] = [];
  const waiting: { jobId: string; explanation: Explanation }[] = [];
  const queue = new FairQueue(snapshot.jobs, snapshot.running, networkCapacity(snapshot.centers), snapshot.orgWeights, pol);

  for (let j = 0; ; j++) {
    const next = queue.next();
    if (next === undefined) break;
    job = next;
    jobIndex = j;
    const at = statusRows.advance();
    const status = statusRows.block;
    const want = job.perNode;
    const nodes = job.nodes;
    const walltime = job.walltimeSeconds;
    const budget = job.budgetFen;
    const deadline = job.deadline;
    const allowed = job.allowedAccelerators;
    const forbidden = job.forbiddenAccelerators;
    let key: string | null | undefined; // the program's name in command lists, looked up when a center has one

    // What depends on the job and a chip or a region, once per chip and region instead of per pool.
    usesChip = want.accelerators > 0;
    cpuRun = runSeconds(job, 1, 1);
    const ratio = usesChip && job.runtimeSeconds !== null ? ratiosFor(referenceOf(job), job.speedMetric) : null;
    const matrix = usesChip ? job.adaptation : null;
    if (matrix === null) {
      // Every chip at efficiency 1 (a raw command, or a CPU job that leaves the chip idle).
      for (let k = 0; k < chips.length; k++) {
        chipStatus[k] = CHIP_OK;
        chipEff[k] = 1;
        chipRun[k] = usesChip ? runSeconds(job, ratio === null ? 1 : ratio[k]!, 1) : cpuRun;
      }
    } else {
      // Only the chips the app lists: a matrix names a few of the network's chips.
      for (let k = 0; k < chips.length; k++) chipStatus[k] = NOT_ADAPTED;
      for (const chip in matrix) {
        // `efficiencyOn`, inline: `matrix[chip]` inside its own for-in is a fast load.
        const eff = matrix[chip];
        if (typeof eff !== 'number' || !(eff > 0) || eff === Infinity) continue;
        const k = chipIndex.get(chip);
        if (k === undefined || !Object.hasOwn(matrix, chip)) continue;
        chipStatus[k] = CHIP_OK;
        chipEff[k] = eff;
        chipRun[k] = runSeconds(job, ratio === null ? 1 : ratio[k]!, eff);
      }
    }
    if (forbidden.length > 0 || allowed.length > 0) {
      for (let k = 0; k < chips.length; k++) {
        if (forbidden.length > 0 && forbidden.includes(chips[k]!)) chipStatus[k] = FORBIDDEN;
        else if (allowed.length > 0 && !allowed.includes(chips[k]!)) chipStatus[k] = NOT_ADAPTED;
      }
    }
    const anyRegion = job.allowedRegions.length === 0;
    if (!anyRegion) for (let r = 0; r < regionCount; r++) regionOk[r] = job.allowedRegions.includes(net.regions[r]!) ? 1 : 0;
    hasInputs = job.inputs.length > 0;
    if (hasInputs) net.routes.tablesOf(job.inputs, inputTables);

    let nNow = 0;
    let nFull = 0;
    let nDeferOnly = 0;
    let permanent = 0;
    // Locals for what the loop reads of the job: calls inside it keep the engine from hoisting
    // closure variables and object fields out by itself.
    const wantAcc = want.accelerators;
    const wantCores = want.cores;
    const wantMem = want.memoryMiB;
    const chipJob = usesChip;
    const inputsJob = hasInputs;
    const cpuRunJob = cpuRun;
    const anyAllowed = allowed.length > 0;
    for (let p = 0; p < poolCount; p++) {
      let s: number;
      const k = chipOf[p]!;
      const c = centerOf[p]!;
      if (!anyRegion && regionOk[regionOf[p]!] === 0) s = RESIDENCY;
      else if (k < 0 && chipJob) s = NO_ACCELERATOR;
      else if (k < 0 && anyAllowed) s = NOT_ADAPTED;
      else if (k >= 0 && chipStatus[k] !== CHIP_OK) s = chipStatus[k]!;
      else {
        if (commandJob[c] !== j) {
          commandJob[c] = j;
          const commands = net.centers[c]!.commands;
          if (commands !== null && key === undefined) key = programKey(job.program);
          commandOk[c] = commands === null || key === null || commands.has(key!) ? 1 : 0;
        }
        if (commandOk[c] === 0) s = NO_COMMAND;
        else if (wantAcc > capAcc[p]! || wantCores > capCores[p]! || wantMem > capMem[p]!) s = TOO_SMALL;
        else if (nodes > nodeCount[p]!) s = GANG;
        else s = FEASIBLE;
      }
      if (s !== FEASIBLE) {
        status[at + p] = s;
        permanent++;
        continue;
      }

      // The job's limits against a start now. Inline, not through `stageOn` and `runOn`: this runs
      // for most (job, pool) pairs, and a double returned from a call is a heap allocation.
      let stage = 0;
      if (inputsJob) {
        const r = regionOf[p]!;
        if (stageJob[r] !== j) stageInto(r);
        stage = stageSec[r]!;
      }
      const run = k < 0 ? cpuRunJob : chipRun[k]!;
      let overBudgetNow = false;
      let compute = -1;
      if (stage === Infinity) s = NO_DATA;
      else if (run > walltime) s = TOO_LONG;
      else if (budget !== null) {
        const runStart = now + stage * 1000;
        compute = computeCost(rateOn(p), prices[p]!, runStart, run);
        if (compute + egressOn(p) > budget) {
          const price = prices[p]!;
          const cheapest = price === null ? Infinity : costOf(rateOn(p) * price.min, run) + egressOn(p);
          if (cheapest > budget) s = OVER_BUDGET;
          else overBudgetNow = true;
        }
      }
      if (s === FEASIBLE && deadline !== null && now + stage * 1000 + run * 1000 > deadline) s = LATE;
      if (s !== FEASIBLE) {
        status[at + p] = s;
        permanent++;
        continue;
      }
      if (online[p] === 0) {
        status[at + p] = OFFLINE;
        continue;
      }
      if (overBudgetNow) {
        // Within budget only at a cheaper hour: a pool to wait for, if the job fits it now.
        status[at + p] = OVER_BUDGET;
        permanent++;
        if (lookAheadMs > 0 && frees[p]!.fitCount(nodes, want) === nodes) deferOnly[nDeferOnly++] = p;
        continue;
      }
      const unreserved = reservationOn[p] === null;
      const fit = unreserved ? frees[p]!.fitCount(nodes, want) : states[p]!.fitCount(nodes, want, now + (stage + walltime) * 1000);
      if (fit < nodes) {
        status[at + p] = fit > MAX_STATUS ? MAX_STATUS : fit;
        if (unreserved) fullPools[nFull++] = p;
        continue;
      }
      status[at + p] = FEASIBLE;
      const runStart = now + stage * 1000;
      if (compute < 0) compute = computeCost(rateOn(p), prices[p]!, runStart, run);
      const watts = jobWatts(job, acceleratorWatts[p]!);
      const o = nNow++;
      optPool[o] = p;
      optKind[o] = NOW;
      optStart[o] = now;
      optRun[o] = run;
      optCompletion[o] = runStart + run * 1000;
      optCompute[o] = compute;
      optEnergy[o] = energyKwh(watts, run, pue[p]!);
      optCarbon[o] = carbonOf(watts, pue[p]!, grid[p]!, runStart, run);
      optNodes[o] = null;
    }

    const mayReserve = reservationsLeft > 0 && nFull > 0 && (nNow === 0 || lookAheadMs > 0);
    if (nNow === 0 && nDeferOnly === 0 && !mayReserve) {
      // Nothing to start now or to plan: the common case for a long backlog, kept cheap.
      const wait = permanent === poolCount && poolCount > 0 ? NEVER : FOR_CAPACITY;
      waiting.push({ jobId: job.id, explanation: explanationOf(job, explain, status, at, null, NO_OPTIONS, 0, wait) });
      continue;
    }

    // Score the starts now, against the best and worst of each figure among them.
    const objective = job.objective;
    const weights = weightsOf(objective);
    mode = objective === 'cheapest' ? BY_COST : objective === 'fastest' ? BY_TIME : objective === 'greenest' ? BY_CARBON : WEIGHTED;
    wCost = weights?.cost ?? 0;
    wTime = weights?.time ?? 0;
    wCarbon = weights?.carbon ?? 0;
    resetRange();
    if (mode === WEIGHTED) {
      if (nNow > 0) {
        for (let o = 0; o < nNow; o++) widenRange(optCompute[o]! + egressOn(optPool[o]!), (optCompletion[o]! - now) / 1000, optCarbon[o]!);
      } else {
        for (let i = 0; i < nFull; i++) widenWithNow(fullPools[i]!);
        for (let i = 0; i < nDeferOnly; i++) widenWithNow(deferOnly[i]!);
      }
    }
    let bestNow = -1;
    for (let o = 0; o < nNow; o++) {
      optScore[o] = score(optCompute[o]! + egressOn(optPool[o]!), (optCompletion[o]! - now) / 1000, optCarbon[o]!);
      if (bestNow < 0 || optScore[o]! < optScore[bestNow]!) bestNow = o;
    }
    // A job that could start now waits only for a plan that beats this.
    const threshold = bestNow < 0 ? Infinity : optScore[bestNow]! - minSaving * Math.abs(optScore[bestNow]!);
    // Without a deadline, and when the objective does not weigh time, a plan must also pay for the
    // delay it adds (`delayPerSaving`), measured against the start now or, lacking one, the soonest plan.
    delayRule = deadline === null && (mode === BY_COST || mode === BY_CARBON || (mode === WEIGHTED && wTime === 0));
    let nOpt = nNow;
    let bestPlan = -1;
    const addPlan = (p: number, kind: number, startAt: number, run: number, compute: number, carbon: number, s: number, taken: readonly number[] | null) => {
      const o = nOpt++;
      optPool[o] = p;
      optKind[o] = kind;
      optStart[o] = startAt;
      optRun[o] = run;
      optCompletion[o] = runStartOf(now, startAt, stageOn(p)) + run * 1000;
      optCompute[o] = compute;
      optEnergy[o] = energyKwh(jobWatts(job, acceleratorWatts[p]!), run, pue[p]!);
      optCarbon[o] = carbon;
      optScore[o] = s;
      optNodes[o] = taken;
      if (bestPlan < 0 || s < optScore[bestPlan]!) bestPlan = o;
    };

    // Time shifting: a later hour on a pool that could take the job now, when its price or its
    // grid varies by hour and the objective counts that figure.
    if (lookAheadMs > 0) {
      const weighsCost = mode === BY_COST || (mode === WEIGHTED && wCost > 0);
      const weighsCarbon = mode === BY_CARBON || (mode === WEIGHTED && wCarbon > 0);
      for (let i = 0; i < nNow + nDeferOnly; i++) {
        const p = i < nNow ? optPool[i]! : deferOnly[i - nNow]!;
        const price = prices[p]!;
        // A pool within budget only at a cheaper hour is worth a look under any objective.
        const varies = (weighsCost || i >= nNow) && price !== null && !price.flat ? true : weighsCarbon && !grid[p]!.flat;
        if (!varies || lowerBound(p) >= threshold) continue;
        const run = runOn(p);
        const stage = stageOn(p);
        const egress = egressOn(p);
        const watts = jobWatts(job, acceleratorWatts[p]!);
        let best = Infinity;
        let bestAt = 0;
        let bestCompute = 0;
        let bestCarbonKg = 0;
        for (let t = grid[p]!.nextHourAfter(now); t <= now + lookAheadMs; t += HOUR_MS) {
          const runStart = runStartOf(now, t, stage);
          if (deadline !== null && runStart + run * 1000 > deadline) break;
          if (!fitsPromise(p, runStart, run)) continue;
          const compute = computeCost(rateOn(p), price, runStart, run);
          if (budget !== null && compute + egress > budget) continue;
          const carbon = carbonOf(watts, pue[p]!, grid[p]!, runStart, run);
          const s = score(compute + egress, (runStart + run * 1000 - now) / 1000, carbon);
          if (bestNow >= 0 && !paysForDelay(s, runStart + run * 1000, optScore[bestNow]!, optCompletion[bestNow]!)) continue;
          if (s < best) {
            best = s;
            bestAt = t;
            bestCompute = compute;
            bestCarbonKg = carbon;
          }
        }
        if (best < threshold) addPlan(p, DEFERRED, bestAt, run, bestCompute, bestCarbonKg, best, null);
      }
    }

    // Reservations: for a job that cannot start now, on any pool its gang will fit when running
    // jobs end; for one that can, only where waiting pays off within the look-ahead.
    if (mayReserve) {
      for (let i = 0; i < nFull; i++) {
        const p = fullPools[i]!;
        if (nNow > 0 && lowerBound(p) >= threshold) continue;
        const fit = states[p]!.earliestFit(nodes, want);
        if (fit === null || (nNow > 0 && fit.startAt > now + lookAheadMs)) continue;
        const run = runOn(p);
        const runStart = runStartOf(now, fit.startAt, stageOn(p));
        if (deadline !== null && runStart + run * 1000 > deadline) continue;
        const compute = computeCost(rateOn(p), prices[p]!, runStart, run);
        if (budget !== null && compute + egressOn(p) > budget) continue;
        const carbon = carbonOf(jobWatts(job, acceleratorWatts[p]!), pue[p]!, grid[p]!, runStart, run);
        const s = score(compute + egressOn(p), (runStart + run * 1000 - now) / 1000, carbon);
        if (bestNow >= 0 && !paysForDelay(s, runStart + run * 1000, optScore[bestNow]!, optCompletion[bestNow]!)) continue;
        if (s < threshold) addPlan(p, RESERVED, fit.startAt, run, compute, carbon, s, fit.nodeIndices);
      }
    }

    if (bestNow < 0 && nOpt > 1) {
      // Nothing starts now: the plan that finishes soonest is the yardstick, and a later one wins
      // only as a plan would against a start now (saving enough, starting within the look-ahead).
      let soonest = 0;
      for (let o = 1; o < nOpt; o++) if (optCompletion[o]! < optCompletion[soonest]!) soonest = o;
      const bar = optScore[soonest]! - minSaving * Math.abs(optScore[soonest]!);
      bestPlan = soonest;
      for (let o = 0; o < nOpt; o++) {
        if (
          optScore[o]! < optScore[bestPlan]! &&
          optScore[o]! < bar &&
          optStart[o]! <= optStart[soonest]! + lookAheadMs &&
          paysForDelay(optScore[o]!, optCompletion[o]!, optScore[soonest]!, optCompletion[soonest]!)
        )
          bestPlan = o;
      }
    }
    const chosen = bestPlan >= 0 ? bestPlan : bestNow;
    if (chosen < 0) {
      const wait = permanent === poolCount ? NEVER : FOR_CAPACITY;
      waiting.push({ jobId: job.id, explanation: explanationOf(job, explain, status, at, null, NO_OPTIONS, 0, wait) });
      continue;
    }

    // The chosen option and the best few others, at most one per pool, best first (ties in
    // network order, a start now before a plan).
    const shown = [optPool[chosen]!];
    const alternatives: PlacementOption[] = [];
    const order =
      maxAlternatives === 0 || nOpt < 2
        ? NO_POOLS
        : Array.from({ length: nOpt }, (_, o) => o).sort((x, y) => optScore[x]! - optScore[y]! || optPool[x]! - optPool[y]! || optKind[x]! - optKind[y]!);
    for (const o of order) {
      if (alternatives.length >= maxAlternatives) break;
      if (shown.includes(optPool[o]!)) continue;
      shown.push(optPool[o]!);
      alternatives.push(optionOf(o));
    }
    let feasiblePools = 0; // distinct pools among the options (a pool has at most a start now and one plan)
    for (let o = 0; o < nOpt; o++) {
      if (poolSeen[optPool[o]!] === j) continue;
      poolSeen[optPool[o]!] = j;
      feasiblePools++;
    }
    const option = optionOf(chosen);
    const p = optPool[chosen]!;
    const { center, pool } = refs[p]!;
    if (optKind[chosen] === NOW) {
      const nodeIndices = states[p]!.take(nodes, want, holdUntilOn(p));
      queue.charge(job);
      placements.push({
        jobId: job.id,
        centerId: center.id,
        poolId: pool.id,
        nodeIndices,
        option,
        explanation: explanationOf(job, explain, status, at, option, alternatives, feasiblePools, null, shown),
      });
      continue;
    }
    const firstNow = bestNow >= 0 ? optionOf(bestNow) : null;
    let wait: Wait;
    if (optKind[chosen] === RESERVED) {
      const nodeIndices = optNodes[chosen]!;
      const reservation = { jobId: job.id, startAt: option.startAt, nodeIndices, perNode: want };
      states[p]!.reserve(reservation);
      reservationOn[p] = reservation;
      reservationsLeft--;
      reservations.push({ jobId: job.id, centerId: center.id, poolId: pool.id, startAt: option.startAt, nodeIndices, option });
      wait = { kind: 'capacity', reservedAt: option.startAt };
    } else {
      wait = { kind: 'better-hour', until: option.startAt };
      promise(p, runStartOf(now, option.startAt, stageOn(p)), optRun[chosen]!);
    }
    waiting.push({
      jobId: job.id,
      explanation: explanationOf(job, explain, status, at, option, alternatives, feasiblePools, wait, shown, firstNow),
    });
  }
  return { placements, reservations, waiting };

  /** Option `o` of the job being decided, as the result shows it. */
  function optionOf(o: number): PlacementOption {
    const p = optPool[o]!;
    const { center, pool } = refs[p]!;
    const compute = optCompute[o]!;
    const egress = egressOn(p);
    const k = chipOf[p]!;
    return {
      centerId: center.id,
      centerName: center.name,
      poolId: pool.id,
      poolName: pool.name,
      accelerator: pool.accelerator,
      start: START_KINDS[optKind[o]!]!,
      startAt: optStart[o]!,
      stageInSeconds: stageOn(p),
      runSeconds: optRun[o]!,
      completionAt: optCompletion[o]!,
      efficiency: usesChip && k >= 0 ? chipEff[k]! : null,
      computeFen: fen(compute),
      egressFen: fen(egress),
      costFen: fen(compute + egress),
      energyKwh: optEnergy[o]!,
      carbonKg: optCarbon[o]!,
      score: optScore[o]!,
    };
  }
}

const NO_OPTIONS: readonly PlacementOption[] = Object.freeze([]);

/** The start of the hour `t` falls in. */
function hourOf(t: number): number {
  return Math.floor(t / HOUR_MS) * HOUR_MS;
}

/** The start of the last hour a run from `runStart` for `runSeconds` spans (its first when it takes no time). */
function lastHourOf(runStart: number, runSeconds: number): number {
  return Math.max(hourOf(runStart), Math.ceil((runStart + runSeconds * 1000) / HOUR_MS) * HOUR_MS - HOUR_MS);
}

const KNOBS = Object.keys(DEFAULT_POLICY) as (keyof Policy)[];

/** Whether `p` sets every knob (a caller passing the same complete policy every pass spares a copy). */
function isComplete(p: Partial<Policy>): p is Policy {
  for (const k of KNOBS) if (p[k] === undefined) return false;
  return true;
}

const NEVER: Wait = Object.freeze({ kind: 'never' });
const FOR_CAPACITY: Wait = Object.freeze({ kind: 'capacity', reservedAt: null });

/** What an explanation needs from the pass to write its sentences later. */
interface ExplainContext {
  readonly net: Network;
  /** Per pool, its reservation once the pass made one (explanations outlive the pass's pool states). */
  readonly reservationOn: readonly (PoolReservation | null)[];
  readonly now: number;
}

/** The facts behind the sentence for status `s` of `job` on pool `p`. */
function factsOf(c: ExplainContext, job: PendingJob, p: number, s: number): DetailFacts | undefined {
  const { center, pool } = c.net.refs[p]!;
  if (s === WOULD_DELAY_RESERVATION) {
    const r = c.reservationOn[p]!;
    const stage = c.net.routes.stageIn(job.inputs, center.region).seconds;
    return { now: c.now, blockedBy: { jobId: r.jobId, startAt: r.startAt, holdUntil: c.now + (stage + job.walltimeSeconds) * 1000 } };
  }
  const reason = reasonOf(s);
  if (reason === 'data-unreachable' || reason === 'exceeds-walltime' || reason === 'over-budget' || reason === 'misses-deadline') {
    const e = estimate(job, center, pool, { now: c.now, routes: c.net.routes });
    return limitFacts(job, center, e, c.net.routes, c.now);
  }
  return undefined;
}

/**
 * The infeasible entries recorded in `status[at … at + pools)`, in network order, sentences
 * included, leaving out pools that have an option and those shown as options (`shown`).
 */
function infeasibleOf(c: ExplainContext, job: PendingJob, status: Int16Array, at: number, shown: readonly number[]): Infeasible[] {
  const out: Infeasible[] = [];
  const refs = c.net.refs;
  for (let p = 0; p < refs.length; p++) {
    const s = status[at + p]!;
    if (s === FEASIBLE || shown.includes(p)) continue;
    const { center, pool } = refs[p]!;
    const reason = reasonOf(s);
    out.push({
      centerId: center.id,
      centerName: center.name,
      poolId: pool.id,
      poolName: pool.name,
      reason,
      detail: infeasibleDetail(reason, job, center, pool, s >= 0 ? s : FEWER_THAN_NEEDED, factsOf(c, job, p, s)),
    });
  }
  return out;
}

/** `infeasibleOf` without the sentences, for summaries: pool ranks, reasons and names only. */
function listedOf(c: ExplainContext, status: Int16Array, at: number, shown: readonly number[]): (ListedInfeasible & { readonly p: number })[] {
  const out: (ListedInfeasible & { readonly p: number })[] = [];
  const refs = c.net.refs;
  for (let p = 0; p < refs.length; p++) {
    const s = status[at + p]!;
    if (s === FEASIBLE || shown.includes(p)) continue;
    out.push({ p, reason: reasonOf(s), centerName: refs[p]!.center.name, poolName: refs[p]!.pool.name });
  }
  return out;
}

/**
 * The explanation of one job's decision. Its infeasible list and summary are built on first read
 * and kept: getters on the class, reading what the pass left in private fields, so that an
 * explanation costs a pass over a long backlog a few plain fields per job (per-object accessors or
 * closures cost ten times as much, and the collector's attention). `toJSON` gives the plain value
 * (what the API and the database store); spreading sees only the plain fields.
 */
class LazyExplanation implements Explanation {
  readonly objective: Explanation['objective'];
  readonly chosen: PlacementOption | null;
  readonly alternatives: readonly PlacementOption[];
  readonly wait: Wait | null;
  readonly #job: PendingJob;
  readonly #c: ExplainContext;
  readonly #status: Int16Array;
  readonly #at: number;
  /** Pools shown as options (the chosen one first), left out of the infeasible list. */
  readonly #shown: readonly number[];
  readonly #feasiblePools: number;
  readonly #bestNow: PlacementOption | null;
  #infeasible: readonly Infeasible[] | undefined = undefined;
  #summary: string | undefined = undefined;

  constructor(
    job: PendingJob,
    c: ExplainContext,
    status: Int16Array,
    at: number,
    chosen: PlacementOption | null,
    alternatives: readonly PlacementOption[],
    feasiblePools: number,
    wait: Wait | null,
    shown: readonly number[],
    bestNow: PlacementOption | null,
  ) {
    this.objective = job.objective;
    this.chosen = chosen;
    this.alternatives = alternatives;
    this.wait = wait;
    this.#job = job;
    this.#c = c;
    this.#status = status;
    this.#at = at;
    this.#shown = shown;
    this.#feasiblePools = feasiblePools;
    this.#bestNow = bestNow;
  }

  get infeasible(): readonly Infeasible[] {
    return (this.#infeasible ??= infeasibleOf(this.#c, this.#job, this.#status, this.#at, this.#shown));
  }

  /** Read every pass for every waiting job (the engine compares it with the last one). */
  get summary(): string {
    return (this.#summary ??= this.#summaryNow());
  }

  toJSON(): Explanation {
    return { objective: this.objective, chosen: this.chosen, alternatives: this.alternatives, infeasible: this.infeasible, wait: this.wait, summary: this.summary };
  }

  /** The summary, from the status row: what it needs, and at most one detail sentence. */
  #summaryNow(): string {
    const job = this.#job;
    const c = this.#c;
    const status = this.#status;
    const at = this.#at;
    const chosen = this.chosen;
    const listed = listedOf(c, status, at, this.#shown);
    if (chosen === null) {
      return waitingSummaryOf(listed, ({ p }) => {
        const s = status[at + p]!;
        const { center, pool } = c.net.refs[p]!;
        return infeasibleDetail(reasonOf(s), job, center, pool, s >= 0 ? s : FEWER_THAN_NEEDED, factsOf(c, job, p, s));
      });
    }
    const pools = c.net.refs.length;
    if (this.wait === null) return placedSummary(job.objective, chosen, this.alternatives, this.#feasiblePools, pools - this.#feasiblePools, c.now);
    // Plans are told in the local time of their center (`#shown[0]` is the chosen pool).
    const offset = c.net.refs[this.#shown[0]!]!.center.energy.utcOffsetHours;
    if (chosen.start === 'reservation') return reservedSummary(job.objective, chosen, this.#bestNow, listed, c.now, offset);
    return deferredSummary(job.objective, chosen, this.#bestNow, listed, c.now, offset, job.budgetFen);
  }
}

/** The explanation of one job's decision (see `LazyExplanation`). */
function explanationOf(
  job: PendingJob,
  c: ExplainContext,
  status: Int16Array,
  at: number,
  chosen: PlacementOption | null,
  alternatives: readonly PlacementOption[],
  feasiblePools: number,
  wait: Wait | null,
  shown: readonly number[] = NO_POOLS,
  bestNow: PlacementOption | null = null,
): Explanation {
  return new LazyExplanation(job, c, status, at, chosen, alternatives, feasiblePools, wait, shown, bestNow);
}

const NO_POOLS: readonly number[] = Object.freeze([]);

/**
 * Status rows for many jobs, carved from large shared blocks: one typed array per job would
 * make the allocator and the collector the slowest part of a pass over a long backlog.
 */
class StatusArena {
  readonly #row: number;
  readonly #blockRows: number;
  #block: Int16Array;
  #used = 0;
  /** Rows of `rowLength`; `rows` is how many the pass will ask for at most (blocks are no larger). */
  constructor(rowLength: number, rows: number) {
    this.#row = rowLength;
    this.#blockRows = Math.max(1, Math.min(rows, Math.floor(65_536 / Math.max(1, rowLength))));
    this.#block = new Int16Array(this.#blockRows * rowLength);
  }
  /** Moves to a fresh row and returns its offset in `block` (which may now be a new block). */
  advance(): number {
    if (this.#used === this.#blockRows) {
      this.#block = new Int16Array(this.#blockRows * this.#row);
      this.#used = 0;
    }
    return this.#used++ * this.#row;
  }
  /** The block holding the current row. */
  get block(): Int16Array {
    return this.#block;
  }
}

/**
 * A pass's working arrays, per network: written before they are read (or reset at the start of a
 * pass), never part of a result, so a caller that hands `schedule` the same `Network` pass after
 * pass (a simulator) allocates them once. That includes the arrays the pools' capacity trees are
 * built in: nothing a pass returns may refer to its pool states (explanations keep reservations).
 */
class PassScratch {
  /** Per pool, the arrays its free and crossing capacity trees are built in. */
  readonly trees: readonly PoolStorage[];
  // per chip
  readonly chipStatus: Int32Array;
  readonly chipRun: Float64Array;
  readonly chipEff: Float64Array;
  // per region
  readonly regionOk: Uint8Array;
  readonly stageSec: Float64Array;
  readonly egressFen: Float64Array;
  readonly stageJob: Int32Array;
  // per center
  readonly commandJob: Int32Array;
  readonly commandOk: Uint8Array;
  // per option: a start now on each pool, plus at most one plan per pool
  readonly optPool: Int32Array;
  readonly optKind: Uint8Array;
  readonly optStart: Float64Array;
  readonly optRun: Float64Array;
  readonly optCompletion: Float64Array;
  readonly optCompute: Float64Array;
  readonly optEnergy: Float64Array;
  readonly optCarbon: Float64Array;
  readonly optScore: Float64Array;
  readonly optNodes: (readonly number[] | null)[];
  // per pool
  readonly fullPools: Int32Array;
  readonly deferOnly: Int32Array;
  readonly poolSeen: Int32Array;
  /** Speed ratios to every chip, by speed metric and reference chip. */
  readonly ratios = { fp16: new Map<string, Float64Array>(), fp32: new Map<string, Float64Array>() };

  constructor(net: Network) {
    const pools = net.refs.length;
    const options = 2 * pools;
    this.trees = net.refs.map(() => ({ free: { acc: [], cores: [], mem: [] }, crossing: { acc: [], cores: [], mem: [] } }));
    this.chipStatus = new Int32Array(net.chips.length);
    this.chipRun = new Float64Array(net.chips.length);
    this.chipEff = new Float64Array(net.chips.length);
    this.regionOk = new Uint8Array(net.regions.length);
    this.stageSec = new Float64Array(net.regions.length);
    this.egressFen = new Float64Array(net.regions.length);
    this.stageJob = new Int32Array(net.regions.length);
    this.commandJob = new Int32Array(net.centers.length);
    this.commandOk = new Uint8Array(net.centers.length);
    this.optPool = new Int32Array(options);
    this.optKind = new Uint8Array(options);
    this.optStart = new Float64Array(options);
    this.optRun = new Float64Array(options);
    this.optCompletion = new Float64Array(options);
    this.optCompute = new Float64Array(options);
    this.optEnergy = new Float64Array(options);
    this.optCarbon = new Float64Array(options);
    this.optScore = new Float64Array(options);
    this.optNodes = new Array<readonly number[] | null>(options).fill(null);
    this.fullPools = new Int32Array(pools);
    this.deferOnly = new Int32Array(pools);
    this.poolSeen = new Int32Array(pools);
  }
}

const SCRATCH = new WeakMap<Network, PassScratch>();

function scratchOf(net: Network): PassScratch {
  let s = SCRATCH.get(net);
  if (s === undefined) {
    s = new PassScratch(net);
    SCRATCH.set(net, s);
  }
  return s;
}
