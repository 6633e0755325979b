-- 0012: inference endpoints (src/engine/serving). An endpoint is a long-running service of an app
-- (`suanwang serve textgen-mini`): its settings and its metering counters. Each replica is an
-- ordinary job (a launch of the app with serve=on) listed in endpoint_replicas with the version it
-- runs, the region it was placed for and why, and the loopback address it announced.
CREATE TABLE endpoints (
  id                   text PRIMARY KEY,
  org_id               text NOT NULL REFERENCES orgs(id),
  user_id              text NOT NULL REFERENCES users(id),
  name                 text NOT NULL,
  app                  text NOT NULL,
  version              text NOT NULL,
  params               jsonb NOT NULL,
  accelerators_per_node integer NOT NULL CHECK (accelerators_per_node >= 0),
  region               text NOT NULL,
  min_replicas         integer NOT NULL CHECK (min_replicas >= 0),
  max_replicas         integer NOT NULL CHECK (max_replicas >= 1 AND max_replicas >= min_replicas),
  target_concurrency   integer NOT NULL CHECK (target_concurrency >= 1),
  idle_to_zero_ms      bigint CHECK (idle_to_zero_ms IS NULL OR idle_to_zero_ms > 0),
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  requests             bigint NOT NULL DEFAULT 0,
  failed_requests      bigint NOT NULL DEFAULT 0,
  tokens               bigint NOT NULL DEFAULT 0,
  cold_starts          bigint NOT NULL DEFAULT 0,
  UNIQUE (org_id, name)
);

CREATE TABLE endpoint_replicas (
  job_id               text PRIMARY KEY REFERENCES jobs(id),
  endpoint_id          text NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  version              text NOT NULL,
  region               text NOT NULL,
  explanation          jsonb NOT NULL,
  address              text,
  created_at           timestamptz NOT NULL,
  draining_since       timestamptz
);
CREATE INDEX endpoint_replicas_by_endpoint ON endpoint_replicas (endpoint_id);
