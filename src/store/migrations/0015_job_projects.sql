-- 0015: a job's project (optional, a name within its org, like Slurm's --account or a cloud project).
-- Budgets of 0009 already name a project_id: a project's budget counts the jobs of that project, the
-- org's budget all of them. Usage reports group by it.
ALTER TABLE jobs ADD COLUMN project text CHECK (project ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
CREATE INDEX jobs_org_project ON jobs (org_id, project) WHERE project IS NOT NULL;
