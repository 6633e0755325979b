/**
 * Every error a user can see has a stable `code` (part of the API contract: clients branch on it),
 * an HTTP status, a message that names the value, and where it applies the `field` and a `hint`
 * with the fix. `retryable` tells a client whether the same request may succeed later.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, retryable: false },
  invalid_json: { status: 400, retryable: false },
  unknown_field: { status: 400, retryable: false },
  invalid_field: { status: 400, retryable: false },
  unauthenticated: { status: 401, retryable: false },
  forbidden: { status: 403, retryable: false },
  not_found: { status: 404, retryable: false },
  job_not_found: { status: 404, retryable: false },
  center_not_found: { status: 404, retryable: false },
  user_not_found: { status: 404, retryable: false },
  token_not_found: { status: 404, retryable: false },
  product_not_found: { status: 404, retryable: false },
  conflict: { status: 409, retryable: false },
  version_immutable: { status: 409, retryable: false },
  invalid_status_change: { status: 409, retryable: false },
  idempotency_key_reused: { status: 409, retryable: false },
  job_already_finished: { status: 409, retryable: false },
  agent_session_expired: { status: 409, retryable: true },
  log_gap: { status: 409, retryable: false },
  payload_too_large: { status: 413, retryable: false },
  rate_limited: { status: 429, retryable: true },
  quota_exceeded: { status: 429, retryable: true },
  // Billing (src/engine/billing): the job's maximum bill exceeds the wallet, or a budget.
  insufficient_funds: { status: 402, retryable: false },
  over_budget: { status: 422, retryable: false },
  output_limit_reached: { status: 413, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  command_not_found: { status: 422, retryable: false },
  invalid_manifest: { status: 422, retryable: false },
  invalid_parameter: { status: 400, retryable: false },
  not_runnable: { status: 422, retryable: false },
  invalid_report: { status: 422, retryable: false },
  unsatisfiable: { status: 422, retryable: false },
  // The data plane (docs/data.md): a chunk whose bytes do not match its sha256 (send it again),
  // a center's storage without room for what is asked, a dataset version not ready where asked.
  chunk_corrupt: { status: 422, retryable: true },
  storage_full: { status: 507, retryable: true },
  dataset_not_found: { status: 404, retryable: false },
  data_not_ready: { status: 409, retryable: true },
  internal: { status: 500, retryable: true },
  unavailable: { status: 503, retryable: true },
  // Inference endpoints (src/engine/serving): none of its replicas answered, or none became ready in time.
  endpoint_not_found: { status: 404, retryable: false },
  replica_failed: { status: 502, retryable: true },
  no_ready_replica: { status: 503, retryable: true },
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetails {
  readonly field?: string;
  readonly hint?: string;
}

export class SuanwangError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'SuanwangError';
    this.code = code;
    this.field = details.field;
    this.hint = details.hint;
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }
  /** The wire shape: `{ error: { code, message, field?, hint? } }`. */
  toJSON(): { error: { code: ErrorCode; message: string; field?: string; hint?: string } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field === undefined ? {} : { field: this.field }),
        ...(this.hint === undefined ? {} : { hint: this.hint }),
      },
    };
  }
}
