import { SlurmApiError } from './slurm-api.js';
import type { SlurmErrorKind } from './slurm-api.js';

export interface SlurmHttpOptions {
  /** slurmrestd's base URL, e.g. `http://127.0.0.1:6820`. */
  readonly url: string;
  /** Sent as X-SLURM-USER-NAME: the user jobs are submitted and run as. */
  readonly user: string;
  /** A JWT from `scontrol token` (or the site's issuer), sent as X-SLURM-USER-TOKEN. */
  readonly token: string;
  /** Per request; slurmrestd itself waits up to MessageTimeout for slurmctld. Default 15 s. */
  readonly timeoutMs?: number;
  /** Aborts every request in flight (the connector's close()). */
  readonly signal?: AbortSignal;
  /** For tests: a stand-in for the global fetch. */
  readonly fetch?: typeof fetch;
}

/** A parsed response that slurmrestd reported no error in. */
export type SlurmBody = Record<string, unknown>;

/*
 * Slurm error numbers that mean "not now" rather than "no" (slurm_errno.h): the rest of the ESLURM_*
 * range (2000–2999) is Slurm refusing the request itself. Outside that range are communication errors
 * (1xxx, 5xxx: 1800 "Unable to contact slurm controller", 5005 "Zero Bytes were transmitted"), -1 (what
 * v0.0.38 reports for any failed load while slurmctld is down) and errno values: all worth a retry.
 */
const ESLURM_INVALID_JOB_ID = 2017;
const RETRYABLE_ESLURM: ReadonlySet<number> = new Set([
  2016, // ESLURM_NODES_BUSY: what sbatch itself retries on
]);
/** slurmrestd's own "could not parse your request" (v0.0.38: 9001 "Failure during parsing"). */
const PARSE_FAILURE = 9001;

/** The HTTP side of every adapter: headers, timeouts, JSON, and the one place errors are classified. */
export class SlurmHttp {
  readonly url: string;
  readonly #user: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: SlurmHttpOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#user = options.user;
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#signal = options.signal;
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * Sends one request and resolves to its JSON body when slurmrestd reports success (2xx and an empty
   * `errors` list); rejects with a classified SlurmApiError otherwise. `what` names the call in messages.
   */
  async call(method: 'GET' | 'POST' | 'DELETE', path: string, what: string, body?: unknown): Promise<SlurmBody> {
    return this.check(what, await this.raw(method, path, what, body));
  }

  /** The body of a successful answer (2xx, no `errors`); throws the classified SlurmApiError for any other. */
  check(what: string, answer: { readonly status: number; readonly json: SlurmBody | null }): SlurmBody {
    const errors = errorsOf(answer.json);
    if (answer.status >= 200 && answer.status < 300 && errors.length === 0) return answer.json ?? {};
    throw classify(what, answer.status, errors);
  }

  /**
   * Sends one request and resolves to the status and parsed body whatever the status; rejects only
   * when no answer came. `asUser` sends the request on behalf of that user (X-SLURM-USER-NAME; the
   * token must be SlurmUser's or root's for slurmrestd to allow it).
   */
  async raw(method: 'GET' | 'POST' | 'DELETE', path: string, what: string, body?: unknown, asUser?: string): Promise<{ status: number; json: SlurmBody | null }> {
    const signals = [AbortSignal.timeout(this.#timeoutMs)];
    if (this.#signal) signals.push(this.#signal);
    let response: Response;
    try {
      response = await this.#fetch(`${this.url}${path}`, {
        method,
        headers: {
          'X-SLURM-USER-NAME': asUser ?? this.#user,
          'X-SLURM-USER-TOKEN': this.#token,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      const why = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : describeFetchError(error);
      throw new SlurmApiError('unavailable', `${what}: slurmrestd at ${this.url} did not answer (${why})`, { cause: error });
    }
    const text = await response.text().catch(() => '');
    let json: SlurmBody | null = null;
    if (text.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(text);
        json = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as SlurmBody) : null;
      } catch {
        json = null; // slurmrestd answers plain text for some errors (401 "Authentication failure")
      }
      if (json === null && (response.status < 200 || response.status >= 300)) {
        throw classify(what, response.status, [{ message: text.trim().slice(0, 200), code: null }]);
      }
    }
    return { status: response.status, json };
  }
}

interface SlurmErrorEntry {
  readonly message: string;
  readonly code: number | null;
}

/** The `errors` list of a v0.0.3x body; entries carry `error_number` or `error_code` (both occur in v0.0.38). */
function errorsOf(json: SlurmBody | null): SlurmErrorEntry[] {
  const list = json?.errors;
  if (!Array.isArray(list)) return [];
  return list.map((entry: unknown) => {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const code = typeof e.error_number === 'number' ? e.error_number : typeof e.error_code === 'number' ? e.error_code : null;
    const parts = [e.error, e.description].filter((p): p is string => typeof p === 'string' && p !== '');
    return { message: parts.join(': ') || 'unspecified error', code };
  });
}

function classify(what: string, status: number, errors: readonly SlurmErrorEntry[]): SlurmApiError {
  const codes = errors.map((e) => e.code).filter((c): c is number => c !== null);
  const detail = errors.map((e) => (e.code === null ? e.message : `${e.message} [${e.code}]`)).join('; ') || 'no detail';
  let kind: SlurmErrorKind;
  if (status === 401 || status === 403) kind = 'unauthorized';
  else if (codes.includes(ESLURM_INVALID_JOB_ID)) kind = 'not-found';
  else if (codes.some((c) => c >= 2000 && c < 3000 && !RETRYABLE_ESLURM.has(c)) || codes.includes(PARSE_FAILURE)) kind = 'rejected';
  else if (status >= 400 && status < 500 && status !== 408 && status !== 429) kind = 'rejected';
  else kind = 'unavailable';
  return new SlurmApiError(kind, `${what}: ${detail} (HTTP ${status})`, { status, codes });
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  return error.message;
}
