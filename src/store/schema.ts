import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Kysely's view of the tables created by migrations/ (keep the two in step). */
export interface Database {
  orgs: OrgsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  enrollment_tokens: EnrollmentTokensTable;
  centers: CentersTable;
  pools: PoolsTable;
  jobs: JobsTable;
  placements: PlacementsTable;
  job_events: JobEventsTable;
  job_logs: JobLogsTable;
  idempotency_keys: IdempotencyKeysTable;
  datasets: DatasetsTable;
  dataset_replicas: DatasetReplicasTable;
  center_data_ports: CenterDataPortsTable;
  dataset_versions: DatasetVersionsTable;
  version_replicas: VersionReplicasTable;
  transfers: TransfersTable;
  replication_rules: ReplicationRulesTable;
  region_links: RegionLinksTable;
  products: ProductsTable;
  product_versions: ProductVersionsTable;
  product_search: ProductSearchTable;
  product_facet_cells: ProductFacetCellsTable;
  product_provider_cells: ProductProviderCellsTable;
  ledger_accounts: LedgerAccountsTable;
  ledger_transfers: LedgerTransfersTable;
}

/** jsonb: written as a JSON string, read back parsed. */
type Json<T> = ColumnType<T, string, string>;

export interface OrgsTable {
  id: string;
  name: string;
  created_at: Date;
  share_weight: Generated<number>;
}

export type Role = 'user' | 'provider' | 'operator' | 'admin';

export interface UsersTable {
  id: string;
  org_id: string;
  name: string;
  role: Role;
  created_at: Date;
}

export interface ApiTokensTable {
  id: string;
  secret_hash: string;
  user_id: string | null;
  center_id: string | null;
  label: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  expires_at: Date | null;
}

export interface EnrollmentTokensTable {
  id: string;
  secret_hash: string;
  center_id: string;
  label: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  agent_token_id: string | null;
}

export interface EnergyJson {
  priceFenPerKwh: number[];
  pue: number;
  carbonKgPerKwh: number[];
  utcOffsetHours: number;
}

export interface CentersTable {
  id: string;
  name: string;
  display_name: string;
  region: string;
  operator_org_id: string;
  energy: Json<EnergyJson>;
  state: 'online' | 'draining' | 'offline';
  state_reason: string | null;
  connector: string | null;
  commands: Json<string[] | null>;
  agent_session: string | null;
  agent_version: string | null;
  last_heartbeat_at: Date | null;
  degraded_since: Date | null;
  pool_prices: ColumnType<Record<string, { fenPerAcceleratorHour: number; fenPerCoreHour: number }>, string | undefined, string>;
  created_at: Date;
}

export interface PoolsTable {
  id: string;
  center_id: string;
  name: string;
  accelerator: string | null;
  accelerators_per_node: number;
  cores_per_node: number;
  memory_mib_per_node: number;
  nodes: number;
  fen_per_accelerator_hour: Generated<number>;
  fen_per_core_hour: Generated<number>;
  created_at: Date;
}

