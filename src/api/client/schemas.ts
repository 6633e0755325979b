import { z } from 'zod';
import { JOB_STATES } from '../../core/job-state.js';
import { RESOURCE_LIMITS } from '../../core/resources.js';

/**
 * The wire shapes of the REST API, as zod schemas. The server validates requests with them, the
 * OpenAPI document is generated from them, and the typed client's types are inferred from them:
 * one definition, three uses.
 */

const OBJECTIVES = ['cheapest', 'fastest', 'greenest', 'balanced'] as const;
/** A named objective, or explicit weights of cost, time and carbon (relative to the best option). */
export const Objective = z.union([
  z.enum(OBJECTIVES),
  z.strictObject({
    weights: z.strictObject({ cost: z.number().min(0).max(100), time: z.number().min(0).max(100), carbon: z.number().min(0).max(100) }),
  }),
]);
const noNul = (s: string) => !s.includes('\0');
/** C0 and C1 control characters, ESC among them: a name with them could rewrite a terminal that shows it. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const noControl = (s: string) => !CONTROL.test(s);

export const JobSubmission = z
  .strictObject({
    name: z.string().min(1).max(128).regex(/^[\p{L}\p{N}_.\- ]+$/u, 'letters, digits, spaces, _ . - only').optional(),
    project: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a project name: letters, digits, . _ - (up to 64), starting with a letter or digit').optional().describe("the org's project it counts against (budgets, usage)"),
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
    objective: Objective.default('balanced'),
    priority: z.int().min(-1000).max(1000).default(0),
    maxAttempts: z.int().min(1).max(10).default(3),
    runtimeSeconds: z.int().min(1).max(RESOURCE_LIMITS.walltimeSeconds).optional().describe('expected run time on the reference accelerator (or on CPU cores); the scheduler scales it per chip'),
    referenceAccelerator: z.string().min(1).max(64).optional().describe('the accelerator runtimeSeconds was measured on (default nvidia-a100)'),
    forbidAccelerators: z.array(z.string().min(1).max(64)).max(64).default([]),
    regions: z.array(z.string().min(1).max(64)).max(64).default([]).describe('data residency: run only in these regions (empty: anywhere)'),
    deadline: z.iso.datetime({ offset: true }).optional().describe('finish by then, or do not start'),
    budgetFen: z.int().min(0).max(2 ** 53 - 1).optional().describe('the most the run may cost, in fen (0.01 CNY)'),
    inputs: z.array(z.string().min(1).max(128)).max(64).default([]).describe('datasets (ids or names) staged in before the job holds accelerators'),
    outputs: z
      .array(z.strictObject({ dataset: z.string().max(256).describe('a dataset of your org (made when missing)'), dir: z.string().max(4096).optional().describe('relative to the workdir; default outputs/<dataset>') }))
      .max(64)
      .default([])
      .describe("datasets the job's files become when it succeeds: a new sealed version each, at its center"),
  })
  .meta({ id: 'JobSubmission', description: 'A job to run: a program and its arguments (argv, no shell), and what it needs.' });
export type JobSubmissionInput = z.input<typeof JobSubmission>;

/** A job of a batch: a JobSubmission, optionally a job array (one job per index, as `sbatch --array`). */
export const BatchJobSubmission = JobSubmission.extend({
  array: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .describe('job array indices, as sbatch --array: "1-1000", "0-99:2", "1,3,5-7"; each element gets SUANWANG_ARRAY_INDEX and SUANWANG_ARRAY_ID'),
}).meta({ id: 'BatchJobSubmission' });
export type BatchJobSubmissionInput = z.input<typeof BatchJobSubmission>;

export const JobBatch = z
  .strictObject({
    jobs: z.array(BatchJobSubmission).min(1).max(1000).describe('at most 1,000 specs and 10,000 jobs in all (array elements count one each)'),
  })
  .meta({ id: 'JobBatch', description: 'Jobs submitted together, all or nothing.' });
export type JobBatchInput = z.input<typeof JobBatch>;

/** The short form of a job a batch answers with (GET /v1/jobs/{id} has the rest). */
export const JobBrief = z
  .object({
    id: z.string(),
    name: z.string(),
    state: z.enum(JOB_STATES),
    arrayId: z.string().nullable(),
    arrayIndex: z.int().nullable(),
  })
  .meta({ id: 'JobBrief' });
