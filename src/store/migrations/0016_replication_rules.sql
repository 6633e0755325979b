-- 0016: replication rules (docs/data.md), after Rucio's: "COPIES replicas of this dataset at centers
-- of SCOPE until EXPIRES_AT". The control loop keeps each active rule's replicas of the dataset's
-- newest sealed version (transfers of kind 'replicate'); an active rule pins the replicas it counts
-- on (never evicted); once expired or deleted it pins nothing.
CREATE TABLE replication_rules (
  id          text PRIMARY KEY,
  org_id      text NOT NULL REFERENCES orgs(id),
  dataset_id  text NOT NULL REFERENCES datasets(id),
  copies      integer NOT NULL CHECK (copies >= 1),
  -- Where the copies may go: {"region": "ningxia"} | {"hub": "west"} | {"centers": ["ctr_…", …]}.
  scope       jsonb NOT NULL,
  state       text NOT NULL CHECK (state IN ('active', 'expired', 'deleted')),
  expires_at  timestamptz,
  created_at  timestamptz NOT NULL,
  ended_at    timestamptz
);
CREATE INDEX replication_rules_active ON replication_rules (expires_at) WHERE state = 'active';
CREATE INDEX replication_rules_by_dataset ON replication_rules (dataset_id, created_at);
