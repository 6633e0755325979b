-- 0004: center health and price book.
-- A center whose local scheduler stops answering (its agent reports it degraded) is drained:
-- no new work; past the agent deadline its jobs are requeued elsewhere. `degraded_since` dates it.
ALTER TABLE centers ADD COLUMN degraded_since timestamptz;

-- The operator's price book: pool name → { fenPerAcceleratorHour, fenPerCoreHour }. Applied to a pool
-- when its agent first declares it (an agent declares pools; prices are the operator's).
ALTER TABLE centers ADD COLUMN pool_prices jsonb NOT NULL DEFAULT '{}';
