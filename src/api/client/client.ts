import type { EndpointChangeInput, EndpointList, EndpointResource, EndpointSubmissionInput } from './endpoint-schemas.js';
import type { BatchJobSubmissionInput, JobBatchResult, ApiTokenCreated, ApiTokenResource, CenterCreated, EnrollmentTokenCreated, OrgResource, UserResource, CenterResource, DatasetResource, ErrorBody, LaunchRequestInput, ProductDetail, QuoteResource, SearchResult, JobDetailResource, JobList, JobResource, JobSubmissionInput, LogPage } from './schemas.js';

/** An error answer from the API, with its stable code (see src/core/errors.ts). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The typed client of the REST API (the CLI and the portal use it; so can anyone). */
export class SuanwangClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string | undefined,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ApiError(0, 'unreachable', `cannot reach the Suanwang server at ${this.baseUrl}: ${(error as Error).cause ?? (error as Error).message}`, undefined, 'is it running? start one with `suanwang up`, or set SUANWANG_URL');
    }
    const text = await response.text();
    const data = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const e = (data as ErrorBody | undefined)?.error;
      throw new ApiError(response.status, e?.code ?? 'http_error', e?.message ?? `HTTP ${response.status}`, e?.field, e?.hint);
    }
    return data as T;
  }

  submit(job: JobSubmissionInput, idempotencyKey?: string): Promise<JobResource> {
    return this.request('POST', '/v1/jobs', job, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }
  /** Many jobs (and job arrays) in one request, all or nothing; answers with each job's id and state. */
  submitBatch(jobs: BatchJobSubmissionInput[], idempotencyKey?: string): Promise<JobBatchResult> {
    return this.request('POST', '/v1/jobs/batch', { jobs }, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }
  listJobs(query: { state?: string; limit?: number; cursor?: string; all?: boolean } = {}): Promise<JobList> {
    const q = new URLSearchParams();
    if (query.state) q.set('state', query.state);
    if (query.limit) q.set('limit', String(query.limit));
    if (query.cursor) q.set('cursor', query.cursor);
    if (query.all) q.set('all', 'true');
    return this.request('GET', `/v1/jobs${q.size ? `?${q}` : ''}`);
  }
  job(id: string): Promise<JobDetailResource> {
    return this.request('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  }
  cancel(id: string): Promise<JobResource> {
    return this.request('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`);
  }
  logs(id: string, after = 0, waitMs = 0): Promise<LogPage> {
    return this.request('GET', `/v1/jobs/${encodeURIComponent(id)}/logs?after=${after}&waitMs=${waitMs}`);
  }
  quote(job: JobSubmissionInput): Promise<QuoteResource> {
    return this.request('POST', '/v1/quote', job);
  }
  /** Creates an inference endpoint (`suanwang serve`). */
  createEndpoint(spec: EndpointSubmissionInput): Promise<EndpointResource> {
    return this.request('POST', '/v1/endpoints', spec);
  }
  listEndpoints(all = false): Promise<EndpointList> {
    return this.request('GET', `/v1/endpoints${all ? '?all=true' : ''}`);
  }
  endpoint(name: string): Promise<EndpointResource> {
    return this.request('GET', `/v1/endpoints/${encodeURIComponent(name)}`);
  }
  /** A new version (rolled out replica by replica) or new scaling bounds. */
  changeEndpoint(name: string, change: EndpointChangeInput): Promise<EndpointResource> {
    return this.request('POST', `/v1/endpoints/${encodeURIComponent(name)}`, change);
  }
  deleteEndpoint(name: string): Promise<{ deleted: string }> {
    return this.request('DELETE', `/v1/endpoints/${encodeURIComponent(name)}`);
  }
  datasets(): Promise<{ items: DatasetResource[] }> {
    return this.request('GET', '/v1/datasets');
  }
  registerDataset(d: { name: string; bytes: number; centers: string[] }): Promise<DatasetResource> {
    return this.request('POST', '/v1/datasets', d);
  }
  /** Opens a version of a dataset from its manifest; the answer has an upload grant for a center's data port (docs/data.md). */
  /** The centers an upload may go to and their data ports (GET /v1/data/ports). */
  uploadPorts(): Promise<{ items: { center: string; region: string; url: string }[] }> {
    return this.request('GET', '/v1/data/ports');
  }
  startUpload(name: string, body: { manifest: DataManifest; center?: string }): Promise<UploadStarted> {
    return this.request('POST', `/v1/datasets/${encodeURIComponent(name)}/versions`, body);
  }
  sealUpload(name: string, versionId: string): Promise<TransferResource> {
    return this.request('POST', `/v1/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(versionId)}/seal`);
  }
  dataset(name: string): Promise<DatasetDetailResource> {
    return this.request('GET', `/v1/datasets/${encodeURIComponent(name)}`);
  }
  download(name: string, version?: number): Promise<DownloadGrant> {
    return this.request('GET', `/v1/datasets/${encodeURIComponent(name)}/download${version === undefined ? '' : `?version=${version}`}`);
  }
  /** Declares a replication rule on a dataset (docs/data.md). */
  replicate(name: string, rule: { copies: number; region?: string; hub?: string; centers?: string[]; days?: number }): Promise<RuleResource> {
    return this.request('POST', `/v1/datasets/${encodeURIComponent(name)}/rules`, rule);
  }
  rules(name: string): Promise<{ items: RuleResource[] }> {
    return this.request('GET', `/v1/datasets/${encodeURIComponent(name)}/rules`);
  }
  deleteRule(id: string): Promise<RuleResource> {
    return this.request('DELETE', `/v1/rules/${encodeURIComponent(id)}`);
  }
  transfers(limit = 100): Promise<{ items: TransferResource[] }> {
    return this.request('GET', `/v1/transfers?limit=${limit}`);
  }
  searchProducts(query: { q?: string; category?: string; family?: string; provider?: string; sort?: string; limit?: number; offset?: number }): Promise<SearchResult> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
    return this.request('GET', `/v1/products${q.size ? `?${q}` : ''}`);
  }
  product(name: string): Promise<ProductDetail> {
    return this.request('GET', `/v1/products/${encodeURIComponent(name)}`);
  }
  publish(manifest: string, draft = false): Promise<{ product: string; version: string; status: string }> {
    return this.request('POST', '/v1/products', { manifest, draft });
  }
  review(name: string, version: string, action: string, note?: string): Promise<{ product: string; version: string; status: string }> {
    return this.request('POST', `/v1/products/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/review`, { action, ...(note ? { note } : {}) });
  }
  launch(name: string, request: LaunchRequestInput, idempotencyKey?: string): Promise<JobResource> {
    return this.request('POST', `/v1/apps/${encodeURIComponent(name)}/launch`, request, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }
  centers(): Promise<{ items: CenterResource[] }> {
    return this.request('GET', '/v1/centers');
  }
  whoami(): Promise<{ user: string; org: string; role: string }> {
    return this.request('GET', '/v1/whoami');
  }
  createUser(user: { org: string; name: string; role?: string }): Promise<{ id: string; org: string; token: string }> {
    return this.request('POST', '/v1/users', user);
  }

  // Administration (admins only).
  orgs(): Promise<{ items: OrgResource[] }> {
    return this.request('GET', '/v1/orgs');
  }
  createOrg(name: string): Promise<OrgResource> {
    return this.request('POST', '/v1/orgs', { name });
  }
  users(org?: string): Promise<{ items: UserResource[] }> {
    return this.request('GET', `/v1/users${org ? `?org=${encodeURIComponent(org)}` : ''}`);
  }
  setRole(name: string, role: string): Promise<UserResource> {
    return this.request('POST', `/v1/users/${encodeURIComponent(name)}/role`, { role });
  }
  createCenter(center: { name: string; region: string; displayName?: string; operatorOrg?: string; energy?: unknown; prices?: unknown; enrollmentExpiresInSeconds?: number }): Promise<CenterCreated> {
    return this.request('POST', '/v1/centers', center);
  }
  enrollmentToken(center: string, expiresInSeconds?: number): Promise<EnrollmentTokenCreated> {
    return this.request('POST', `/v1/centers/${encodeURIComponent(center)}/enrollment-tokens`, expiresInSeconds === undefined ? {} : { expiresInSeconds });
  }
  tokens(query: { user?: string; revoked?: boolean } = {}): Promise<{ items: ApiTokenResource[] }> {
    const q = new URLSearchParams();
    if (query.user) q.set('user', query.user);
    if (query.revoked) q.set('revoked', 'true');
    return this.request('GET', `/v1/tokens${q.size ? `?${q}` : ''}`);
  }
  createToken(t: { user: string; label?: string; expiresInSeconds?: number }): Promise<ApiTokenCreated> {
    return this.request('POST', '/v1/tokens', t);
  }
  revokeToken(id: string): Promise<{ id: string; revokedAt: string }> {
    return this.request('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
  }

  /** Follows a job's output until it ends, calling `onChunk` for each piece in order. */
  async follow(id: string, onChunk: (chunk: LogPage['chunks'][number]) => void, signal?: AbortSignal): Promise<void> {
    let after = 0;
    while (!signal?.aborted) {
      const page = await this.logs(id, after, 20_000);
      for (const chunk of page.chunks) onChunk(chunk);
      after = page.next;
      if (page.done) return;
    }
  }
}

/** The data plane's wire shapes (src/engine/data-plane.ts). */
export interface DataManifest {
  readonly chunkBytes: number;
  readonly files: readonly { readonly path: string; readonly bytes: number; readonly chunks: readonly string[] }[];
}
export interface DataPortGrantResource {
  readonly center: string;
  readonly url: string;
  readonly grant: string;
}
export interface UploadStarted {
  readonly datasetId: string;
  readonly versionId: string;
  readonly version: number;
  readonly state: 'open' | 'sealed';
  readonly port: DataPortGrantResource;
}
export interface DownloadGrant {
  readonly versionId: string;
  readonly version: number;
  readonly manifest: DataManifest;
  readonly port: DataPortGrantResource;
}
export interface DatasetDetailResource {
  readonly id: string;
  readonly name: string;
  readonly versions: readonly { id: string; version: number; state: 'open' | 'sealed'; bytes: number; files: number; digest: string; centers: string[] }[];
}
export interface RuleResource {
  readonly id: string;
  readonly dataset: string;
  readonly datasetId: string;
  readonly copies: number;
  readonly scope: string;
  readonly centers: readonly string[];
  readonly held: readonly string[];
  readonly state: 'active' | 'expired' | 'deleted';
  readonly expiresAt: string | null;
  readonly createdAt: string;
  readonly endedAt: string | null;
}
export interface TransferResource {
  readonly id: string;
  readonly kind: 'upload' | 'replicate' | 'stage-in' | 'output';
  readonly dataset: string;
  readonly version: number;
  readonly center: string;
  readonly jobId: string | null;
  readonly state: 'queued' | 'running' | 'done' | 'failed';
  readonly bytesTotal: number;
  readonly bytesMoved: number;
  readonly seconds: number | null;
  readonly mbPerSecond: number | null;
  readonly error: string | null;
  readonly createdAt: string;
}