export const JobBatchResult = z
  .object({ items: z.array(JobBrief), created: z.boolean().describe('false when an Idempotency-Key retry found the batch already submitted') })
  .meta({ id: 'JobBatchResult' });
export type JobBatchResult = z.infer<typeof JobBatchResult>;

const Estimates = z.object({
  centerId: z.string(),
  centerName: z.string(),
  poolId: z.string(),
  poolName: z.string(),
  accelerator: z.string().nullable(),
  start: z.enum(['now', 'reservation', 'deferred']).describe('starts now, holds a reservation at startAt, or waits for a cheaper or greener hour'),
  startAt: z.number(),
  stageInSeconds: z.number(),
  runSeconds: z.number(),
  completionAt: z.number(),
  efficiency: z.number().nullable(),
  computeFen: z.number(),
  egressFen: z.number(),
  costFen: z.number(),
  energyKwh: z.number(),
  carbonKg: z.number(),
  score: z.number(),
});

export const ExplanationSchema = z
  .object({
    objective: z.unknown(),
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
    wait: z
      .union([
        z.object({ kind: z.literal('capacity'), reservedAt: z.number().nullable() }),
        z.object({ kind: z.literal('better-hour'), until: z.number() }),
        z.object({ kind: z.literal('never') }),
      ])
      .nullable()
      .describe('why a job waits; null when placed'),
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
    objective: Objective,
    priority: z.int(),
    maxAttempts: z.int(),
    runtimeSeconds: z.int().nullable(),
    referenceAccelerator: z.string().nullable(),
    forbidAccelerators: z.array(z.string()),
    regions: z.array(z.string()),
    deadline: z.iso.datetime().nullable(),
    budgetFen: z.int().nullable(),
    inputs: z.array(z.string()),
    outputs: z.array(z.object({ dataset: z.string(), dir: z.string() })).describe('datasets its files become when it succeeds'),
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
    arrayId: z.string().nullable().describe("the job array's id (its first element's job id), or null"),
    arrayIndex: z.int().nullable(),
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
    energyNow: z
      .object({ priceFenPerKwh: z.number(), carbonKgPerKwh: z.number() })
      .describe("the center's electricity price and grid carbon intensity in the current hour (its local time)"),
    location: z
      .object({ lon: z.number(), lat: z.number(), hub: z.enum(['east', 'west']).nullable() })
      .nullable()
      .describe('where its region is (src/core/regions.ts: the national hub site or the capital), null when the region is unknown'),
  })
  .meta({ id: 'Center' });
export type CenterResource = z.infer<typeof CenterResource>;

export const CenterList = z.object({ items: z.array(CenterResource) }).meta({ id: 'CenterList' });

/** A flat day: the same figure each of the 24 hours. */
const flatDay = (v: number) => Array.from({ length: 24 }, () => v);

export const NewCenter = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and -'),
    displayName: z.string().min(1).max(128).optional().describe('default: the name'),
    region: z.string().min(1).max(64),
    energy: z
      .strictObject({
        priceFenPerKwh: z.array(z.number().min(0).max(100_000)).length(24),
        pue: z.number().min(1).max(3),
        carbonKgPerKwh: z.array(z.number().min(0).max(2)).length(24),
        utcOffsetHours: z.number().min(-12).max(14).default(8),
      })
      .default({ priceFenPerKwh: flatDay(50), pue: 1.3, carbonKgPerKwh: flatDay(0.58), utcOffsetHours: 8 })
      .describe("default: a flat ¥0.50/kWh, PUE 1.3, China's average grid (0.58 kg CO2/kWh), UTC+8"),
    prices: z
      .record(z.string(), z.strictObject({ fenPerAcceleratorHour: z.int().min(0), fenPerCoreHour: z.int().min(0) }))
      .default({})
      .describe('pool name → price; pools are declared by the agent when it registers'),
    operatorOrg: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/).optional().describe("the operator's org (created when new); default: the admin's org"),
    enrollmentExpiresInSeconds: z.int().min(60).max(365 * 86400).default(86400).describe('how long the enrollment token returned lasts'),
  })
  .meta({ id: 'NewCenter' });

