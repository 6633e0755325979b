-- 0001: the platform core. Numbered migrations are never edited once merged; add a new file instead.

CREATE TABLE orgs (
  id          text PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL
);

CREATE TABLE users (
  id          text PRIMARY KEY,
  org_id      text NOT NULL REFERENCES orgs(id),
  name        text NOT NULL UNIQUE,
  role        text NOT NULL CHECK (role IN ('user', 'provider', 'operator', 'admin')),
  created_at  timestamptz NOT NULL
);

CREATE TABLE centers (
  id                 text PRIMARY KEY,
  name               text NOT NULL UNIQUE,
  display_name       text NOT NULL,
  region             text NOT NULL,
  operator_org_id    text NOT NULL REFERENCES orgs(id),
  -- { priceFenPerKwh: number[24], pue, carbonKgPerKwh: number[24], utcOffsetHours }
  energy             jsonb NOT NULL,
  state              text NOT NULL CHECK (state IN ('online', 'draining', 'offline')),
  state_reason       text,
  connector          text,
  -- program names on the center's PATH as its agent reported them; null = unknown
  commands           jsonb,
  agent_session      text,
  agent_version      text,
  last_heartbeat_at  timestamptz,
  created_at         timestamptz NOT NULL
);

-- API tokens: only a SHA-256 of the secret is kept. A token belongs to a user or to a center (agent).
CREATE TABLE api_tokens (
  id            text PRIMARY KEY,
  secret_hash   text NOT NULL UNIQUE,
  user_id       text REFERENCES users(id),
  center_id     text REFERENCES centers(id),
  label         text NOT NULL,
  created_at    timestamptz NOT NULL,
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  CHECK ((user_id IS NULL) <> (center_id IS NULL))
);

CREATE TABLE pools (
  id                        text PRIMARY KEY,
  center_id                 text NOT NULL REFERENCES centers(id),
  name                      text NOT NULL,
  accelerator               text,
  accelerators_per_node     integer NOT NULL CHECK (accelerators_per_node >= 0),
  cores_per_node            integer NOT NULL CHECK (cores_per_node > 0),
  memory_mib_per_node       bigint NOT NULL CHECK (memory_mib_per_node > 0),
  nodes                     integer NOT NULL CHECK (nodes >= 0),
  fen_per_accelerator_hour  bigint NOT NULL DEFAULT 0,
  fen_per_core_hour         bigint NOT NULL DEFAULT 0,
  created_at                timestamptz NOT NULL,
  UNIQUE (center_id, name)
);

CREATE TABLE jobs (
  id                     text PRIMARY KEY,
  org_id                 text NOT NULL REFERENCES orgs(id),
  user_id                text NOT NULL REFERENCES users(id),
  name                   text NOT NULL,
  state                  text NOT NULL CHECK (state IN ('submitted', 'queued', 'placed', 'running', 'succeeded', 'failed', 'cancelled')),
  command                jsonb NOT NULL,
  env                    jsonb NOT NULL,
  workdir                text,
  nodes                  integer NOT NULL,
  accelerators_per_node  integer NOT NULL,
  cores_per_node         integer NOT NULL,
  memory_mib_per_node    bigint NOT NULL,
  walltime_seconds       integer NOT NULL,
  allowed_accelerators   jsonb NOT NULL,
  objective              text NOT NULL,
  priority               integer NOT NULL,
  max_attempts           integer NOT NULL,
  attempt                integer NOT NULL DEFAULT 0,
  center_id              text REFERENCES centers(id),
  pool_id                text REFERENCES pools(id),
  node_indices           jsonb,
  exit_code              integer,
  reason                 text,
  -- the scheduler's latest word on a job that waits (its explanation), shown by `show`
  waiting_explanation    jsonb,
  cancel_requested_at    timestamptz,
  submitted_at           timestamptz NOT NULL,
  placed_at              timestamptz,
  started_at             timestamptz,
  finished_at            timestamptz,
  updated_at             timestamptz NOT NULL
);
CREATE INDEX jobs_org_id ON jobs (org_id, id);
-- the engine's hot queries: pending work, and what each center holds
CREATE INDEX jobs_pending ON jobs (state) WHERE state IN ('submitted', 'queued');
CREATE INDEX jobs_active_center ON jobs (center_id) WHERE state IN ('placed', 'running');

CREATE TABLE placements (
  id           text PRIMARY KEY,
  job_id       text NOT NULL REFERENCES jobs(id),
  attempt      integer NOT NULL,
  center_id    text NOT NULL REFERENCES centers(id),
  pool_id      text NOT NULL REFERENCES pools(id),
  decided_at   timestamptz NOT NULL,
  -- the chosen option's estimates and the full explanation (alternatives, infeasible reasons)
  explanation  jsonb NOT NULL,
  UNIQUE (job_id, attempt)
);

CREATE TABLE job_events (
  id          bigserial PRIMARY KEY,
  job_id      text NOT NULL REFERENCES jobs(id),
  at          timestamptz NOT NULL,
  attempt     integer NOT NULL,
  from_state  text,
  to_state    text,
  message     text NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, id);

-- Output chunks as agents ship them. (job, attempt, stream, byte offset) makes a resent chunk harmless.
CREATE TABLE job_logs (
  seq         bigserial PRIMARY KEY,
  job_id      text NOT NULL REFERENCES jobs(id),
  attempt     integer NOT NULL,
  stream      text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
  byte_offset bigint NOT NULL,
  byte_length integer NOT NULL,
  data        text NOT NULL,
  at          timestamptz NOT NULL,
  UNIQUE (job_id, attempt, stream, byte_offset)
);
CREATE INDEX job_logs_job ON job_logs (job_id, seq);

CREATE TABLE idempotency_keys (
  org_id        text NOT NULL REFERENCES orgs(id),
  key           text NOT NULL,
  request_hash  text NOT NULL,
  job_id        text NOT NULL REFERENCES jobs(id),
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (org_id, key)
);
