-- 0018: inference endpoints metered into the ledger (src/engine/serving/metering.ts), and the
-- traffic every control-plane process's gateway saw, for the leader's autoscaler.
-- Price terms: a product's (app_prices) per request and per 1,000 tokens, copied to an endpoint
-- when it is created (its terms do not change under it). billed_requests / billed_tokens say how
-- much of the endpoint's counters the ledger has charged: a charge moves them in the same
-- transaction as its transfers, so a restart neither charges twice nor loses any.
ALTER TABLE app_prices ADD COLUMN fen_per_request bigint NOT NULL DEFAULT 0 CHECK (fen_per_request >= 0);
ALTER TABLE app_prices ADD COLUMN fen_per_1k_tokens bigint NOT NULL DEFAULT 0 CHECK (fen_per_1k_tokens >= 0);
ALTER TABLE endpoints ADD COLUMN fen_per_request bigint NOT NULL DEFAULT 0 CHECK (fen_per_request >= 0);
ALTER TABLE endpoints ADD COLUMN fen_per_1k_tokens bigint NOT NULL DEFAULT 0 CHECK (fen_per_1k_tokens >= 0);
ALTER TABLE endpoints ADD COLUMN provider_org_id text REFERENCES orgs(id);
ALTER TABLE endpoints ADD COLUMN billed_requests bigint NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN billed_tokens bigint NOT NULL DEFAULT 0;

-- One row per charge (one endpoint, one pass): the statement's lines. No foreign key to the
-- endpoint: its charges outlive it.
CREATE TABLE endpoint_charges (
  id                text PRIMARY KEY,
  endpoint_id       text NOT NULL,
  endpoint_name     text NOT NULL,
  org_id            text NOT NULL REFERENCES orgs(id),
  provider_org_id   text NOT NULL REFERENCES orgs(id),
  requests          bigint NOT NULL CHECK (requests >= 0),
  tokens            bigint NOT NULL CHECK (tokens >= 0),
  amount            bigint NOT NULL CHECK (amount > 0),
  from_granted      bigint NOT NULL CHECK (from_granted >= 0),
  from_paid         bigint NOT NULL CHECK (from_paid >= 0),
  operator_fee      bigint NOT NULL CHECK (operator_fee >= 0),
  charged_at        timestamptz NOT NULL,
  CHECK (from_granted + from_paid = amount)
);
CREATE INDEX endpoint_charges_by_org ON endpoint_charges (org_id, charged_at);

-- What one control-plane process's gateway saw of an endpoint over its last pass.
CREATE TABLE endpoint_traffic (
  endpoint_id       text NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  process_id        text NOT NULL,
  at                timestamptz NOT NULL,
  peak              integer NOT NULL CHECK (peak >= 0),
  arrivals          integer NOT NULL CHECK (arrivals >= 0),
  held              integer NOT NULL CHECK (held >= 0),
  elapsed_ms        integer NOT NULL CHECK (elapsed_ms > 0),
  last_activity_at  timestamptz NOT NULL,
  PRIMARY KEY (endpoint_id, process_id)
);
