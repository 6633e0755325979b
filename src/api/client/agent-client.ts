import type {
  DataPortRegistration,
  TransferReport,
  TransferTask,
  HeartbeatRequest,
  HeartbeatResponse,
  LeasesResponse,
  LogReport,
  OutputOpenRequest,
  OutputOpenResponse,
  RegisterRequest,
  RegisterResponse,
  ReportsRequest,
  ReportsResponse,
  StateReport,
  StateReportResponse,
} from '../../core/agent-protocol.js';

/**
 * How an agent talks to the control plane (see agent-protocol.ts for the calls). The HTTP transport
 * is the real one; tests give the agent an in-memory one. Every call takes an optional AbortSignal so
 * that stopping an agent leaves no request behind; an aborted call rejects with the signal's reason.
 */
export interface AgentTransport {
  register(req: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse>;
  heartbeat(sessionId: string, req: HeartbeatRequest, signal?: AbortSignal): Promise<HeartbeatResponse>;
  /** Long poll: resolves when there is work, or with nothing after about `waitMs`; `after` is the previous answer's cursor. */
  leases(sessionId: string, waitMs: number, signal?: AbortSignal, after?: string): Promise<LeasesResponse>;
  reportState(sessionId: string, jobId: string, report: StateReport, signal?: AbortSignal): Promise<StateReportResponse>;
  sendLogs(sessionId: string, jobId: string, report: LogReport, signal?: AbortSignal): Promise<void>;
  /** Many runs' logs and states in one call; optional, so a transport without it makes the agent send them one by one. */
  reports?(sessionId: string, req: ReportsRequest, signal?: AbortSignal): Promise<ReportsResponse>;
  /** The data plane (docs/data.md); optional: an agent without it runs jobs without inputs only. */
  registerDataPort?(port: DataPortRegistration, signal?: AbortSignal): Promise<void>;
  transfers?(signal?: AbortSignal): Promise<TransferTask[]>;
  stageIn?(jobId: string, versionId: string, signal?: AbortSignal): Promise<TransferTask>;
  reportTransfer?(id: string, report: TransferReport, signal?: AbortSignal): Promise<void>;
  /** The replicas held at this center and which may be evicted; then the ones the agent dropped. */
  replicas?(signal?: AbortSignal): Promise<HeldReplicaInfo[]>;
  droppedReplicas?(versionIds: readonly string[], signal?: AbortSignal): Promise<void>;
  /** A succeeded run's output: the version its files become (then reportTransfer `done` seals it). */
  openOutput?(jobId: string, req: OutputOpenRequest, signal?: AbortSignal): Promise<OutputOpenResponse>;
}

export interface HeldReplicaInfo {
  readonly versionId: string;
  readonly lastUsedAt: number;
  readonly pinned: boolean;
  readonly why: string | null;
}

export interface TransportErrorDetails {
  /** HTTP status, or 0 when no answer came (network failure, timeout). */
  readonly status: number;
  /** The error code from the body (`job_not_found`…), or `network_error`, `timeout`, `invalid_response`, `http_<status>`. */
  readonly code: string;
  readonly retryable: boolean;
  readonly cause?: unknown;
}

/** A call that failed: the server said no, or did not answer. `retryable` says whether the same call may succeed later. */
export class TransportError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryable: boolean;
  constructor(message: string, details: TransportErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TransportError';
    this.status = details.status;
    this.code = details.code;
    this.retryable = details.retryable;
  }
}

/** The agent's session is gone (the server restarted, or declared the center lost): register again. */
export class SessionExpiredError extends TransportError {
  constructor(message = 'the agent session expired; register again') {
    super(message, { status: 409, code: 'agent_session_expired', retryable: true });
    this.name = 'SessionExpiredError';
  }
}

