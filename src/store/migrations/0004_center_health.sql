-- 0004: a center whose local scheduler stops answering (its agent reports it degraded) is drained:
-- no new work; past the agent deadline its jobs are requeued elsewhere. `degraded_since` dates it.
ALTER TABLE centers ADD COLUMN degraded_since timestamptz;
