-- 0006: batch submission, job arrays, and the indexes a fair, bounded scheduling pass reads.
-- A job array's elements share `array_id` (the id of its first element, as Slurm's
-- SLURM_ARRAY_JOB_ID) and each has its `array_index`. A batch's jobs share `batch_id` (the id of
-- its first job), so a retried batch with the same Idempotency-Key finds all of them again.
ALTER TABLE jobs ADD COLUMN array_id text;
ALTER TABLE jobs ADD COLUMN array_index integer;
ALTER TABLE jobs ADD COLUMN batch_id text;
CREATE INDEX jobs_batch ON jobs (batch_id, id) WHERE batch_id IS NOT NULL;

-- A pass picks each org's queued jobs by priority, then age, up to that org's fair quota; this index
-- answers "the first k queued jobs of org o" without touching the others (a million of one org).
CREATE INDEX jobs_queued_by_org ON jobs (org_id, priority DESC, id) WHERE state = 'queued';
-- Admission takes each org's oldest submitted jobs in bounded slices.
CREATE INDEX jobs_submitted_by_org ON jobs (org_id, id) WHERE state = 'submitted';

-- A key given to a batch answers with the whole batch (every job with batch_id = job_id).
ALTER TABLE idempotency_keys ADD COLUMN batch boolean NOT NULL DEFAULT false;

-- Leases by cursor: each placement takes the next `lease_seq`, and an agent's long poll asks for the
-- placed jobs after the last one it got, so a center holding hundreds of placed jobs is not sent
-- all of them again on every poll. Placements are made one pass at a time under the scheduler's
-- advisory lock, so sequence order is commit order and a cursor never skips a placement.
CREATE SEQUENCE jobs_lease_seq;
ALTER TABLE jobs ADD COLUMN lease_seq bigint;
CREATE INDEX jobs_placed_lease ON jobs (center_id, lease_seq) WHERE state = 'placed';