export interface JobsTable {
  id: string;
  org_id: string;
  user_id: string;
  name: string;
  state: 'submitted' | 'queued' | 'placed' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  command: Json<string[]>;
  env: Json<Record<string, string>>;
  workdir: string | null;
  nodes: number;
  accelerators_per_node: number;
  cores_per_node: number;
  memory_mib_per_node: number;
  walltime_seconds: number;
  allowed_accelerators: Json<string[]>;
  objective: string;
  priority: number;
  max_attempts: number;
  attempt: Generated<number>;
  center_id: string | null;
  pool_id: string | null;
  node_indices: Json<number[] | null>;
  exit_code: number | null;
  reason: string | null;
  waiting_explanation: Json<unknown>;
  runtime_seconds: number | null;
  reference_accelerator: string | null;
  forbidden_accelerators: ColumnType<string[], string | undefined, string>;
  allowed_regions: ColumnType<string[], string | undefined, string>;
  deadline: Date | null;
  budget_fen: number | null;
  inputs: ColumnType<string[], string | undefined, string>;
  /** Datasets its files become when it succeeds (migration 0019): `dir` is relative to its workdir. */
  outputs: ColumnType<{ dataset: string; dir: string }[], string | undefined, string>;
  adaptation: ColumnType<Record<string, number> | null, string | undefined, string>;
  objective_weights: ColumnType<{ cost: number; time: number; carbon: number } | null, string | undefined, string>;
  app_version_id: string | null;
  speed_metric: ColumnType<'fp16' | 'fp32', 'fp16' | 'fp32' | undefined, 'fp16' | 'fp32'>;
  app_params: ColumnType<Record<string, unknown> | null, string | undefined, string>;
  command_variants: ColumnType<Record<string, { command: string[]; env: Record<string, string> }> | null, string | undefined, string>;
  files: ColumnType<Record<string, string>, string | undefined, string>;
  /** A job array's first element's id, and this element's index (null for plain jobs). */
  array_id: ColumnType<string | null, string | null | undefined, string | null>;
  array_index: ColumnType<number | null, number | null | undefined, number | null>;
  /** The first job of the batch this job came in (null when submitted alone). */
  batch_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Set from jobs_lease_seq when placed: the order agents receive leases in (their poll cursor). */
  lease_seq: ColumnType<number | null, number | null | undefined, number | null>;
  /** The maximum bill in fen, computed at admission when billing is on (null when it was off). */
  max_bill_fen: ColumnType<number | null, number | null | undefined, number | null>;
  /** 0015: the org's project the job counts against (budgets, usage), or null. */
  project: ColumnType<string | null, string | null | undefined, string | null>;
  cancel_requested_at: Date | null;
  submitted_at: Date;
  placed_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export interface PlacementsTable {
  id: string;
  job_id: string;
  attempt: number;
  center_id: string;
  pool_id: string;
  decided_at: Date;
  explanation: Json<unknown>;
}

export interface JobEventsTable {
  id: Generated<number>;
  job_id: string;
  at: Date;
  attempt: number;
  from_state: string | null;
  to_state: string | null;
  message: string;
}

export interface JobLogsTable {
  seq: Generated<number>;
  job_id: string;
  attempt: number;
  stream: 'stdout' | 'stderr';
  byte_offset: number;
  byte_length: number;
  data: string;
  at: Date;
}

export interface IdempotencyKeysTable {
  org_id: string;
  key: string;
  request_hash: string;
  job_id: string;
  created_at: Date;
  /** The key was given to a batch: `job_id` is its first job, whose id is every job's batch_id. */
  batch: ColumnType<boolean, boolean | undefined, boolean>;
}

export type JobRow = Selectable<JobsTable>;
export type NewJob = Insertable<JobsTable>;
export type CenterRow = Selectable<CentersTable>;
export type PoolRow = Selectable<PoolsTable>;
export type UserRow = Selectable<UsersTable>;

export interface DatasetsTable {
  id: string;
  org_id: string;
  name: string;
  bytes: number;
  created_at: Date;
}

export interface DatasetReplicasTable {
  dataset_id: string;
  center_id: string;
  created_at: Date;
}

/** The data plane (migration 0011, docs/data.md). */
export interface CenterDataPortsTable {
  center_id: string;
  url: string;
  grant_key: string;
  updated_at: Date;
}

export interface DatasetVersionsTable {
  id: string;
  dataset_id: string;
  version: number;
  state: 'open' | 'sealed';
  digest: string;
  manifest: Json<{ chunkBytes: number; files: { path: string; bytes: number; chunks: string[] }[] }>;
  bytes: number;
  center_id: string;
  created_at: Date;
  sealed_at: Date | null;
}

export interface VersionReplicasTable {
  version_id: string;
  center_id: string;
  state: 'pending' | 'complete';
  created_at: Date;
  last_used_at: Date;
}

export type RuleScope = { readonly region: string } | { readonly hub: 'east' | 'west' } | { readonly centers: readonly string[] };
export type RuleState = 'active' | 'expired' | 'deleted';

export interface ReplicationRulesTable {
  id: string;
  org_id: string;
  dataset_id: string;
  copies: number;
  scope: Json<RuleScope>;
  state: RuleState;
  expires_at: Date | null;
  created_at: Date;
  ended_at: Date | null;
}

/** `output`: a job's output files sealed as a new version at its center (migration 0019). */
export type TransferKind = 'upload' | 'replicate' | 'stage-in' | 'output';
export type TransferState = 'queued' | 'running' | 'done' | 'failed';

export interface TransfersTable {
  id: string;
  org_id: string;
  version_id: string;
  kind: TransferKind;
  to_center_id: string;
  job_id: string | null;
  state: TransferState;
  bytes_total: number;
  bytes_moved: Generated<number>;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}
export type TransferRow = Selectable<TransfersTable>;

export interface RegionLinksTable {
  from_region: string;
  to_region: string;
  bandwidth_mbps: number;
  latency_ms: number;
  egress_fen_per_gb: number;
}

export interface ProductsTable {
  id: string;
  provider_org_id: string;
  name: string;
  title: string;
  summary: string;
  description: string;
  category: string;
  tags: Json<string[]>;
  licence: string;
  visibility: 'public' | 'org';
  families: ColumnType<string[], string | undefined, string>;
  launches: Generated<number>;
  listed: Generated<boolean>;
  search_text: string;
  search_vector: ColumnType<string, unknown, unknown>;
  created_at: Date;
  updated_at: Date;
}

/**
 * One narrow row per listed product, for search only; written by triggers on `products` (0005),
 * never by the application.
 */
export interface ProductSearchTable {
  product_id: string;
  provider_org_id: string;
  category: string;
  /** Bit mask of accelerator families (bit i: ACCELERATOR_FAMILIES[i]). */
  families: number;
  public: boolean;
  launches: number;
  created_at: Date;
  search_vector: ColumnType<string, never, never>;
}

/** Listed public products per (category, family mask); trigger-maintained (0005). */
export interface ProductFacetCellsTable {
  category: string;
  families: number;
  n: number;
}

/** Listed public products per (provider, category); trigger-maintained (0005). */
export interface ProductProviderCellsTable {
  provider_org_id: string;
  category: string;
  n: number;
}

export interface ProductVersionsTable {
  id: string;
  product_id: string;
  version: string;
  status: 'draft' | 'in-review' | 'listed' | 'delisted';
  manifest: Json<unknown>;
  source: string;
  review_note: string | null;
  created_at: Date;
  listed_at: Date | null;
}

// ---- billing (0009): the terms src/ledger's pricing, voucher, budget and app-fee rules read ----

/** The billing tables of 0009; the `Database` interface above does not list them, so repositories use `BillingDatabase`. */
// A type, not an interface: Kysely's withTables<T>() needs T's implicit index signature.
export type BillingTables = {
  price_book_versions: PriceBookVersionsTable;
  voucher_programs: VoucherProgramsTable;
  credit_grants: CreditGrantsTable;
  voucher_redemptions: VoucherRedemptionsTable;
  voucher_codes: VoucherCodesTable;
  voucher_enrolments: VoucherEnrolmentsTable;
  budgets: BudgetsTable;
  budget_alerts: BudgetAlertsTable;
  app_prices: AppPricesTable;
  usage_events: UsageEventsTable;
};
export type BillingDatabase = Database & BillingTables;

export interface PriceBookVersionsTable {
  pool_id: string;
  version: number;
  effective_from: Date;
  fen_per_accelerator_hour: number;
  fen_per_core_hour: number;
  fen_per_gib_hour: number;
  time_of_use: Json<{ factorsBps: number[]; utcOffsetHours: number } | null>;
  billing_weights: Json<{ milliPerAccelerator: Record<string, number>; milliPerCore: number; milliPerGiB: number; mode: 'sum' | 'max' } | null>;
  created_at: Date;
}

export interface VoucherProgramsTable {
  id: string;
  name: string;
  funding_kind: 'per-voucher' | 'pool';
  funding_fen: number;
  co_pay_bps: number;
  co_pay_bps_by_category: Json<Record<string, number>>;
  scope: Json<{ domesticOnly: boolean; categories: string[]; regions: string[]; centers: string[] }>;
  valid_from: Date;
  valid_until: Date;
  org_annual_cap_fen: number | null;
  utc_offset_minutes: number;
  enrolment: ColumnType<'open' | 'by-code', 'open' | 'by-code' | undefined, 'open' | 'by-code'>;
  created_at: Date;
}

export interface CreditGrantsTable {
  id: string;
  org_id: string;
  program_id: string | null;
  amount_fen: number;
  priority: number;
  expires_at: Date | null;
  granted_at: Date;
}

/** 0014: a program's voucher codes, hashed; redeemed once. */
export interface VoucherCodesTable {
  code_hash: string;
  program_id: string;
  created_at: Date;
  redeemed_by_org: string | null;
  redeemed_at: Date | null;
}

/** 0014: the orgs that redeemed a code of a `by-code` program. */
export interface VoucherEnrolmentsTable {
  program_id: string;
  org_id: string;
  code_hash: string;
  enrolled_at: Date;
}

export interface VoucherRedemptionsTable {
  id: string;
  program_id: string;
  org_id: string;
  job_id: string;
  amount_fen: number;
  at: Date;
  evidence: Json<unknown>;
}

export interface BudgetsTable {
  id: string;
  org_id: string;
  project_id: string | null;
  limit_fen: number;
  period_kind: 'month' | 'window';
  utc_offset_minutes: number;
  window_from: Date | null;
  window_until: Date | null;
  thresholds_bps: Json<number[]>;
  on_exhaustion: 'finish' | 'stop-at-limit';
  created_at: Date;
}

export interface BudgetAlertsTable {
  budget_id: string;
  period_from: Date;
  threshold_bps: number;
  spent_fen: number;
  fired_at: Date;
}

export interface AppPricesTable {
  product_id: string;
  kind: 'free' | 'per-run' | 'per-hour';
  fen: number;
  provider_bps: number;
  center_bps: number;
  operator_bps: number;
  updated_at: Date;
  /** Serving terms (0018): fen per request and per 1,000 tokens through an endpoint of the product. */
  fen_per_request: ColumnType<number, number | undefined, number>;
  fen_per_1k_tokens: ColumnType<number, number | undefined, number>;
}

export interface UsageEventsTable {
  event_id: string;
  job_id: string;
  attempt: number;
  kind: 'started' | 'ended';
  at: Date;
  nodes: number;
  received_at: Date;
}

/** Ledger accounts (0008): balances in fen; kind and flag as src/ledger/model.ts names them. */
export interface LedgerAccountsTable {
  id: string;
  kind: string;
  owner_id: string;
  flag: string;
  debits_pending: ColumnType<number, number | undefined, number>;
  debits_posted: ColumnType<number, number | undefined, number>;
  credits_pending: ColumnType<number, number | undefined, number>;
  credits_posted: ColumnType<number, number | undefined, number>;
  created_at: Date;
}

/** Ledger transfers (0008): immutable but for a hold's status. */
export interface LedgerTransfersTable {
  id: string;
  seq: Generated<number>;
  debit_account_id: string;
  credit_account_id: string;
  amount: number;
  code: string;
  user_data: string | null;
  phase: string;
  linked: boolean;
  pending_id: string | null;
  timeout_seconds: number;
  created_at: Date;
  expires_at: Date | null;
  status: string | null;
}