export interface HttpAgentTransportOptions {
  /** Base URL of the control plane, e.g. `https://suanwang.example.org` (a trailing `/` is fine). */
  readonly serverUrl: string;
  /** The center token, sent as `Authorization: Bearer …`. */
  readonly token: string;
  /** How long a call may take before it fails as retryable `timeout`; a long poll gets this on top of its wait. Default 30 s. */
  readonly timeoutMs?: number;
  /** For tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

/** The agent protocol over HTTP with JSON bodies, exactly as the header of agent-protocol.ts lists it. */
export class HttpAgentTransport implements AgentTransport {
  readonly #base: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: HttpAgentTransportOptions) {
    let url: URL;
    try {
      url = new URL(options.serverUrl);
    } catch {
      throw new TypeError(`serverUrl '${options.serverUrl}' is not a URL; give one such as http://localhost:8080`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`serverUrl '${options.serverUrl}' must start with http:// or https://`);
    }
    this.#base = options.serverUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** POST /v1/agent/register (the only call without a session). */
  register(req: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    return this.#call<RegisterResponse>('POST', '/v1/agent/register', null, req, signal);
  }

  /** POST /v1/agent/heartbeat. */
  heartbeat(sessionId: string, req: HeartbeatRequest, signal?: AbortSignal): Promise<HeartbeatResponse> {
    return this.#call<HeartbeatResponse>('POST', '/v1/agent/heartbeat', sessionId, req, signal);
  }

  /** GET /v1/agent/leases?waitMs=N[&after=C]; the timeout allows for the wait. */
  leases(sessionId: string, waitMs: number, signal?: AbortSignal, after?: string): Promise<LeasesResponse> {
    const wait = Math.max(0, Math.round(waitMs));
    const cursor = after !== undefined && /^\d+$/.test(after) ? `&after=${after}` : '';
    return this.#call<LeasesResponse>('GET', `/v1/agent/leases?waitMs=${wait}${cursor}`, sessionId, undefined, signal, wait + this.#timeoutMs);
  }

  /** POST /v1/agent/jobs/{jobId}/state. */
  reportState(sessionId: string, jobId: string, report: StateReport, signal?: AbortSignal): Promise<StateReportResponse> {
    return this.#call<StateReportResponse>('POST', `/v1/agent/jobs/${encodeURIComponent(jobId)}/state`, sessionId, report, signal);
  }

  /** POST /v1/agent/jobs/{jobId}/logs. */
  async sendLogs(sessionId: string, jobId: string, report: LogReport, signal?: AbortSignal): Promise<void> {
    await this.#call<unknown>('POST', `/v1/agent/jobs/${encodeURIComponent(jobId)}/logs`, sessionId, report, signal);
  }

  /** POST /v1/agent/reports. */
  reports(sessionId: string, req: ReportsRequest, signal?: AbortSignal): Promise<ReportsResponse> {
    return this.#call<ReportsResponse>('POST', '/v1/agent/reports', sessionId, req, signal);
  }

  /** POST /v1/agent/data-port. */
  async registerDataPort(port: DataPortRegistration, signal?: AbortSignal): Promise<void> {
    await this.#call<unknown>('POST', '/v1/agent/data-port', null, port, signal);
  }

