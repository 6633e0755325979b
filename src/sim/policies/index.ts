/*
 * The policies the simulator compares (issue 4). Two families:
 *
 *   early binding  every job is bound to one center when it is submitted and waits in that center's
 *                  own queue: FCFS with EASY backfill, run by the production scheduler on a snapshot
 *                  of that center alone with every job of the queue in one org (so the scheduler's
 *                  fair share has one org and its order is priority, then age, then id: FCFS), and
 *                  no look-ahead (`lookAheadHours: 0`: no waiting for a cheaper hour or a better
 *                  pool; the first job that cannot start takes the pool's reservation, the rest
 *                  backfill around it). Only the choice of center differs:
 *                    isolated         the job's home center (the world without a network)
 *                    random           a center drawn at random (seeded) among those that can run
 *                                     it, with probability proportional to its capacity
 *                    round-robin      centers in turn, each as often as its capacity: smooth
 *                                     weighted round-robin (nginx's), over the centers that can run it
 *                    least-loaded     the center whose (held + queued) units ÷ capacity is lowest
 *                    cheapest-static  the pool with the lowest list-price estimate at submit time
 *                                     (a cloud broker; equal prices: the least-loaded center),
 *                                     bound to that pool's center and chip
 *   late binding   every pending job of the network goes to the production scheduler each pass,
 *                  with the job's objective (`cheapest`, `fastest`, `greenest`, `balanced`) and the
 *                  scheduler's default knobs (time shifting, reservations, DRF across home clusters
 *                  as orgs): the platform.
 *
 * `random` and `round-robin` weigh centers by capacity (in the job's unit, accelerators or cores):
 * unweighted, they send as many jobs to a 48-GPU center as to a 944-GPU one, which only measures
 * how fast the small one drowns. Ties always go to the earlier center or pool in the network
 * file's order.
 */
import { randomInt, type Rng } from '../../core/rng.js';
import type { JobObjective, Policy } from '../../scheduler/types.js';

export const POLICY_NAMES = [
  'isolated',
  'random',
  'round-robin',
  'least-loaded',
  'cheapest-static',
  'cheapest',
  'fastest',
  'greenest',
  'balanced',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface PolicySpec {
  readonly name: PolicyName;
  readonly binding: 'early' | 'late';
  /** The objective every job carries (early binding: picks among the pools of its center). */
  readonly objective: JobObjective;
  /** Knobs of the production scheduler for this policy's passes (over `DEFAULT_POLICY`). */
  readonly knobs: Partial<Policy>;
  readonly summary: string;
}

/** A local batch queue: FCFS + EASY backfill, no look-ahead. */
const LOCAL_QUEUE: Partial<Policy> = { lookAheadHours: 0 };

export const POLICIES: Readonly<Record<PolicyName, PolicySpec>> = {
  isolated: { name: 'isolated', binding: 'early', objective: 'fastest', knobs: LOCAL_QUEUE, summary: 'every job at its home center, FCFS + EASY backfill' },
  random: { name: 'random', binding: 'early', objective: 'fastest', knobs: LOCAL_QUEUE, summary: 'a random center that can run it, weighted by capacity (seeded), then FCFS + EASY there' },
  'round-robin': { name: 'round-robin', binding: 'early', objective: 'fastest', knobs: LOCAL_QUEUE, summary: 'centers in turn, each as often as its capacity (smooth weighted round-robin), then FCFS + EASY there' },
  'least-loaded': { name: 'least-loaded', binding: 'early', objective: 'fastest', knobs: LOCAL_QUEUE, summary: 'the center with the least (held + queued) ÷ capacity, then FCFS + EASY there' },
  'cheapest-static': { name: 'cheapest-static', binding: 'early', objective: 'cheapest', knobs: LOCAL_QUEUE, summary: 'the cheapest spec at submit time by list price (a cloud broker), then FCFS + EASY there' },
  cheapest: { name: 'cheapest', binding: 'late', objective: 'cheapest', knobs: {}, summary: 'the platform scheduler, objective cheapest' },
  fastest: { name: 'fastest', binding: 'late', objective: 'fastest', knobs: {}, summary: 'the platform scheduler, objective fastest' },
  greenest: { name: 'greenest', binding: 'late', objective: 'greenest', knobs: {}, summary: 'the platform scheduler, objective greenest' },
  balanced: { name: 'balanced', binding: 'late', objective: 'balanced', knobs: {}, summary: 'the platform scheduler, objective balanced (cost, time, carbon weighed 1:1:1)' },
};

export function isPolicyName(s: string): s is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(s);
}

