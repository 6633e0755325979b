import { z } from 'zod';
import { JOB_STATES } from '../../core/job-state.js';
import { RESOURCE_LIMITS } from '../../core/resources.js';

/**
 * The wire shapes of the REST API, as zod schemas. The server validates requests with them, the
 * OpenAPI document is generated from them, and the typed client's types are inferred from them:
 * one definition, three uses.
 */

const OBJECTIVES = ['cheapest', 'fastest', 'greenest', 'balanced'] as const;
const noNul = (s: string) => !s.includes('\0');

export const JobSubmission = z
  .strictObject({
    name: z.string().min(1).max(128).regex(/^[\p{L}\p{N}_.\- ]+$/u, 'letters, digits, spaces, _ . - only').optional(),
    command: z
      .array(z.string().max(65_536).refine(noNul, 'must not contain NUL bytes'))
      .min(1, 'give the program to run, e.g. ["python3", "train.py"]')
      .max(4096)
      .refine((argv) => (argv[0] ?? '').trim() !== '', 'the program (first element) must not be empty'),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and _'), z.string().max(65_536).refine(noNul, 'must not contain NUL bytes'))
      .refine((e) => Object.keys(e).length <= 512, 'at most 512 environment variables')
      .default({}),
    workdir: z.string().startsWith('/', 'must be an absolute path').max(4096).optional(),
    nodes: z.int().min(1).max(RESOURCE_LIMITS.nodes).default(1),
    acceleratorsPerNode: z.int().min(0).max(RESOURCE_LIMITS.accelerators).default(0),
    coresPerNode: z.int().min(1).max(RESOURCE_LIMITS.cores).default(1),
    memoryMiBPerNode: z.int().min(1).max(RESOURCE_LIMITS.memoryMiB).default(1024),
    walltimeSeconds: z.int().min(1).max(RESOURCE_LIMITS.walltimeSeconds).default(3600),
    accelerators: z.array(z.string().min(1).max(64)).max(64).default([]),
    objective: z.enum(OBJECTIVES).default('balanced'),
    priority: z.int().min(-1000).max(1000).default(0),
    maxAttempts: z.int().min(1).max(10).default(3),
  })
  .meta({ id: 'JobSubmission', description: 'A job to run: a program and its arguments (argv, no shell), and what it needs.' });
export type JobSubmissionInput = z.input<typeof JobSubmission>;

const Estimates = z.object({
  centerId: z.string(),
  centerName: z.string(),
  poolId: z.string(),
  poolName: z.string(),
  accelerator: z.string().nullable(),
  startAt: z.number(),
  runSeconds: z.number(),
  costFen: z.number(),
  energyKwh: z.number(),
  carbonKg: z.number(),
  score: z.number(),
});

export const ExplanationSchema = z
  .object({
    objective: z.enum(OBJECTIVES),
    chosen: Estimates.nullable(),
    alternatives: z.array(Estimates),
    infeasible: z.array(
      z.object({
        centerId: z.string(),
        centerName: z.string(),
        poolId: z.string().nullable(),
        poolName: z.string().nullable(),
        reason: z.string(),
        detail: z.string(),
      }),
    ),
    summary: z.string(),
  })
  .meta({ id: 'Explanation' });
export type ExplanationResource = z.infer<typeof ExplanationSchema>;

export const JobResource = z
  .object({
    id: z.string(),
    name: z.string(),
    org: z.string(),
    user: z.string(),
    state: z.enum(JOB_STATES),
    command: z.array(z.string()),
    env: z.record(z.string(), z.string()),
    workdir: z.string().nullable(),
    nodes: z.int(),
    acceleratorsPerNode: z.int(),
    coresPerNode: z.int(),
    memoryMiBPerNode: z.int(),
    walltimeSeconds: z.int(),
    accelerators: z.array(z.string()),
    objective: z.enum(OBJECTIVES),
    priority: z.int(),
    maxAttempts: z.int(),
    attempt: z.int(),
    center: z.string().nullable().describe('name of the center it is placed on or ran on'),
    pool: z.string().nullable(),
    exitCode: z.int().nullable(),
    reason: z.string().nullable(),
    cancelRequested: z.boolean(),
    submittedAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
    waiting: ExplanationSchema.nullable().describe('why a queued job waits (the latest scheduling pass)'),
  })
  .meta({ id: 'Job' });
export type JobResource = z.infer<typeof JobResource>;

export const JobDetailResource = z
  .object({
    job: JobResource,
    placements: z.array(z.object({ attempt: z.int(), center: z.string(), pool: z.string(), decidedAt: z.iso.datetime(), explanation: ExplanationSchema })),
    events: z.array(z.object({ at: z.iso.datetime(), attempt: z.int(), from: z.string().nullable(), to: z.string().nullable(), message: z.string() })),
  })
  .meta({ id: 'JobDetail' });