  /** GET /v1/agent/transfers. */
  async transfers(signal?: AbortSignal): Promise<TransferTask[]> {
    return (await this.#call<{ items: TransferTask[] }>('GET', '/v1/agent/transfers', null, undefined, signal)).items;
  }

  /** POST /v1/agent/stage-in. */
  stageIn(jobId: string, versionId: string, signal?: AbortSignal): Promise<TransferTask> {
    return this.#call<TransferTask>('POST', '/v1/agent/stage-in', null, { jobId, versionId }, signal);
  }

  /** POST /v1/agent/transfers/{id}. */
  async reportTransfer(id: string, report: TransferReport, signal?: AbortSignal): Promise<void> {
    await this.#call<unknown>('POST', `/v1/agent/transfers/${encodeURIComponent(id)}`, null, report, signal);
  }

  /** GET /v1/agent/replicas. */
  async replicas(signal?: AbortSignal): Promise<HeldReplicaInfo[]> {
    return (await this.#call<{ items: HeldReplicaInfo[] }>('GET', '/v1/agent/replicas', null, undefined, signal)).items;
  }

  /** POST /v1/agent/jobs/{jobId}/outputs. */
  openOutput(jobId: string, req: OutputOpenRequest, signal?: AbortSignal): Promise<OutputOpenResponse> {
    return this.#call<OutputOpenResponse>('POST', `/v1/agent/jobs/${encodeURIComponent(jobId)}/outputs`, null, req, signal);
  }

  /** POST /v1/agent/replicas/dropped. */
  async droppedReplicas(versionIds: readonly string[], signal?: AbortSignal): Promise<void> {
    await this.#call<unknown>('POST', '/v1/agent/replicas/dropped', null, { versionIds }, signal);
  }

  async #call<T>(
    method: 'GET' | 'POST',
    path: string,
    sessionId: string | null,
    body: unknown,
    signal: AbortSignal | undefined,
    timeoutMs = this.#timeoutMs,
  ): Promise<T> {
    signal?.throwIfAborted();
    const what = `${method} ${path}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept: 'application/json' };
    if (sessionId !== null) headers['x-agent-session'] = sessionId;
    if (body !== undefined) headers['content-type'] = 'application/json';

    // A timer of our own (not AbortSignal.timeout) so nothing outlives the call.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    let status: number;
    let text: string;
    try {
      const response = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      if (timedOut) {
        throw new TransportError(`${what}: no answer from ${this.#base} within ${timeoutMs} ms`, {
          status: 0,
          code: 'timeout',
          retryable: true,
          cause: error,
        });
      }
      throw new TransportError(`${what}: cannot reach ${this.#base} (${describeNetworkError(error)})`, {
        status: 0,
        code: 'network_error',
        retryable: true,
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }

    if (status < 200 || status > 299) throw errorFromResponse(what, status, text);
    try {
      return (text === '' ? {} : JSON.parse(text)) as T;
    } catch (error) {
      throw new TransportError(`${what}: HTTP ${status} with a body that is not JSON: ${snippet(text)}`, {
        status,
        code: 'invalid_response',
        retryable: true, // a proxy in the way, most likely; the server itself always answers JSON
        cause: error,
      });
    }
  }
}

/**
 * An agent's first call: exchanges an enrollment token (`swe_…`, single use) for its center's agent
 * token (POST /v1/agent/enroll). Rejects with a TransportError; `retryable` false means the token is bad.
 */
export async function enrollAgent(
  serverUrl: string,
  enrollmentToken: string,
  fetchImpl: typeof fetch = (i, init) => fetch(i, init),
): Promise<{ center: string; centerId: string; agentToken: string }> {
  const base = serverUrl.replace(/\/+$/, '');
  const what = 'POST /v1/agent/enroll';
  let status: number;
  let text: string;
  try {
    const response = await fetchImpl(`${base}/v1/agent/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ enrollmentToken }),
      signal: AbortSignal.timeout(30_000),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new TransportError(`${what}: cannot reach ${base} (${describeNetworkError(error)})`, { status: 0, code: 'network_error', retryable: true, cause: error });
  }
  if (status < 200 || status > 299) throw errorFromResponse(what, status, text);
  return JSON.parse(text) as { center: string; centerId: string; agentToken: string };
}

/** The error a non-2xx answer stands for: SessionExpiredError for `agent_session_expired`, else a TransportError. */
function errorFromResponse(what: string, status: number, text: string): TransportError {
  let code = `http_${status}`;
  let message = snippet(text);
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    // not JSON: keep the status and the start of the body
  }
  if (code === 'agent_session_expired') return new SessionExpiredError(`${what}: ${message}`);
  // 408 and 429 mean "not now" as much as a 5xx does.
  const retryable = status >= 500 || status === 408 || status === 429;
  return new TransportError(`${what}: HTTP ${status} ${code}: ${message}`, { status, code, retryable });
}

function describeNetworkError(error: unknown): string {
  // undici says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is in its cause.
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return cause.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || '(empty body)';
}
