import { z } from 'zod';
import { requireUser } from '../../engine/accounts.js';
import { registerDataset, visibleDatasets } from '../../engine/datasets.js';
import { listCenters } from '../../store/centers.js';
import type { DatasetWithReplicas } from '../../store/datasets.js';
import { DatasetResource, NewDataset } from '../client/schemas.js';
import type { EngineContext } from '../../engine/context.js';
import { route } from '../route.js';

async function view(ctx: EngineContext, datasets: readonly DatasetWithReplicas[]) {
  const names = new Map((await listCenters(ctx.store.db)).map((c) => [c.id, c.name]));
  return datasets.map((d) => ({ id: d.id, name: d.name, bytes: d.bytes, centers: d.centerIds.map((id) => names.get(id) ?? id) }));
}

export const datasetRoutes = [
  route({
    method: 'post',
    path: '/v1/datasets',
    summary: 'Register a dataset and the centers holding a replica; jobs name it in `inputs` and are staged from the nearest copy.',
    tag: 'datasets',
    access: 'user',
    body: NewDataset,
    response: { status: 201, schema: DatasetResource },
    async handle({ ctx, principal, body }) {
      return (await view(ctx, [await registerDataset(ctx, requireUser(principal!), body)]))[0];
    },
  }),
  route({
    method: 'get',
    path: '/v1/datasets',
    summary: "Your org's datasets and where their replicas are.",
    tag: 'datasets',
    access: 'user',
    response: { status: 200, schema: z.object({ items: z.array(DatasetResource) }) },
    async handle({ ctx, principal }) {
      return { items: await view(ctx, await visibleDatasets(ctx, requireUser(principal!))) };
    },
  }),
];
