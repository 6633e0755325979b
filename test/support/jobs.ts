import type { SuanwangClient } from '../../src/api/client/client.js';
import type { JobDetailResource } from '../../src/api/client/schemas.js';
import { isTerminal } from '../../src/core/job-state.js';
import { eventually } from './wait.js';

/** The job's detail once it has ended (succeeded, failed or cancelled), looked at every 200 ms. */
export function jobEnded(client: SuanwangClient, id: string, timeoutMs: number): Promise<JobDetailResource> {
  return eventually(`job ${id} to end`, async () => {
    const d = (await client.job(id)) as JobDetailResource;
    return isTerminal(d.job.state) ? d : null;
  }, timeoutMs, 200);
}

/** What the job has printed so far (its first page of output), both streams in order. */
export async function jobOutput(client: SuanwangClient, id: string): Promise<string> {
  return (await client.logs(id)).chunks?.map((c: { data: string }) => c.data).join('') ?? '';
}
