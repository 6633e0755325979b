import { useQueries, useQuery } from '@tanstack/react-query';
import type { JobResource } from '../../src/api/client/schemas.js';
import { TERMINAL_STATES, type JobState } from '../../src/core/job-state.js';
import type { ChargeRow } from '../../src/store/job-charges.js';
import { useClient } from './auth.js';

/** True once the job's state will not change again. */
export const isFinal = (job: Pick<JobResource, 'state'>) => TERMINAL_STATES.has(job.state);

export const STATE_COLORS: Readonly<Record<JobState, string>> = {
  submitted: 'default',
  queued: 'gold',
  placed: 'cyan',
  running: 'processing',
  succeeded: 'success',
  failed: 'error',
  cancelled: 'default',
};

/** center/pool → the pool's chip (null: a CPU pool), from GET /v1/centers. */
export function usePoolChips(): ReadonlyMap<string, string | null> {
  const client = useClient();
  const centers = useQuery({ queryKey: ['centers'], queryFn: () => client.centers(), staleTime: 30_000 });
  const map = new Map<string, string | null>();
  for (const c of centers.data?.items ?? []) for (const p of c.pools) map.set(`${c.name}/${p.name}`, p.accelerator);
  return map;
}

export type Charge = ChargeRow;

/** What each job has cost so far (the sum over its attempts: settled bills, or holds while running). */
export function useJobCosts(jobs: readonly JobResource[]): ReadonlyMap<string, number> {
  const client = useClient();
  const started = jobs.filter((j) => j.startedAt !== null || j.center !== null);
  const results = useQueries({
    queries: started.map((j) => ({
      queryKey: ['charges', j.id],
      queryFn: () => client.request<{ items: Charge[] }>('GET', `/v1/jobs/${encodeURIComponent(j.id)}/charges`),
      staleTime: isFinal(j) ? Infinity : 5_000,
      refetchInterval: isFinal(j) ? (false as const) : 5_000,
    })),
  });
  const costs = new Map<string, number>();
  started.forEach((j, i) => {
    const items = results[i]?.data?.items;
    if (items) costs.set(j.id, items.reduce((s, c) => s + (c.state === 'settled' ? c.bill : c.computeHold + c.appFeeHold), 0));
  });
  return costs;
}
