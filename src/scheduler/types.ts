import type { NodeRequest } from '../core/resources.js';

/**
 * The scheduler's whole world at one instant: a pure function of this, a policy and a clock decides
 * placements. The engine builds it from the store; the simulator builds it from its model.
 */
export interface Snapshot {
  readonly now: number;
  readonly centers: readonly CenterView[];
  /** Pending (queued) jobs, in no particular order: the scheduler orders them itself. */
  readonly jobs: readonly PendingJob[];
  /**
   * Network links between regions. A link serves both directions unless the other direction is
   * listed too. Transfers within one region use `SAME_REGION_LINK` (free, 100 Gbit/s, no latency)
   * unless a link from the region to itself is listed. Two regions with no link cannot exchange data.
   */
  readonly links: readonly Link[];
  /** The datasets pending jobs read, with the regions holding a replica. */
  readonly datasets: readonly DatasetView[];
  /**
   * Jobs holding capacity now (placed or running; `freeByNode` already excludes what they take):
   * their expected releases plan reservations, and their use counts toward their org's fair share.
   */
  readonly running: readonly RunningJob[];
  /** Fair-share weight per org id; an org not listed (or with a weight that is not a positive number) weighs 1. */
  readonly orgWeights: Readonly<Record<string, number>>;
}

export const CENTER_STATES = ['online', 'draining', 'offline'] as const;
export type CenterState = (typeof CENTER_STATES)[number];

/** Electricity and carbon of a center. Arrays have 24 entries, one per local hour of day. */
export interface EnergyProfile {
  /** What the operator pays for electricity: its cost, not the user's price (see `PoolView.priceFactorByHour`). */
  readonly priceFenPerKwh: readonly number[];
  readonly pue: number;
  readonly carbonKgPerKwh: readonly number[];
  /** The center's offset from UTC in hours (8 for China), to find the local hour. */
  readonly utcOffsetHours: number;
}

export interface CenterView {
  readonly id: string;
  readonly name: string;
  readonly region: string;
  readonly state: CenterState;
  readonly energy: EnergyProfile;
  readonly pools: readonly PoolView[];
  /** Program names found on the center's PATH, or null when the center did not say (then anything goes). */
  readonly commands: ReadonlySet<string> | null;
}

export interface PoolView {
  readonly id: string;
  readonly centerId: string;
  readonly name: string;
  /** Key into the accelerator table (`nvidia-a100`), or null for a CPU-only pool. */
  readonly accelerator: string | null;
  /** Capacity of one node. */
  readonly perNode: NodeRequest;
  /** What is still free on each node now (length = node count). */
  readonly freeByNode: readonly NodeRequest[];
  /** Price per accelerator-hour (accelerator pools) and per core-hour, in fen. */
  readonly fenPerAcceleratorHour: number;
  readonly fenPerCoreHour: number;
  /**
   * Time-of-use pricing: 24 factors, one per local hour of the center, applied to both rates (0.5 in
   * the night valley, 1.5 at the peak), or null for one price around the clock. The only hourly
   * price a user pays, so the only one `cheapest` may wait for.
   */
  readonly priceFactorByHour: readonly number[] | null;
}

/** A network path from one region to another. */
export interface Link {
  readonly fromRegion: string;
  readonly toRegion: string;
  readonly bandwidthMbps: number;
  readonly latencyMs: number;
  /** Price of moving data out over this link, in fen per GB (10^9 bytes). */
  readonly egressFenPerGB: number;
}

/** A dataset as the scheduler sees it: its size and where replicas live. */
export interface DatasetView {
  readonly id: string;
  readonly bytes: number;
  /** Regions holding a full replica. */
  readonly regions: readonly string[];
}

/** A job holding capacity now. */
export interface RunningJob {
  readonly jobId: string;
  readonly orgId: string;
  readonly centerId: string;
  readonly poolId: string;
  readonly nodeIndices: readonly number[];
  /** What it holds on each of its nodes. */
  readonly perNode: NodeRequest;
  readonly startedAt: number;
  /** When its nodes come back at the latest (start + walltime); a time already past means "any moment". */
  readonly endsAt: number;
}