export const CenterCreated = z
  .object({
    id: z.string(),
    agentToken: z.string().describe('an agent token, shown once (or let the agent enroll instead)'),
    enrollmentToken: z.string().describe('single use: `enrollmentToken:` of the agent\'s center.yaml'),
    enrollmentExpiresAt: z.string(),
  })
  .meta({ id: 'CenterCreated' });
export type CenterCreated = z.infer<typeof CenterCreated>;

export const NewEnrollmentToken = z
  .strictObject({ expiresInSeconds: z.int().min(60).max(365 * 86400).default(86400) })
  .meta({ id: 'NewEnrollmentToken' });
export const EnrollmentTokenCreated = z
  .object({ center: z.string(), enrollmentToken: z.string().describe('shown once; works once'), expiresAt: z.string() })
  .meta({ id: 'EnrollmentTokenCreated' });
export type EnrollmentTokenCreated = z.infer<typeof EnrollmentTokenCreated>;

export const NewUser = z
  .strictObject({
    org: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,62}$/),
    role: z.enum(['user', 'provider', 'operator', 'admin']).default('user'),
  })
  .meta({ id: 'NewUser' });

export const AgentEnroll = z
  .strictObject({ enrollmentToken: z.string().regex(/^swe_[A-Za-z0-9_-]{16,128}$/, 'an enrollment token, swe_…').describe('created by an admin for one center; works once') })
  .meta({ id: 'AgentEnroll' });
export const AgentEnrolled = z
  .object({ center: z.string(), centerId: z.string(), agentToken: z.string().describe('the agent token of this center, shown once: keep it (mode 0600)') })
  .meta({ id: 'AgentEnrolled' });
export type AgentEnrolled = z.infer<typeof AgentEnrolled>;

// Admin: orgs, users and roles, API tokens.
const Name = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and -, 2–63 characters');
const RoleSchema = z.enum(['user', 'provider', 'operator', 'admin']);
export const NewOrg = z.strictObject({ name: Name }).meta({ id: 'NewOrg' });
export const OrgResource = z.object({ id: z.string(), name: z.string(), users: z.int(), createdAt: z.string() }).meta({ id: 'Org' });
export type OrgResource = z.infer<typeof OrgResource>;
export const OrgList = z.object({ items: z.array(OrgResource) }).meta({ id: 'OrgList' });
export const UserResource = z.object({ id: z.string(), name: z.string(), org: z.string(), role: RoleSchema, createdAt: z.string() }).meta({ id: 'User' });
export type UserResource = z.infer<typeof UserResource>;
export const UserList = z.object({ items: z.array(UserResource) }).meta({ id: 'UserList' });
export const UserListQuery = z.strictObject({ org: Name.optional() });
export const RoleChange = z.strictObject({ role: RoleSchema }).meta({ id: 'RoleChange' });
export const NewApiToken = z
  .strictObject({
    user: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,62}$/).describe("the user's name"),
    label: z.string().min(1).max(200).optional(),
    expiresInSeconds: z.int().min(60).max(10 * 365 * 86400).optional().describe('omitted: never expires'),
  })
  .meta({ id: 'NewApiToken' });
export const ApiTokenCreated = z
  .object({ id: z.string(), user: z.string(), label: z.string(), token: z.string().describe('shown once; store it now'), expiresAt: z.string().nullable() })
  .meta({ id: 'ApiTokenCreated' });
export type ApiTokenCreated = z.infer<typeof ApiTokenCreated>;
export const ApiTokenResource = z
  .object({
    id: z.string(),
    label: z.string(),
    user: z.string().nullable(),
    center: z.string().nullable().describe("a center's agent token"),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable().describe('recorded at most once a minute'),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiToken' });
export type ApiTokenResource = z.infer<typeof ApiTokenResource>;
export const ApiTokenList = z.object({ items: z.array(ApiTokenResource) }).meta({ id: 'ApiTokenList' });
export const ApiTokenListQuery = z.strictObject({
  user: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,62}$/).optional(),
  revoked: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export const TokenCreated = z.object({ token: z.string().describe('shown once; store it now') }).meta({ id: 'TokenCreated' });

export const ErrorBody = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), field: z.string().optional(), hint: z.string().optional() }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

