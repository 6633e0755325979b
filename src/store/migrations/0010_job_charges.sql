-- 0010: one row per job attempt that billing touched (src/engine/billing). Written in the same
-- transaction as the placement that holds the money, and updated in the same transaction as the
-- run's end that settles it, so a job never ends without its settlement and is never settled twice
-- (the update is guarded by state = 'held'; the primary key is the "at most once per attempt").
-- The statement and usage reports read the settled rows (the bill, the voucher share, the app fee
-- split); the money itself is in ledger_transfers.
CREATE TABLE job_charges (
  job_id              text NOT NULL,
  attempt             integer NOT NULL CHECK (attempt > 0),
  org_id              text NOT NULL,
  user_id             text NOT NULL,
  center_id           text NOT NULL,
  pool_id             text NOT NULL,
  accelerator         text,
  price_version       integer NOT NULL,
  product_id          text,
  -- the hold, split as placed: the compute part and the app fee part; from granted and from paid credit
  compute_hold_fen    bigint NOT NULL CHECK (compute_hold_fen >= 0),
  app_fee_hold_fen    bigint NOT NULL CHECK (app_fee_hold_fen >= 0),
  granted_hold_fen    bigint NOT NULL CHECK (granted_hold_fen >= 0),
  paid_hold_fen       bigint NOT NULL CHECK (paid_hold_fen >= 0),
  state               text NOT NULL CHECK (state IN ('held', 'settled')),
  placed_at           timestamptz NOT NULL,
  -- filled at settlement
  outcome             text,
  reason              text,
  started_at          timestamptz,
  ended_at            timestamptz,
  bill_fen            bigint NOT NULL DEFAULT 0,
  voucher_fen         bigint NOT NULL DEFAULT 0,
  voucher_program_id  text,
  app_fee_fen         bigint NOT NULL DEFAULT 0,
  provider_fen        bigint NOT NULL DEFAULT 0,
  operator_fen        bigint NOT NULL DEFAULT 0,
  center_fen          bigint NOT NULL DEFAULT 0,
  user_paid_fen       bigint NOT NULL DEFAULT 0,
  from_granted_fen    bigint NOT NULL DEFAULT 0,
  from_paid_fen       bigint NOT NULL DEFAULT 0,
  billing_milli_unit_hours bigint NOT NULL DEFAULT 0,
  lines               jsonb NOT NULL DEFAULT '[]',
  settled_at          timestamptz,
  PRIMARY KEY (job_id, attempt),
  CHECK (state = 'held' OR settled_at IS NOT NULL)
);
CREATE INDEX job_charges_held ON job_charges (job_id) WHERE state = 'held';
CREATE INDEX job_charges_org ON job_charges (org_id, settled_at);
