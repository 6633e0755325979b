import { z } from 'zod';
import { requireAgent, requireUser } from '../../engine/accounts.js';
import {
  agentStageIn,
  agentTransfers,
  datasetDetail,
  downloadGrant,
  listTransfers,
  registerDataPort,
  reportTransfer,
  sealUpload,
  startUpload,
  uploadTargets,
} from '../../engine/data-plane.js';
import { SuanwangError } from '../../core/errors.js';
import { centerReplicas, droppedReplicas } from '../../engine/center-replicas.js';
import { openJobOutput } from '../../engine/job-outputs.js';
import { route } from '../route.js';

const sha = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256: 64 lower-case hex digits');
const Manifest = z.object({
  chunkBytes: z.number().int(),
  files: z.array(z.object({ path: z.string().max(1024), bytes: z.number().int().min(0), chunks: z.array(sha) }).strict()).max(100_000),
}).strict();
const Transfer = z.object({
  id: z.string(), kind: z.string(), dataset: z.string(), version: z.number(), center: z.string(), jobId: z.string().nullable(), state: z.string(),
  bytesTotal: z.number(), bytesMoved: z.number(), seconds: z.number().nullable(), mbPerSecond: z.number().nullable(), error: z.string().nullable(), createdAt: z.string(),
});

/** Users' side of the data plane: versions, uploads, downloads and transfers (docs/data.md). */
export const dataPlaneRoutes = [
  route({
    method: 'post',
    path: '/v1/datasets/:name/versions',
    summary: "Opens a version of a dataset (made when new) from its manifest and returns an upload grant for a center's data port; the same manifest again resumes its upload.",
    tag: 'datasets',
    access: 'user',
    body: z.object({ manifest: Manifest, center: z.string().min(1).max(128).optional() }).strict(),
    response: { status: 201, schema: null },
    async handle({ ctx, principal, params, body }) {
      return startUpload(ctx, requireUser(principal!), params.name!, body);
    },
  }),
  route({
    method: 'get',
    path: '/v1/data/ports',
    summary: "The centers an upload may go to (online, with a data port) and their data ports' URLs: a client measures its round trip to each and uploads to the nearest.",
    tag: 'datasets',
    access: 'user',
    response: { status: 200, schema: null },
    async handle({ ctx, principal }) {
      requireUser(principal!);
      return { items: (await uploadTargets(ctx)).map(({ center, region, url }) => ({ center, region, url })) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/datasets/:name/versions/:version/seal',
    summary: "Seals an uploaded version: its center checks every chunk, then it is immutable and the dataset's current content. Returns the transfer that tracks it.",
    tag: 'datasets',
    access: 'user',
    response: { status: 202, schema: null },
    async handle({ ctx, principal, params }) {
      const user = requireUser(principal!);
      const t = await sealUpload(ctx, user, params.name!, params.version!);
      return (await listTransfers(ctx, user, 1000)).find((x) => x.id === t.id);
    },
  }),
  route({
    method: 'get',
    path: '/v1/datasets/:name',
    summary: 'A dataset of your org: its versions, their sizes and the centers holding each complete.',
    tag: 'datasets',
    access: 'user',
    response: { status: 200, schema: null },
    async handle({ ctx, principal, params }) {
      return datasetDetail(ctx, requireUser(principal!), params.name!);
    },
  }),
  route({
    method: 'get',
    path: '/v1/datasets/:name/download',
    summary: 'The manifest of a sealed version (the newest unless `version`) and a read grant at a center holding it.',
    tag: 'datasets',
    access: 'user',
    query: z.object({ version: z.coerce.number().int().min(1).optional() }),
    response: { status: 200, schema: null },
    async handle({ ctx, principal, params, query }) {
      return downloadGrant(ctx, requireUser(principal!), params.name!, query.version);
    },
  }),
  route({
    method: 'get',
    path: '/v1/transfers',
    summary: "Your org's transfers (uploads being sealed, replicas, stage-ins), newest first: state, bytes, seconds, MB/s.",
    tag: 'datasets',
    access: 'user',
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
    response: { status: 200, schema: z.object({ items: z.array(Transfer) }) },
    async handle({ ctx, principal, query }) {
      return { items: await listTransfers(ctx, requireUser(principal!), query.limit) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/agent/data-port',
    summary: "An agent tells where its center's data port listens and the key grants for it are signed with.",
    tag: 'agent',
    access: 'agent',
    body: z.object({ url: z.string().url().max(512), key: z.string().max(256).describe('at least 32 characters') }).strict(),
    response: { status: 200, schema: z.object({ ok: z.literal(true) }) },
    async handle({ ctx, principal, body }) {
      if (body.key.length < 32) throw new SuanwangError('invalid_field', `key has ${body.key.length} characters`, { field: 'key', hint: 'a grant key has at least 32 characters (the agent makes 64 hex digits)' });
      await registerDataPort(ctx, requireAgent(principal!).centerId, body);
      return { ok: true };
    },
  }),
  route({
    method: 'get',
    path: '/v1/agent/transfers',
    summary: 'The transfers into this center to carry out: versions, manifests and sources with read grants.',
    tag: 'agent',
    access: 'agent',
    response: { status: 200, schema: null },
    async handle({ ctx, principal }) {
      return { items: await agentTransfers(ctx, requireAgent(principal!).centerId) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/agent/stage-in',
    summary: "A leased job's input is not at this center: its stage-in transfer (made when none is under way).",
    tag: 'agent',
    access: 'agent',
    body: z.object({ jobId: z.string().min(1).max(64), versionId: z.string().min(1).max(64) }).strict(),
    response: { status: 200, schema: null },
    async handle({ ctx, principal, body }) {
      return agentStageIn(ctx, requireAgent(principal!).centerId, body.jobId, body.versionId);
    },
  }),
  route({
    method: 'post',
    path: '/v1/agent/jobs/:id/outputs',
    summary: "A run that succeeded registers one of its job's outputs: the version (of the job's org's dataset, made when missing) its files become at this center, and the `output` transfer to report done once its chunks are stored here (which seals it).",
    tag: 'agent',
    access: 'agent',
    body: z.object({ attempt: z.number().int().min(0), dataset: z.string().min(1).max(128), manifest: Manifest }).strict(),
    response: { status: 200, schema: z.object({ transferId: z.string(), versionId: z.string(), version: z.number().int(), state: z.enum(['running', 'done']) }) },
    async handle({ ctx, principal, params, body }) {
      return openJobOutput(ctx, requireAgent(principal!).centerId, params.id!, body);
    },
  }),
  route({
    method: 'post',
    path: '/v1/agent/transfers/:id',
    summary: 'Progress or end of a transfer into this center; `done` makes the version complete here.',
    tag: 'agent',
    access: 'agent',
    body: z.object({ state: z.enum(['running', 'done', 'failed']), bytesMoved: z.number().int().min(0), error: z.string().max(2000).nullable().default(null) }).strict(),
    response: { status: 200, schema: z.object({ ok: z.literal(true) }) },
    async handle({ ctx, principal, params, body }) {
      if (body.state === 'failed' && !body.error) throw new SuanwangError('invalid_field', 'a failed transfer needs its error', { field: 'error', hint: 'say why it failed' });
      await reportTransfer(ctx, requireAgent(principal!).centerId, params.id!, body);
      return { ok: true };
    },
  }),
  route({
    method: 'get',
    path: '/v1/agent/replicas',
    summary: 'The replicas complete at this center, each with whether it may be evicted at the quota (pinned: a rule, a job reading it, the last copy).',
    tag: 'agent',
    access: 'agent',
    response: { status: 200, schema: z.object({ items: z.array(z.object({ versionId: z.string(), lastUsedAt: z.number(), pinned: z.boolean(), why: z.string().nullable() })) }) },
    async handle({ ctx, principal }) {
      return { items: await centerReplicas(ctx, requireAgent(principal!).centerId) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/agent/replicas/dropped',
    summary: 'This center evicted these replicas to make room: they are no longer held here.',
    tag: 'agent',
    access: 'agent',
    body: z.object({ versionIds: z.array(z.string().min(1).max(64)).max(10_000) }).strict(),
    response: { status: 200, schema: z.object({ dropped: z.array(z.string()) }) },
    async handle({ ctx, principal, body }) {
      return { dropped: await droppedReplicas(ctx, requireAgent(principal!).centerId, body.versionIds) };
    },
  }),
];
