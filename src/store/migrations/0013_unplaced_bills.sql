-- 0013: the maximum bill of a job, computed at admission when billing is on (src/engine/billing/
-- admission.ts). A job not yet placed holds no money; admission counts the maximum bills of the org's
-- submitted and queued jobs as spoken for, so a job that would overdraw is refused before it is
-- queued, not left waiting for funds that an earlier queued job will take. Null when billing was off.
ALTER TABLE jobs ADD COLUMN max_bill_fen bigint CHECK (max_bill_fen >= 0);
CREATE INDEX jobs_unplaced_bills ON jobs (org_id) WHERE max_bill_fen IS NOT NULL AND state IN ('submitted', 'queued');
