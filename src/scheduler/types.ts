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
}

export const CENTER_STATES = ['online', 'draining', 'offline'] as const;
export type CenterState = (typeof CENTER_STATES)[number];

/** Electricity and carbon of a center. Arrays have 24 entries, one per local hour of day. */
export interface EnergyProfile {
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
}

export const OBJECTIVES = ['cheapest', 'fastest', 'greenest', 'balanced'] as const;
export type Objective = (typeof OBJECTIVES)[number];

export interface PendingJob {
  readonly id: string;
  readonly orgId: string;
  readonly nodes: number;
  readonly perNode: NodeRequest;
  /** The requested walltime: the upper bound of its run and of its cost estimate. */
  readonly walltimeSeconds: number;
  /** Accelerator keys the job may use; empty means any accelerator (when it asks for any). */
  readonly allowedAccelerators: readonly string[];
  /** The program the job runs (argv[0]); a center that lacks it is infeasible. */
  readonly program: string;
  readonly objective: Objective;
  readonly priority: number;
  readonly submittedAt: number;
}

/** One way to run a job: a pool, when, and what it would cost. */
export interface PlacementOption {
  readonly centerId: string;
  readonly centerName: string;
  readonly poolId: string;
  readonly poolName: string;
  readonly accelerator: string | null;
  /** Earliest start (ms); equal to `now` when it can start at once. */
  readonly startAt: number;
  readonly runSeconds: number;
  readonly costFen: number;
  readonly energyKwh: number;
  readonly carbonKg: number;
  /** Lower is better under the job's objective. */
  readonly score: number;
}

export const INFEASIBLE_REASONS = [
  'center-offline',
  'no-accelerator',
  'no-adapted-accelerator',
  'command-not-found',
  'gang-does-not-fit',
  'node-too-small',
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

export interface Explanation {
  readonly objective: Objective;
  readonly chosen: PlacementOption | null;
  /** The best feasible options not chosen, best first (a few, not all). */
  readonly alternatives: readonly PlacementOption[];
  readonly infeasible: readonly Infeasible[];
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

export interface ScheduleResult {
  readonly placements: readonly Placement[];
  /** Every pending job not placed now, with why. */
  readonly waiting: readonly { readonly jobId: string; readonly explanation: Explanation }[];
}

/** Knobs of a scheduling pass. */
export interface Policy {
  /** How many alternatives an explanation keeps. */
  readonly maxAlternatives: number;
}

export const DEFAULT_POLICY: Policy = { maxAlternatives: 3 };
