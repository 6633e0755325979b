-- 0009: the billing rules' tables (src/ledger's pricing, metering, vouchers, budgets and app fees).
-- The ledger's accounts and transfers are in 0008; these tables hold the terms that decide the
-- amounts, and the records that must be unique for a rule to hold (one subsidy per job, one alert
-- per threshold and period, one usage event per id). Money is bigint fen, shares and factors are
-- integer basis points (10000 = 100%), as in src/ledger.

-- A pool's price book, versioned: a job is charged at the version in force when it was placed, so
-- versions are only ever added, never rewritten.
CREATE TABLE price_book_versions (
  pool_id                   text NOT NULL REFERENCES pools(id),
  version                   integer NOT NULL CHECK (version > 0),
  effective_from            timestamptz NOT NULL,
  fen_per_accelerator_hour  bigint NOT NULL CHECK (fen_per_accelerator_hour >= 0),
  fen_per_core_hour         bigint NOT NULL CHECK (fen_per_core_hour >= 0),
  fen_per_gib_hour          bigint NOT NULL CHECK (fen_per_gib_hour >= 0),
  -- { factorsBps: number[24], utcOffsetHours } or null for one price around the clock
  time_of_use               jsonb,
  -- Slurm-style TRES billing weights { milliPerAccelerator, milliPerCore, milliPerGiB, mode } or null
  billing_weights           jsonb,
  created_at                timestamptz NOT NULL,
  PRIMARY KEY (pool_id, version),
  UNIQUE (pool_id, effective_from)
);

-- A voucher program (算力券 / 训力券) as its notice writes it.
CREATE TABLE voucher_programs (
  id                    text PRIMARY KEY,
  name                  text NOT NULL UNIQUE,
  funding_kind          text NOT NULL CHECK (funding_kind IN ('per-voucher', 'pool')),
  -- the face value of each org's voucher, or the whole pool
  funding_fen           bigint NOT NULL CHECK (funding_fen >= 0),
  co_pay_bps            integer NOT NULL CHECK (co_pay_bps BETWEEN 0 AND 10000),
  -- { category: bps } overrides, e.g. { "model": 5000 }
  co_pay_bps_by_category jsonb NOT NULL DEFAULT '{}',
  -- { domesticOnly, categories, regions, centers }
  scope                 jsonb NOT NULL,
  valid_from            timestamptz NOT NULL,
  valid_until           timestamptz NOT NULL,
  org_annual_cap_fen    bigint CHECK (org_annual_cap_fen >= 0),
  utc_offset_minutes    integer NOT NULL DEFAULT 480,
  created_at            timestamptz NOT NULL,
  CHECK (valid_until > valid_from)
);

-- Granted credit (from a program or an admin): the terms; the amounts move in the ledger.
CREATE TABLE credit_grants (
  id          text PRIMARY KEY,
  org_id      text NOT NULL REFERENCES orgs(id),
  program_id  text REFERENCES voucher_programs(id),
  amount_fen  bigint NOT NULL CHECK (amount_fen > 0),
  -- lower is spent first
  priority    integer NOT NULL DEFAULT 0,
  expires_at  timestamptz,
  granted_at  timestamptz NOT NULL
);
CREATE INDEX credit_grants_org ON credit_grants (org_id, priority, expires_at);

-- What a program paid towards a job's bill, with the evidence (usage, bill lines, co-pay share).
-- No double subsidy: unique per job and program, and unique per job across programs, so a second
-- program (or a retried settlement) cannot pay for the same job, whatever the application does.
CREATE TABLE voucher_redemptions (
  id          text PRIMARY KEY,
  program_id  text NOT NULL REFERENCES voucher_programs(id),
  org_id      text NOT NULL REFERENCES orgs(id),
  job_id      text NOT NULL,
  amount_fen  bigint NOT NULL CHECK (amount_fen > 0),
  at          timestamptz NOT NULL,
  evidence    jsonb NOT NULL,
  UNIQUE (job_id, program_id),
  UNIQUE (job_id)
);
-- the annual cap sums an org's redemptions of a program over a year
CREATE INDEX voucher_redemptions_org ON voucher_redemptions (org_id, program_id, at);

CREATE TABLE budgets (
  id                 text PRIMARY KEY,
  org_id             text NOT NULL REFERENCES orgs(id),
  -- null: the whole org's budget
  project_id         text,
  limit_fen          bigint NOT NULL CHECK (limit_fen >= 0),
  period_kind        text NOT NULL CHECK (period_kind IN ('month', 'window')),
  utc_offset_minutes integer NOT NULL DEFAULT 480,
  window_from        timestamptz,
  window_until       timestamptz,
  thresholds_bps     jsonb NOT NULL DEFAULT '[8000, 10000]',
  on_exhaustion      text NOT NULL CHECK (on_exhaustion IN ('finish', 'stop-at-limit')),
  created_at         timestamptz NOT NULL,
  CHECK (period_kind = 'month' OR (window_from IS NOT NULL AND window_until > window_from))
);
CREATE INDEX budgets_org ON budgets (org_id, project_id);

-- An alert fires once per budget, period and threshold: the primary key is the "once".
CREATE TABLE budget_alerts (
  budget_id      text NOT NULL REFERENCES budgets(id),
  period_from    timestamptz NOT NULL,
  threshold_bps  integer NOT NULL,
  spent_fen      bigint NOT NULL,
  fired_at       timestamptz NOT NULL,
  PRIMARY KEY (budget_id, period_from, threshold_bps)
);

-- A store product's price, charged on top of the compute, and how it is split.
CREATE TABLE app_prices (
  product_id     text PRIMARY KEY REFERENCES products(id),
  kind           text NOT NULL CHECK (kind IN ('free', 'per-run', 'per-hour')),
  -- fen per run or per hour (0 when free)
  fen            bigint NOT NULL CHECK (fen >= 0),
  provider_bps   integer NOT NULL CHECK (provider_bps >= 0),
  center_bps     integer NOT NULL CHECK (center_bps >= 0),
  operator_bps   integer NOT NULL CHECK (operator_bps >= 0),
  updated_at     timestamptz NOT NULL,
  CHECK (provider_bps + center_bps + operator_bps = 10000),
  CHECK (kind <> 'free' OR fen = 0)
);

-- Usage reports from agents; the event id makes a retried report a no-op.
CREATE TABLE usage_events (
  event_id     text PRIMARY KEY,
  job_id       text NOT NULL,
  attempt      integer NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('started', 'ended')),
  at           timestamptz NOT NULL,
  nodes        integer NOT NULL CHECK (nodes >= 0),
  received_at  timestamptz NOT NULL
);
CREATE INDEX usage_events_job ON usage_events (job_id, attempt);
