-- The jobs table is a queue as well as a history: each job's row is updated four or five times
-- (submitted → queued → placed → running → ended), and every update leaves a dead entry in the small
-- partial indexes the control loop reads every pass (jobs_pending, jobs_active_center,
-- jobs_placed_lease). Autovacuum's default waits for dead rows to reach 20% of the table: with a
-- million jobs of history, 200,000 dead entries in indexes that hold a few thousand live ones, and
-- passes that slow down with history. Vacuum it after a fixed number of dead rows instead.
-- (Without autovacuum, the control loop vacuums it itself: src/engine/maintenance.ts.)
ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000, autovacuum_analyze_scale_factor = 0.02);
