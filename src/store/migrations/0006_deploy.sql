-- 0006: deployable control plane — token expiry and agent enrollment.

-- A token may expire; authentication refuses it after that (as it refuses a revoked one).
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;

-- Enrollment tokens: an admin creates one per center; an agent exchanges it, once, before it
-- expires, for an agent token of that center. Only a SHA-256 of the secret is kept.
CREATE TABLE enrollment_tokens (
  id              text PRIMARY KEY,
  secret_hash     text NOT NULL UNIQUE,
  center_id       text NOT NULL REFERENCES centers(id),
  label           text NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz,
  -- the agent token it was exchanged for
  agent_token_id  text REFERENCES api_tokens(id)
);
CREATE INDEX enrollment_tokens_center ON enrollment_tokens (center_id);