export const OBJECTIVES = ['cheapest', 'fastest', 'greenest', 'balanced'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** Weights of cost, time to finish and carbon, each figure taken relative to the best option. */
export interface ObjectiveWeights {
  readonly cost: number;
  readonly time: number;
  readonly carbon: number;
}

/** A named objective, or explicit weights (`balanced` is weights 1, 1, 1). */
export type JobObjective = Objective | { readonly weights: ObjectiveWeights };

/** Which accelerator figure measures a chip's speed for an app: dense FP16 tensor TFLOPS, or FP32 TFLOPS. */
export const SPEED_METRICS = ['fp16', 'fp32'] as const;
export type SpeedMetric = (typeof SPEED_METRICS)[number];

export interface PendingJob {
  readonly id: string;
  readonly orgId: string;
  readonly nodes: number;
  readonly perNode: NodeRequest;
  /** The requested walltime: the hard limit of its run, and how long it may hold nodes. */
  readonly walltimeSeconds: number;
  /**
   * Expected run time on `referenceAccelerator` (for a CPU job: on its cores, anywhere), or null when
   * unknown: then every estimate uses the walltime, unscaled.
   */
  readonly runtimeSeconds: number | null;
  /** The chip `runtimeSeconds` was measured on; null means `DEFAULT_REFERENCE_ACCELERATOR`. */
  readonly referenceAccelerator: string | null;
  /** The chip figure run times scale by (`fp16` unless the app says otherwise). */
  readonly speedMetric: SpeedMetric;
  /**
   * The app's adaptation matrix: accelerator key → efficiency (1 = as well tuned as on the
   * reference). An unlisted chip, or one at 0, is unsupported. Null for a raw command: any chip
   * (within `allowedAccelerators`), at efficiency 1. Ignored for CPU-only jobs.
   */
  readonly adaptation: Readonly<Record<string, number>> | null;
  /** Accelerator keys the job may use; empty means any accelerator (when it asks for any). */
  readonly allowedAccelerators: readonly string[];
  /** Accelerator keys the job must never run on (a pool with one of them is out, even for a CPU job). */
  readonly forbiddenAccelerators: readonly string[];
  /** Data residency: regions the job may run in; empty means anywhere. */
  readonly allowedRegions: readonly string[];
  /** Finish by then (epoch ms) or do not start; null for no deadline. */
  readonly deadline: number | null;
  /** The most the run may cost (compute + egress), in fen; null for no limit. */
  readonly budgetFen: number | null;
  /** Datasets staged in before the run starts. */
  readonly inputs: readonly { readonly datasetId: string }[];
  /** The program the job runs (argv[0]); a center that lacks it is infeasible. */
  readonly program: string;
  readonly objective: JobObjective;
  /** Orders the jobs of one org (higher first); fair share orders the orgs. */
  readonly priority: number;
  readonly submittedAt: number;
}

/**
 * When an option starts: `now`; at a `reservation` (the earliest time its gang fits, held against
 * backfill); or `deferred` to a cheaper or greener hour (holding nothing).
 */
export const START_KINDS = ['now', 'reservation', 'deferred'] as const;
export type StartKind = (typeof START_KINDS)[number];

/** One way to run a job: a pool, when, and what it would cost. */
export interface PlacementOption {
  readonly centerId: string;
  readonly centerName: string;
  readonly poolId: string;
  readonly poolName: string;
  readonly accelerator: string | null;
  readonly start: StartKind;
  /** When the job takes its nodes (ms); `now` for a start now. */
  readonly startAt: number;
  /** Moving its inputs to this center; the transfer starts at once, so a later start hides it. */
  readonly stageInSeconds: number;
  /** Estimated run time on this pool's chip (after stage-in). */
  readonly runSeconds: number;
  /** When the run is expected to end: max(startAt, now + stage-in) + run. */
  readonly completionAt: number;
  /** Adaptation efficiency used for the run time; null for a CPU-only job. */
  readonly efficiency: number | null;
  /** Compute at the pool's (time-of-use) price over the run. */
  readonly computeFen: number;
  /** Moving the inputs here. */
  readonly egressFen: number;
  /** computeFen + egressFen. */
  readonly costFen: number;
  /** Energy of the run, cooling (PUE) included. */
  readonly energyKwh: number;
  /** Carbon of that energy over the hours the run spans. */
  readonly carbonKg: number;
  /** Lower is better under the job's objective. */
  readonly score: number;
}

export const INFEASIBLE_REASONS = [
  'center-offline',
  'residency-forbids',
  'no-accelerator',
  'forbidden-accelerator',
  'no-adapted-accelerator',
  'command-not-found',
  'node-too-small',
  'gang-does-not-fit',
  'data-unreachable',
  'exceeds-walltime',
  'over-budget',
  'misses-deadline',
  'insufficient-capacity',
] as const;
export type InfeasibleReason = (typeof INFEASIBLE_REASONS)[number];

export interface Infeasible {
  readonly centerId: string;
  readonly centerName: string;
  readonly poolId: string | null;
  readonly poolName: string | null;
  readonly reason: InfeasibleReason;
  /** A sentence a person reads: what is missing and how much. */
  readonly detail: string;
}

/**
 * Why a job is not placed now: `capacity` (pools that could run it are full or their center is not
 * online; `reservedAt` is when its reservation starts, if it holds one), `better-hour` (deferred to
 * a cheaper or greener hour starting at `until`), or `never` (no pool can run it as asked).
 */
export type Wait =
  | { readonly kind: 'capacity'; readonly reservedAt: number | null }
  | { readonly kind: 'better-hour'; readonly until: number }
  | { readonly kind: 'never' };

export interface Explanation {
  readonly objective: JobObjective;
  /** The placement; for a waiting job its plan (a reservation or a deferred start), else null. */
  readonly chosen: PlacementOption | null;
  /** The best other options (at most one per pool), best first (a few, not all). */
  readonly alternatives: readonly PlacementOption[];
  /** Every pool with no option, each with its reason (pools with an option not shown are left out). */
  readonly infeasible: readonly Infeasible[];
  /** Null when placed now. */
  readonly wait: Wait | null;
  /** One line: why this choice, or why the job waits. */
  readonly summary: string;
}

export interface Placement {
  readonly jobId: string;
  readonly centerId: string;
  readonly poolId: string;
  /** Indices into the pool's nodes that the job takes (length = job.nodes). */
  readonly nodeIndices: readonly number[];
  readonly option: PlacementOption;
  readonly explanation: Explanation;
}

/** A job's claim on a pool's nodes from `startAt`: no job placed in the same pass delays it. */
export interface Reservation {
  readonly jobId: string;
  readonly centerId: string;
  readonly poolId: string;
  readonly startAt: number;
  /** The nodes it will take (length = job.nodes). */
  readonly nodeIndices: readonly number[];
  readonly option: PlacementOption;
}

export interface ScheduleResult {
  readonly placements: readonly Placement[];
  /** Plans for some waiting jobs (each also listed in `waiting`). */
  readonly reservations: readonly Reservation[];
  /** Every pending job not placed now, with why. */
  readonly waiting: readonly { readonly jobId: string; readonly explanation: Explanation }[];
}

/** Knobs of a scheduling pass. */
export interface Policy {
  /** How many alternatives an explanation keeps. */
  readonly maxAlternatives: number;
  /** The most reservations one pass makes, to the first jobs in queue order that need one; at most one per pool. */
  readonly maxReservations: number;
  /**
   * How far ahead a job may be planned instead of starting now (a cheaper or greener hour, a
   * reservation that pays off), or, when nothing can start now, beyond its soonest plan.
   */
  readonly lookAheadHours: number;
  /**
   * The least saving in the objective's score, as a fraction, for which a job waits for a later plan
   * rather than start now (or, when nothing can start now, rather than take its soonest plan).
   */
  readonly minSavingToWait: number;
  /**
   * For a job with no deadline whose objective does not weigh time (`cheapest`, `greenest`, weights
   * with time 0): how much later a plan may make it finish, as a share of its time to finish when
   * starting now (or, when nothing can start now, by its soonest plan), per unit of saving. 2: a
   * plan that saves 25% may finish at most 50% later; 0: never finish later to save. A job with a
   * deadline may wait as long as its deadline allows instead. (The default 2 was chosen on the
   * ElasticFlow replay: 1, 2 and 4 give mean completion 0.99×, 1.00× and 1.01× of `isolated` and
   * carbon −35.9%, −36.0%, −35.9%; without the rule `greenest` finished 45% later.)
   */
  readonly delayPerSaving: number;
  /**
   * Shorter jobs first among jobs of similar age, within an org: each job is ordered by its submit
   * time plus this many times its run-time estimate (`compareJobs`). 0 or absent: first come, first
   * served. (Chosen for the simulator's platform policies on held-in traces: docs/simulator.md.)
   */
  readonly runtimeAging?: number;
  /** With `runtimeAging`: age by the job's work (run-time estimate × its units) instead of its run time alone (`compareJobs`). */
  readonly agingByWork?: boolean;
  /**
   * false: one queue for every org, in `compareJobs` order, instead of weighted DRF across orgs
   * (`FairQueue`). Absent or true: fair share. (The simulator's bench measures what fair share
   * between federated clusters costs in mean completion: docs/simulator.md.)
   */
  readonly fairShare?: boolean;
}

export const DEFAULT_POLICY: Policy = { maxAlternatives: 3, maxReservations: 64, lookAheadHours: 24, minSavingToWait: 0.1, delayPerSaving: 2 };

/** The reference chip of a job that names none (it only matters for jobs with accelerators). */
export const DEFAULT_REFERENCE_ACCELERATOR = 'nvidia-a100';
