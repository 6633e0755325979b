import { z } from 'zod';
import { requireUser } from '../../engine/accounts.js';
import { createRule, deleteRule, listRules } from '../../engine/replication-rules.js';
import { route } from '../route.js';

const Rule = z.object({
  id: z.string(), dataset: z.string(), datasetId: z.string(), copies: z.number(), scope: z.string(), centers: z.array(z.string()), held: z.array(z.string()),
  state: z.enum(['active', 'expired', 'deleted']), expiresAt: z.string().nullable(), createdAt: z.string(), endedAt: z.string().nullable(),
});

/** Replication rules on a dataset (docs/data.md): declared, listed and deleted by its org's users. */
export const replicationRuleRoutes = [
  route({
    method: 'post',
    path: '/v1/datasets/:name/rules',
    summary: 'Declares a replication rule: `copies` replicas of the dataset at centers of one region, one hub (east|west) or a list of centers, for `days` (absent: until deleted). The control loop queues the transfers.',
    tag: 'datasets',
    access: 'user',
    body: z.object({
      copies: z.number().int(),
      region: z.string().min(1).max(64).optional(),
      hub: z.string().min(1).max(16).optional(),
      centers: z.array(z.string().min(1).max(128)).max(100).optional(),
      days: z.number().optional(),
    }).strict(),
    response: { status: 201, schema: Rule },
    async handle({ ctx, principal, params, body }) {
      return createRule(ctx, requireUser(principal!), params.name!, body);
    },
  }),
  route({
    method: 'get',
    path: '/v1/datasets/:name/rules',
    summary: "A dataset's replication rules, newest first: scope, centers in scope, which of them hold the newest version, state and expiry.",
    tag: 'datasets',
    access: 'user',
    response: { status: 200, schema: z.object({ items: z.array(Rule) }) },
    async handle({ ctx, principal, params }) {
      return { items: await listRules(ctx, requireUser(principal!), params.name!) };
    },
  }),
  route({
    method: 'delete',
    path: '/v1/rules/:id',
    summary: 'Deletes a replication rule of your org: it pins nothing from now on (its replicas stay until evicted at a full center).',
    tag: 'datasets',
    access: 'user',
    response: { status: 200, schema: Rule },
    async handle({ ctx, principal, params }) {
      return deleteRule(ctx, requireUser(principal!), params.id!);
    },
  }),
];