// The agent protocol's bodies (types in agent-protocol.ts; these validate them on the server).
// A reason comes from the center's scheduler (any text); PostgreSQL text cannot hold NUL, so it is
// replaced rather than refused (a refused report would be retried forever).
const withoutNul = (s: string): string => s.replace(/\u0000/g, '\uFFFD');
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
  reason: z.string().transform(withoutNul).nullable(),
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
export const AgentHeartbeat = z
  .strictObject({
    runs: z.array(RunStatusSchema).max(100_000),
    health: z.strictObject({ degraded: z.boolean(), reason: z.string().max(1000).transform(withoutNul).nullable().optional(), since: z.number().nullable().optional() }).optional(),
  })
  .meta({ id: 'AgentHeartbeat' });
export const AgentStateReport = z
  .strictObject({
    attempt: z.int().min(0),
    state: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
    exitCode: z.int().nullable(),
    reason: z.string().max(1000).transform(withoutNul).nullable(),
    at: z.number(),
  })
  .meta({ id: 'AgentStateReport' });
export const AgentLogReport = z
  .strictObject({
    attempt: z.int().min(0),
    chunks: z.array(z.strictObject({ stream: z.enum(['stdout', 'stderr']), offset: z.int().min(0), data: z.string() })).max(1000),
  })
  .meta({ id: 'AgentLogReport' });

/** Many runs' output and state changes in one call; see ReportsRequest in src/core/agent-protocol.ts. */
export const AgentReports = z
  .strictObject({
    logs: z.array(AgentLogReport.extend({ jobId: z.string().min(1).max(64) })).max(1000).default([]),
    states: z.array(AgentStateReport.extend({ jobId: z.string().min(1).max(64) })).max(5000).default([]),
  })
  .meta({ id: 'AgentReports' });

export const NewDataset = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'lowercase letters, digits and ._-'),
    bytes: z.int().min(0).max(2 ** 53 - 1),
    centers: z.array(z.string().min(1)).min(1, 'name at least one center that holds a replica').max(64),
  })
  .meta({ id: 'NewDataset' });

export const DatasetResource = z
  .object({ id: z.string(), name: z.string(), bytes: z.int(), centers: z.array(z.string()) })
  .meta({ id: 'Dataset' });
export type DatasetResource = z.infer<typeof DatasetResource>;

export const QuoteResource = z
  .object({
    now: ExplanationSchema.describe('what the scheduler would do with this job now, given the queue and free capacity'),
  })
  .meta({ id: 'Quote' });
export type QuoteResource = z.infer<typeof QuoteResource>;

