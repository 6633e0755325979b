-- 0002: what the placement engine weighs beyond capacity: data, links between regions, fair shares,
-- and a job's limits and run-time estimate.

-- Datasets: content that lives in centers. A job's inputs are staged in from the nearest replica.
CREATE TABLE datasets (
  id          text PRIMARY KEY,
  org_id      text NOT NULL REFERENCES orgs(id),
  name        text NOT NULL,
  bytes       bigint NOT NULL CHECK (bytes >= 0),
  created_at  timestamptz NOT NULL,
  UNIQUE (org_id, name)
);

CREATE TABLE dataset_replicas (
  dataset_id  text NOT NULL REFERENCES datasets(id),
  center_id   text NOT NULL REFERENCES centers(id),
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (dataset_id, center_id)
);

-- Network links between regions (directed; the engine mirrors a missing reverse link).
CREATE TABLE region_links (
  from_region         text NOT NULL,
  to_region           text NOT NULL,
  bandwidth_mbps      integer NOT NULL CHECK (bandwidth_mbps > 0),
  latency_ms          double precision NOT NULL CHECK (latency_ms >= 0),
  egress_fen_per_gb   bigint NOT NULL CHECK (egress_fen_per_gb >= 0),
  PRIMARY KEY (from_region, to_region)
);

-- Weighted fair share across orgs (DRF): an org with weight 2 is entitled to twice the share.
ALTER TABLE orgs ADD COLUMN share_weight double precision NOT NULL DEFAULT 1 CHECK (share_weight > 0);

ALTER TABLE jobs ADD COLUMN runtime_seconds integer;
ALTER TABLE jobs ADD COLUMN reference_accelerator text;
ALTER TABLE jobs ADD COLUMN forbidden_accelerators jsonb NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN allowed_regions jsonb NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN deadline timestamptz;
ALTER TABLE jobs ADD COLUMN budget_fen bigint;
ALTER TABLE jobs ADD COLUMN inputs jsonb NOT NULL DEFAULT '[]';
-- an app's adaptation matrix (accelerator key → efficiency); null for a raw command
ALTER TABLE jobs ADD COLUMN adaptation jsonb;
-- explicit objective weights { cost, time, carbon } when `objective` is 'weights'
ALTER TABLE jobs ADD COLUMN objective_weights jsonb;
