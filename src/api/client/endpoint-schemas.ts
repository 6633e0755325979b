import { z } from 'zod';

/** `POST /v1/endpoints`: an inference endpoint of a store app (`suanwang serve`). */
export const EndpointSubmission = z
  .object({
    app: z.string().min(1).max(100).describe('a listed, servable app (it has a "serve" parameter), e.g. textgen-mini'),
    name: z.string().min(1).max(63).optional().describe('the endpoint name in your org (default: the app name); its URL is /e/NAME/'),
    version: z.string().min(1).max(64).optional().describe('the app version (default: the newest listed)'),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}).describe('app parameters of every replica (serve=on is added)'),
    acceleratorsPerNode: z.int().min(0).max(64).default(1),
    region: z.string().min(1).max(64).describe("the callers' region: a region (shanghai), a center, or a center's first word (east)"),
    min: z.int().min(0).max(100).default(1),
    max: z.int().min(1).max(100).default(4),
    targetConcurrency: z.int().min(1).max(10_000).default(4).describe('requests in flight per replica above which another is started'),
    idleToZeroSeconds: z.int().min(1).max(30 * 24 * 3600).nullable().default(null).describe('scale to zero after this long without a request (null: never)'),
  })
  .strict();
export type EndpointSubmissionInput = z.input<typeof EndpointSubmission>;

/** `POST /v1/endpoints/{name}`: a new version (a rolling update) or new scaling bounds. */
export const EndpointChange = z
  .object({
    version: z.string().min(1).max(64).optional(),
    min: z.int().min(0).max(100).optional(),
    max: z.int().min(1).max(100).optional(),
    idleToZeroSeconds: z.int().min(1).max(30 * 24 * 3600).nullable().optional(),
  })
  .strict();
export type EndpointChangeInput = z.input<typeof EndpointChange>;

export const ReplicaResource = z.object({
  jobId: z.string(),
  version: z.string(),
  state: z.string(),
  region: z.string(),
  center: z.string().nullable(),
  accelerator: z.string().nullable(),
  address: z.string().nullable(),
  ready: z.boolean(),
  draining: z.boolean(),
  inflight: z.number(),
  capacity: z.number(),
  /** Why this region and pool for the callers' region (latency first, then cost and carbon). */
  placement: z.string(),
});
export type ReplicaResource = z.infer<typeof ReplicaResource>;

export const EndpointResource = z.object({
  id: z.string(),
  name: z.string(),
  org: z.string(),
  app: z.string(),
  version: z.string(),
  region: z.string(),
  url: z.string().describe('the gateway path: POST /e/NAME/generate'),
  min: z.number(),
  max: z.number(),
  targetConcurrency: z.number(),
  idleToZeroSeconds: z.number().nullable(),
  replicas: z.array(ReplicaResource),
  ready: z.number(),
  scaling: z.string().describe("the autoscaler's last decision and why"),
  requests: z.number(),
  failedRequests: z.number(),
  tokens: z.number(),
  coldStarts: z.number(),
  price: z.object({ fenPerRequest: z.number(), fenPer1kTokens: z.number() }).describe("what a call costs (the product's serving terms when the endpoint was created); 0 and 0: free"),
  unbilledFen: z.number().describe('calls counted in the store and not charged yet (billing on: charged each pass of the leader)'),
  latency: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable().describe('seconds, over the last 2,048 requests through this server'),
  createdAt: z.string(),
});
export type EndpointResource = z.infer<typeof EndpointResource>;

export const EndpointList = z.object({ items: z.array(EndpointResource) });
export type EndpointList = z.infer<typeof EndpointList>;