/** The pools of one center that could run a job (static feasibility), by index into the network's pools. */
export interface BindCandidate {
  readonly center: number;
  readonly pools: readonly number[];
}

/** What an early-binding choice may look at, for one job at its submit time. */
export interface BindContext {
  /** The job's home center (index into the network's centers). */
  readonly home: number;
  /** The centers that could ever run the job, in network order, each with its pools. */
  readonly candidates: readonly BindCandidate[];
  /** (Units held + units queued) ÷ capacity of `center`, in the job's unit (accelerators or cores). */
  load(center: number): number;
  /** The capacity of `center` in the job's unit. */
  capacity(center: number): number;
  /** The list-price estimate of the job on `pool` at submit time (compute + egress, fen). */
  staticCost(pool: number): number;
}

/** Chooses the pools a job is bound to, or null when the policy has no center for it. */
export type Binder = (ctx: BindContext) => readonly number[] | null;

/** The binder of an early-binding policy; `centers` is the network's center count. Stateful (round-robin, random). */
export function binderFor(name: PolicyName, rng: Rng, centers: number): Binder {
  switch (name) {
    case 'isolated':
      return (ctx) => ctx.candidates.find((c) => c.center === ctx.home)?.pools ?? null;
    case 'random':
      return (ctx) => {
        if (ctx.candidates.length === 0) return null;
        let total = 0;
        for (const c of ctx.candidates) total += Math.max(0, ctx.capacity(c.center));
        if (!(total > 0)) return ctx.candidates[randomInt(rng, ctx.candidates.length)]!.pools;
        let x = rng.next() * total;
        for (const c of ctx.candidates) {
          x -= Math.max(0, ctx.capacity(c.center));
          if (x < 0) return c.pools;
        }
        return ctx.candidates[ctx.candidates.length - 1]!.pools;
      };
    case 'round-robin': {
      // Smooth weighted round-robin: every candidate gains its weight, the richest is chosen and
      // pays the candidates' total, so over time each is chosen in proportion to its weight.
      const current = new Float64Array(Math.max(1, centers));
      return (ctx) => {
        if (ctx.candidates.length === 0) return null;
        let total = 0;
        let best: BindCandidate | null = null;
        for (const c of ctx.candidates) {
          const w = Math.max(0, ctx.capacity(c.center));
          total += w;
          current[c.center]! += w;
          if (best === null || current[c.center]! > current[best.center]!) best = c;
        }
        current[best!.center]! -= total;
        return best!.pools;
      };
    }
    case 'least-loaded':
      return (ctx) => {
        let best: BindCandidate | null = null;
        let bestLoad = Infinity;
        for (const c of ctx.candidates) {
          const l = ctx.load(c.center);
          if (l < bestLoad) {
            best = c;
            bestLoad = l;
          }
        }
        return best?.pools ?? null;
      };
    case 'cheapest-static':
      // Equally cheap specs (the same list price at several centers) are told apart by load, as a
      // broker would: else every job of a price tier would queue at the first center of the file.
      return (ctx) => {
        let best = -1;
        let bestCost = Infinity;
        let bestLoad = Infinity;
        for (const c of ctx.candidates) {
          const load = ctx.load(c.center);
          for (const p of c.pools) {
            const cost = ctx.staticCost(p);
            if (cost < bestCost * (1 - 1e-12) || (cost <= bestCost * (1 + 1e-12) && load < bestLoad)) {
              best = p;
              bestCost = cost;
              bestLoad = load;
            }
          }
        }
        return best < 0 ? null : [best];
      };
    default:
      throw new Error(`policy "${name}" binds late: it has no binder`);
  }
}
