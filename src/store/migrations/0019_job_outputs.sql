-- 0019: outputs registered as a new dataset (docs/data.md, "Outputs"). A job names datasets its
-- files become: [{ "dataset": NAME, "dir": DIR relative to its workdir }]. When the job succeeds its
-- agent stores DIR's files at its center and seals them as a new version of NAME (of the job's org),
-- tracked as a transfer of kind 'output' on the job.
ALTER TABLE jobs ADD COLUMN outputs jsonb NOT NULL DEFAULT '[]';
ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN ('upload', 'replicate', 'stage-in', 'output'));
