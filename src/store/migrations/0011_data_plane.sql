-- 0011: the data plane (docs/data.md): dataset versions as manifests of content-addressed chunks,
-- where each version is held (replicas per version), the centers' data ports, and transfers.

-- A center's data port: where its agent serves its dataset storage, and the key grants for it are
-- signed with (the agent chose it and sends it at every registration).
CREATE TABLE center_data_ports (
  center_id   text PRIMARY KEY REFERENCES centers(id),
  url         text NOT NULL,
  grant_key   text NOT NULL,
  updated_at  timestamptz NOT NULL
);

-- A version: open while its chunks are uploaded, sealed (immutable) once the center holding it has
-- checked every chunk. `manifest`: { chunkBytes, files: [{ path, bytes, chunks: [sha256] }] }.
CREATE TABLE dataset_versions (
  id          text PRIMARY KEY,
  dataset_id  text NOT NULL REFERENCES datasets(id),
  version     integer NOT NULL CHECK (version >= 1),
  state       text NOT NULL CHECK (state IN ('open', 'sealed')),
  digest      text NOT NULL,
  manifest    jsonb NOT NULL,
  bytes       bigint NOT NULL CHECK (bytes >= 0),
  center_id   text NOT NULL REFERENCES centers(id),
  created_at  timestamptz NOT NULL,
  sealed_at   timestamptz,
  UNIQUE (dataset_id, version)
);

-- Where a version is held: `complete` once the center sealed it there (every chunk verified).
CREATE TABLE version_replicas (
  version_id    text NOT NULL REFERENCES dataset_versions(id),
  center_id     text NOT NULL REFERENCES centers(id),
  state         text NOT NULL CHECK (state IN ('pending', 'complete')),
  created_at    timestamptz NOT NULL,
  last_used_at  timestamptz NOT NULL,
  PRIMARY KEY (version_id, center_id)
);

-- Bytes moving into a center: a user's upload being sealed, a replica a rule wants, a job's stage-in.
CREATE TABLE transfers (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES orgs(id),
  version_id      text NOT NULL REFERENCES dataset_versions(id),
  kind            text NOT NULL CHECK (kind IN ('upload', 'replicate', 'stage-in')),
  to_center_id    text NOT NULL REFERENCES centers(id),
  job_id          text,
  state           text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
  bytes_total     bigint NOT NULL CHECK (bytes_total >= 0),
  bytes_moved     bigint NOT NULL DEFAULT 0 CHECK (bytes_moved >= 0),
  error           text,
  created_at      timestamptz NOT NULL,
  started_at      timestamptz,
  finished_at     timestamptz
);
CREATE INDEX transfers_active_by_center ON transfers (to_center_id, created_at) WHERE state IN ('queued', 'running');
CREATE INDEX transfers_by_org ON transfers (org_id, created_at);
