import { deleteOutputOfJobsEndedBefore } from '../store/job-logs.js';
import type { EngineContext } from './context.js';

/** Rows deleted per statement: short transactions, so the sweep never holds the store for long. */
const BATCH = 5_000;
/** Statements per sweep: a huge backlog is worked off over several sweeps, not in one go. */
const MAX_BATCHES = 200;

/**
 * Output retention: deletes the stored output of jobs that ended more than
 * `config.outputRetentionMs` ago (0 keeps everything). Returns the number of chunks deleted.
 */
export async function sweepOutputRetention(ctx: EngineContext): Promise<number> {
  if (ctx.config.outputRetentionMs <= 0) return 0;
  const cutoff = new Date(ctx.now().getTime() - ctx.config.outputRetentionMs);
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await deleteOutputOfJobsEndedBefore(ctx.store.db, cutoff, BATCH);
    total += n;
    if (n < BATCH) break;
  }
  return total;
}