export type JobDetailResource = z.infer<typeof JobDetailResource>;

export const JobList = z.object({ items: z.array(JobResource), nextCursor: z.string().nullable() }).meta({ id: 'JobList' });
export type JobList = z.infer<typeof JobList>;

export const LogPage = z
  .object({
    chunks: z.array(z.object({ seq: z.int(), attempt: z.int(), stream: z.enum(['stdout', 'stderr']), data: z.string() })),
    next: z.int().describe('pass as `after` to read on'),
    done: z.boolean().describe('the job has ended and all its output has been read'),
  })
  .meta({ id: 'LogPage' });
export type LogPage = z.infer<typeof LogPage>;

export const PoolResource = z.object({
  name: z.string(),
  accelerator: z.string().nullable(),
  acceleratorsPerNode: z.int(),
  coresPerNode: z.int(),
  memoryMiBPerNode: z.int(),
  nodes: z.int(),
  freeAccelerators: z.int(),
  freeCores: z.int(),
  fenPerAcceleratorHour: z.int(),
  fenPerCoreHour: z.int(),
});

export const CenterResource = z
  .object({
    id: z.string(),
    name: z.string(),
    displayName: z.string(),
    region: z.string(),
    state: z.enum(['online', 'draining', 'offline']),
    stateReason: z.string().nullable(),
    connector: z.string().nullable(),
    lastHeartbeatAt: z.iso.datetime().nullable(),
    pue: z.number(),
    pools: z.array(PoolResource),
    runningJobs: z.int(),
  })
  .meta({ id: 'Center' });
export type CenterResource = z.infer<typeof CenterResource>;

export const CenterList = z.object({ items: z.array(CenterResource) }).meta({ id: 'CenterList' });

export const NewCenter = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and -'),
    displayName: z.string().min(1).max(128),
    region: z.string().min(1).max(64),
    energy: z.strictObject({
      priceFenPerKwh: z.array(z.number().min(0).max(100_000)).length(24),
      pue: z.number().min(1).max(3),
      carbonKgPerKwh: z.array(z.number().min(0).max(2)).length(24),
      utcOffsetHours: z.number().min(-12).max(14).default(8),
    }),
    prices: z
      .record(z.string(), z.strictObject({ fenPerAcceleratorHour: z.int().min(0), fenPerCoreHour: z.int().min(0) }))
      .default({})
      .describe('pool name → price; pools are declared by the agent when it registers'),
  })
  .meta({ id: 'NewCenter' });

export const NewUser = z
  .strictObject({
    org: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,62}$/),
    role: z.enum(['user', 'provider', 'operator', 'admin']).default('user'),
  })
  .meta({ id: 'NewUser' });

export const TokenCreated = z.object({ token: z.string().describe('shown once; store it now') }).meta({ id: 'TokenCreated' });

export const ErrorBody = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), field: z.string().optional(), hint: z.string().optional() }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

// The agent protocol's bodies (types in agent-protocol.ts; these validate them on the server).
const AgentPoolSchema = z.strictObject({
  name: z.string().min(1).max(64),
  accelerator: z.string().nullable(),
  acceleratorsPerNode: z.int().min(0).max(RESOURCE_LIMITS.accelerators),
  coresPerNode: z.int().min(1).max(RESOURCE_LIMITS.cores),
  memoryMiBPerNode: z.int().min(1).max(RESOURCE_LIMITS.memoryMiB),
  nodes: z.int().min(0).max(100_000),
});
const RunStatusSchema = z.strictObject({
  jobId: z.string(),
  attempt: z.int().min(0),
  state: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  exitCode: z.int().nullable(),
  reason: z.string().nullable(),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
});
export const AgentRegister = z
  .strictObject({
    connector: z.string().min(1).max(32),
    agentVersion: z.string().max(64),
    pools: z.array(AgentPoolSchema).max(1000),
    commands: z.array(z.string().max(255)).max(100_000).nullable(),
    runs: z.array(RunStatusSchema).max(100_000),
  })
  .meta({ id: 'AgentRegister' });
export const AgentHeartbeat = z.strictObject({ runs: z.array(RunStatusSchema).max(100_000) }).meta({ id: 'AgentHeartbeat' });
export const AgentStateReport = z
  .strictObject({
    attempt: z.int().min(0),
    state: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
    exitCode: z.int().nullable(),
    reason: z.string().max(1000).nullable(),
    at: z.number(),
  })
  .meta({ id: 'AgentStateReport' });
export const AgentLogReport = z
  .strictObject({
    attempt: z.int().min(0),
    chunks: z.array(z.strictObject({ stream: z.enum(['stdout', 'stderr']), offset: z.int().min(0), data: z.string() })).max(1000),
  })
  .meta({ id: 'AgentLogReport' });
