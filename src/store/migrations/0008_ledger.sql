-- 0008: the double-entry ledger (src/ledger, src/store/ledger.ts). Amounts are integer fen (bigint).
-- Balances are kept on the account row for speed and are always derivable from ledger_transfers;
-- the CHECK constraints repeat the accounts' floors as a second line of defence behind the validator.
CREATE TABLE ledger_accounts (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('org-paid', 'org-granted', 'center-earnings', 'provider-earnings',
    'operator-fees', 'voucher-receivable', 'world')),
  owner_id text NOT NULL,
  flag text NOT NULL CHECK (flag IN ('debits_must_not_exceed_credits', 'credits_must_not_exceed_debits', 'none')),
  debits_pending bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  debits_posted bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
  credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  credits_posted bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
  created_at timestamptz NOT NULL,
  CONSTRAINT ledger_accounts_debit_floor
    CHECK (flag <> 'debits_must_not_exceed_credits' OR debits_pending + debits_posted <= credits_posted),
  CONSTRAINT ledger_accounts_credit_floor
    CHECK (flag <> 'credits_must_not_exceed_debits' OR credits_pending + credits_posted <= debits_posted)
);
-- One account of each kind per owner: the engine finds an org's wallet by (kind, org id).
CREATE UNIQUE INDEX ledger_accounts_owner ON ledger_accounts (owner_id, kind);

-- Immutable but for a hold's `status` (pending → posted | voided | expired, once). `seq` orders
-- transfers as they were written (timestamps from the Clock need not be unique).
CREATE TABLE ledger_transfers (
  id text PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  -- No foreign keys to ledger_accounts: createTransfers holds both accounts locked when it writes
  -- (so they exist), accounts are never deleted, and two key checks per row cost a third of a batch.
  debit_account_id text NOT NULL,
  credit_account_id text NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  code text NOT NULL,
  user_data text CHECK (length(user_data) <= 128),
  phase text NOT NULL CHECK (phase IN ('single', 'pending', 'post_pending', 'void_pending')),
  linked boolean NOT NULL DEFAULT false,
  pending_id text REFERENCES ledger_transfers (id),
  timeout_seconds integer NOT NULL DEFAULT 0 CHECK (timeout_seconds >= 0),
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  status text CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
  CHECK (debit_account_id <> credit_account_id),
  CHECK ((phase = 'pending') = (status IS NOT NULL)),
  CHECK ((phase IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL))
);
-- A hold is posted or voided once: a second line of defence behind the validator's status check.
CREATE UNIQUE INDEX ledger_transfers_pending_once ON ledger_transfers (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account_id, seq);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account_id, seq);
-- expirePending finds the holds past their timeout without reading the rest.
CREATE INDEX ledger_transfers_due ON ledger_transfers (expires_at) WHERE status = 'pending' AND expires_at IS NOT NULL;