export const ProductSummary = z
  .object({
    name: z.string(),
    title: z.string(),
    summary: z.string(),
    category: z.string(),
    tags: z.array(z.string()),
    provider: z.string(),
    families: z.array(z.string()),
    launches: z.int(),
    licence: z.string(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'ProductSummary' });
export type ProductSummary = z.infer<typeof ProductSummary>;

export const SearchResult = z
  .object({
    items: z.array(ProductSummary),
    total: z.int(),
    facets: z.object({ category: z.record(z.string(), z.int()), family: z.record(z.string(), z.int()), provider: z.record(z.string(), z.int()) }),
    exact: z.boolean().describe('true when total and every facet count are exact counts (today always: nothing is estimated)'),
  })
  .meta({ id: 'SearchResult' });
export type SearchResult = z.infer<typeof SearchResult>;

export const ProductDetail = z
  .object({
    product: ProductSummary.extend({ description: z.string(), visibility: z.string(), listed: z.boolean() }),
    versions: z.array(z.object({ version: z.string(), status: z.string(), createdAt: z.iso.datetime(), listedAt: z.iso.datetime().nullable(), reviewNote: z.string().nullable(), manifest: z.unknown() })),
  })
  .meta({ id: 'ProductDetail' });
export type ProductDetail = z.infer<typeof ProductDetail>;

export const PublishRequest = z
  .strictObject({
    manifest: z.string().min(1).max(1024 * 1024).describe('the manifest, as YAML text'),
    draft: z.boolean().default(false).describe('keep it a draft instead of submitting it for review'),
  })
  .meta({ id: 'PublishRequest' });

export const ReviewRequest = z
  .strictObject({ action: z.enum(['submit', 'approve', 'reject', 'delist', 'relist']), note: z.string().max(2000).optional() })
  .meta({ id: 'ReviewRequest' });

export const LaunchRequest = z
  .strictObject({
    version: z.string().max(64).optional().describe('default: the newest listed version'),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    resources: z
      .strictObject({
        nodes: z.int().optional(),
        acceleratorsPerNode: z.int().optional(),
        coresPerNode: z.int().optional(),
        memoryMiBPerNode: z.int().optional(),
        walltimeSeconds: z.int().optional(),
      })
      .optional()
      .describe("overrides of the app's defaults, within its limits"),
    accelerators: z.array(z.string()).max(64).optional().describe("narrow the chips to some of the app's adapted ones"),
    name: z.string().min(1).max(128).refine(noControl, 'must not contain control characters (C0, C1, ESC)').optional(),
    objective: Objective.default('balanced'),
    priority: z.int().min(-1000).max(1000).default(0),
    maxAttempts: z.int().min(1).max(10).default(3),
    runtimeSeconds: z.int().min(1).max(RESOURCE_LIMITS.walltimeSeconds).optional(),
    forbidAccelerators: z.array(z.string()).max(64).default([]),
    regions: z.array(z.string()).max(64).default([]),
    deadline: z.iso.datetime({ offset: true }).optional(),
    budgetFen: z.int().min(0).max(2 ** 53 - 1).optional(),
    inputs: z.array(z.string()).max(64).default([]),
  })
  .meta({ id: 'LaunchRequest' });
export type LaunchRequestInput = z.input<typeof LaunchRequest>;

export const BudgetResource = z
  .object({
    id: z.string(),
    project: z.string().nullable(),
    limitFen: z.int(),
    period: z.enum(['month', 'window']),
    periodFrom: z.iso.datetime().nullable().describe('the period in force now (null: a window not open now)'),
    periodUntil: z.iso.datetime().nullable(),
    spentFen: z.int().describe('charged or held for jobs in the current period'),
    thresholdsBps: z.array(z.int()).describe('alert thresholds in basis points of the limit'),
    firedBps: z.array(z.int()).describe('the thresholds that have fired this period'),
    onExhaustion: z.enum(['finish', 'stop-at-limit']),
  })
  .meta({ id: 'Budget' });
export type BudgetResource = z.infer<typeof BudgetResource>;
export const BudgetList = z.object({ items: z.array(BudgetResource) }).meta({ id: 'BudgetList' });
export type BudgetList = z.infer<typeof BudgetList>;

const GrantSchema = z.object({ id: z.string(), amount: z.int(), remaining: z.int(), priority: z.int(), expiresAt: z.string().nullable(), expired: z.boolean(), programId: z.string().nullable() });
export const WalletResource = z
  .object({ org: z.string(), paidFen: z.int(), grantedFen: z.int(), heldFen: z.int(), availableFen: z.int(), grants: z.array(GrantSchema) })
  .meta({ id: 'Wallet' });
export type WalletResource = z.infer<typeof WalletResource>;

export const VoucherList = z
  .object({ items: z.array(z.object({ id: z.string(), name: z.string(), coPayBps: z.int(), scope: z.unknown(), validFrom: z.string(), validUntil: z.string(), redeemed: z.int(), remaining: z.int().nullable(), enrolment: z.enum(['open', 'by-code']) })) })
  .meta({ id: 'VoucherList' });
export type VoucherList = z.infer<typeof VoucherList>;

export const UsageReport = z
  .object({
    by: z.string(),
    from: z.string(),
    to: z.string(),
    rows: z.array(
      z.object({ key: z.string(), jobs: z.int(), acceleratorHours: z.number(), billingUnitHours: z.number(), bill: z.int(), voucher: z.int(), appFee: z.int(), userPaid: z.int() }),
    ),
  })
  .meta({ id: 'UsageReport' });
export type UsageReport = z.infer<typeof UsageReport>;

export const ReviewQueue = z
  .object({
    items: z.array(
      z.object({ product: z.string(), title: z.string(), category: z.string(), provider: z.string(), version: z.string(), status: z.string(), createdAt: z.iso.datetime(), reviewNote: z.string().nullable(), launches: z.int().describe("the product's launches, all versions") }),
    ),
  })
  .meta({ id: 'ReviewQueue' });
export type ReviewQueue = z.infer<typeof ReviewQueue>;
