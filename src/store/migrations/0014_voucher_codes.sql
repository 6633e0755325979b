-- 0014: voucher codes. A program is `open` (every org's eligible bills, as before) or `by-code`: it pays
-- only orgs that redeemed one of its codes, as programs that issue vouchers to approved applicants do.
-- Codes are kept as SHA-256 hashes (like API tokens): a database read does not give them away. A code
-- is redeemed once (the guarded update on redeemed_at); an org is enrolled in a program once.
ALTER TABLE voucher_programs ADD COLUMN enrolment text NOT NULL DEFAULT 'open' CHECK (enrolment IN ('open', 'by-code'));

CREATE TABLE voucher_codes (
  code_hash        text PRIMARY KEY,
  program_id       text NOT NULL REFERENCES voucher_programs(id),
  created_at       timestamptz NOT NULL,
  redeemed_by_org  text REFERENCES orgs(id),
  redeemed_at      timestamptz
);
CREATE INDEX voucher_codes_program ON voucher_codes (program_id);

CREATE TABLE voucher_enrolments (
  program_id   text NOT NULL REFERENCES voucher_programs(id),
  org_id       text NOT NULL REFERENCES orgs(id),
  code_hash    text NOT NULL REFERENCES voucher_codes(code_hash),
  enrolled_at  timestamptz NOT NULL,
  PRIMARY KEY (program_id, org_id)
);
