import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabases } from '../support/databases.js';
import { changedTables, fingerprint } from '../support/fingerprint.js';
import { ATTACKERS, buildWorld, EAST_POOLS, victimManifest, type Attacker, type World } from '../support/world.js';

/**
 * The tenant isolation matrix: every route of the OpenAPI document × every attacker role × each
 * foreign object (the victim org's job, dataset, draft product version, another center, another
 * center's agent session). Every cell checks the status (and error code) against the table of
 * expected outcomes by access level, and that the whole database — every table's row count and
 * checksum — did not change (or changed only in the tables the cell names, for an allowed write).
 *
 * The routes come from GET /v1/openapi.json: a route without an entry in FIXTURES fails the run with
 * "no fixture for route X"; adding one is one entry below.
 */

type Access = 'public' | 'user' | 'admin' | 'agent';

interface Expect {
  /** Accepted statuses. */
  readonly status: number | readonly number[];
  readonly code?: string;
  /** Tables an allowed write may change ('*': any; admins acting as admins). Default: none. */
  readonly mayChange?: readonly string[] | '*';
  /** Further checks of an allowed answer (e.g. that a list does not show the victim's objects). */
  readonly check?: (body: unknown, w: World) => void;
  /** Updates the world after an allowed answer (e.g. east's new session after it registers). */
  readonly then?: (body: unknown, w: World) => void;
}

interface Probe {
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Case {
  /** The foreign object the request aims at ('none' for routes without one). */
  readonly object: string;
  readonly request: (w: World, role: Attacker) => Probe;
  /** What another tenant gets: users of other orgs on user routes, another center's agent on agent routes. */
  readonly foreign?: Expect;
  /** What the platform admin gets on user and admin routes. */
  readonly admin?: Expect;
  /** What every caller gets on a public route (default: 200, no change). */
  readonly anyone?: Expect;
}

interface Fixture {
  readonly access: Access;
  readonly cases: readonly Case[];
}

const ok200: Expect = { status: 200 };
const jobNotFound: Expect = { status: 404, code: 'job_not_found' };
const session = (s: string) => ({ 'x-agent-session': s });
const ids = (body: unknown) => ((body as { items: { id: string }[] }).items ?? []).map((i) => i.id);
const notShown = (what: string, pick: (w: World) => string) => (body: unknown, w: World) =>
  assert.ok(!JSON.stringify(body).includes(pick(w)), `the answer shows the victim's ${what}`);
/** A well-formed report's exit code for each state, so a cell tests ownership, not the body's shape. */
const exitCodeOf = (state: 'running' | 'succeeded' | 'failed' | 'cancelled') => (state === 'running' ? null : state === 'succeeded' ? 0 : 1);
const runOf = (w: World, state: 'running' | 'succeeded' | 'failed' | 'cancelled') => ({
  jobId: w.victimJob,
  attempt: 1,
  state,
  exitCode: exitCodeOf(state),
  reason: null,
  startedAt: w.ctx.now().getTime(),
  finishedAt: state === 'running' ? null : w.ctx.now().getTime(),
});
/** What another center's agent may get for a foreign run: told to kill it, or refused; never a change. */
const agentForeign = (extra: Partial<Expect> = {}): Expect => ({ status: [200, 403, 404, 409], ...extra });
const expired: Expect = { status: 409, code: 'agent_session_expired' };
/** Each attacker's own user name (agents and anonymous callers have none: they aim at mallory). */
const SELF: Readonly<Record<Attacker, string>> = { anonymous: 'mallory', otherUser: 'mallory', provider: 'mike', operator: 'oscar', otherAgent: 'mallory', admin: 'root' };
/** An enrollment token nobody created (well-formed, so the exchange itself refuses it). */
const BOGUS_ENROLLMENT = `swe_${'A'.repeat(32)}`;
const enrollRefused: Expect = { status: 401, code: 'unauthenticated' };

/** One entry per route of the OpenAPI document: `METHOD /path/{param}` → access and cases. */
const FIXTURES: Readonly<Record<string, Fixture>> = {
  'GET /v1/health': { access: 'public', cases: [{ object: 'none', request: () => ({ path: '/v1/health' }) }] },
  'GET /v1/accelerators': { access: 'public', cases: [{ object: 'none', request: () => ({ path: '/v1/accelerators' }) }] },
  'GET /v1/openapi.json': { access: 'public', cases: [{ object: 'none', request: () => ({ path: '/v1/openapi.json' }) }] },
  'GET /healthz': { access: 'public', cases: [{ object: 'none', request: () => ({ path: '/healthz' }) }] },
  'GET /readyz': { access: 'public', cases: [{ object: 'none', request: () => ({ path: '/readyz' }), anyone: { status: 200, check: (b) => assert.equal((b as { ok: boolean }).ok, true) } }] },
  'GET /metrics': {
    access: 'public',
    cases: [
      {
        object: "victim job and token",
        request: () => ({ path: '/metrics' }),
        anyone: {
          status: 200,
          check: (b, w) => {
            notShown('job', (x) => x.victimJob)(b, w);
            notShown('token', (x) => x.tokens.victim)(b, w);
            notShown('token id', (x) => x.victimTokenId)(b, w);
          },
        },
      },
    ],
  },
  'POST /v1/agent/enroll': {
    access: 'public',
    cases: [
      { object: 'bogus enrollment token', request: () => ({ path: '/v1/agent/enroll', body: { enrollmentToken: BOGUS_ENROLLMENT } }), anyone: enrollRefused },
      { object: "west's used enrollment token", request: (w) => ({ path: '/v1/agent/enroll', body: { enrollmentToken: w.usedEnrollmentToken } }), anyone: enrollRefused },
      // Not an enrollment token at all: refused by its shape (400) or as unknown (401).
      { object: "west's agent token", request: (w) => ({ path: '/v1/agent/enroll', body: { enrollmentToken: w.tokens.westAgent } }), anyone: { status: [400, 401] } },
    ],
  },
  'GET /v1/orgs': { access: 'admin', cases: [{ object: 'victim org', request: () => ({ path: '/v1/orgs' }), admin: { status: 200, check: (b) => assert.ok(JSON.stringify(b).includes('"victim"'), 'admins see every org') } }] },
  'POST /v1/orgs': {
    access: 'admin',
    cases: [{ object: 'none', request: (_w, role) => ({ path: '/v1/orgs', body: { name: `o-${role.toLowerCase()}` } }), admin: { status: 201, mayChange: ['orgs'] } }],
  },
  'GET /v1/users': {
    access: 'admin',
    cases: [{ object: 'victim org users', request: () => ({ path: '/v1/users?org=victim' }), admin: { status: 200, check: (b) => assert.ok(JSON.stringify(b).includes('"alice"'), 'admins see the victim org') } }],
  },
  'POST /v1/users/{name}/role': {
    access: 'admin',
    cases: [
      { object: "victim org's user", request: () => ({ path: '/v1/users/alice/role', body: { role: 'admin' } }), admin: { status: 200, mayChange: ['users'] } },
      // An attacker making themselves admin (the admin's own cell changes nothing).
      { object: 'self (to admin)', request: (_w, role) => ({ path: `/v1/users/${SELF[role]}/role`, body: { role: 'admin' } }), admin: { status: 200, mayChange: ['users'] } },
    ],
  },
  'GET /v1/tokens': {
    access: 'admin',
    cases: [
      {
        object: "victim's token",
        request: () => ({ path: '/v1/tokens?user=alice&revoked=true' }),
        admin: { status: 200, check: (b, w) => (assert.ok(ids(b).includes(w.victimTokenId), "admins see the victim's token"), notShown('token secret', (x) => x.tokens.victim)(b, w)) },
      },
    ],
  },
  'POST /v1/tokens': {
    access: 'admin',
    cases: [{ object: "victim org's user", request: (_w, role) => ({ path: '/v1/tokens', body: { user: 'alice', label: `by ${role}`, expiresInSeconds: 3600 } }), admin: { status: 201, mayChange: ['api_tokens'] } }],
  },
  'DELETE /v1/tokens/{id}': {
    access: 'admin',
    // Non-admins: 403 (by access) and nothing changes; the admin (last) revokes it.
    cases: [{ object: "victim's token", request: (w) => ({ path: `/v1/tokens/${w.victimTokenId}` }), admin: { status: 200, mayChange: ['api_tokens'] } }],
  },
  'GET /v1/whoami': {
    access: 'user',
    cases: [{ object: 'none', request: () => ({ path: '/v1/whoami' }), foreign: { status: 200, check: (b) => assert.notEqual((b as { org: string }).org, 'victim') } }],
  },
  'POST /v1/users': {
    access: 'admin',
    cases: [{ object: 'victim org', request: (_w, role) => ({ path: '/v1/users', body: { org: 'victim', name: `intruder-${role.toLowerCase()}`, role: 'admin' } }), admin: { status: 201, mayChange: ['api_tokens', 'users'] } }],
  },
  'GET /v1/centers': {
    access: 'user',
    cases: [{ object: 'west agent session', request: () => ({ path: '/v1/centers' }), foreign: { status: 200, check: notShown('agent session', (w) => w.westSession) } }],
  },
  'POST /v1/centers': {
    access: 'admin',
    cases: [
      {
        object: 'none',
        request: (_w, role) => ({ path: '/v1/centers', body: { name: `c-${role.toLowerCase()}`, displayName: 'X', region: 'x', energy: { priceFenPerKwh: Array(24).fill(1), pue: 1.1, carbonKgPerKwh: Array(24).fill(0.1) } } }),
        admin: { status: 201, mayChange: '*' },
      },
    ],
  },
  'POST /v1/centers/{name}/enrollment-tokens': {
    access: 'admin',
    cases: [{ object: 'west', request: () => ({ path: '/v1/centers/west/enrollment-tokens', body: {} }), admin: { status: 201, mayChange: ['enrollment_tokens'] } }],
  },
  'POST /v1/centers/{name}/tokens': {
    access: 'admin',
    cases: [{ object: 'west', request: () => ({ path: '/v1/centers/west/tokens' }), admin: { status: 201, mayChange: ['api_tokens'] } }],
  },
  'POST /v1/datasets': {
    access: 'user',
    cases: [
      {
        object: "victim dataset's name",
        // Names are per org: the same name makes a dataset of the caller's own, leaving the victim's alone.
        request: (w) => ({ path: '/v1/datasets', body: { name: w.victimDataset.name, bytes: 1, centers: ['east'] } }),
        foreign: { status: 201, mayChange: ['dataset_replicas', 'datasets'], check: (b, w) => assert.notEqual((b as { id: string }).id, w.victimDataset.id) },
        admin: { status: 201, mayChange: ['dataset_replicas', 'datasets'] },
      },
    ],
  },
  // The data plane (src/api/routes/data-plane.ts): a dataset is found by name in the caller's own org only.
  'POST /v1/datasets/{name}/versions': {
    access: 'user',
    cases: [
      {
        object: "victim dataset's name",
        // Refused (503, nothing written) until east's agent has announced its data port (a cell below does);
        // then the caller's own org gets a dataset of that name, never the victim's.
        request: (w) => ({ path: `/v1/datasets/${w.victimDataset.name}/versions`, body: { manifest: { chunkBytes: 65536, files: [] }, center: 'east' } }),
        foreign: { status: [201, 503], mayChange: ['datasets', 'dataset_versions'], check: (b, w) => assert.notEqual((b as { datasetId?: string }).datasetId, w.victimDataset.id) },
        admin: { status: [201, 503], mayChange: ['datasets', 'dataset_versions'], check: (b, w) => assert.notEqual((b as { datasetId?: string }).datasetId, w.victimDataset.id) },
      },
    ],
  },
  'POST /v1/datasets/{name}/versions/{version}/seal': {
    access: 'user',
    cases: [{ object: 'victim dataset', request: (w) => ({ path: `/v1/datasets/${w.victimDataset.name}/versions/dsv_x/seal` }), foreign: { status: 404, code: 'dataset_not_found' }, admin: { status: 404, code: 'dataset_not_found' } }],
  },
  'GET /v1/datasets/{name}': {
    access: 'user',
    cases: [{ object: 'victim dataset', request: (w) => ({ path: `/v1/datasets/${w.victimDataset.name}` }), foreign: { status: 404, code: 'dataset_not_found' }, admin: { status: 404, code: 'dataset_not_found' } }],
  },
  'GET /v1/datasets/{name}/download': {
    access: 'user',
    cases: [{ object: 'victim dataset', request: (w) => ({ path: `/v1/datasets/${w.victimDataset.name}/download` }), foreign: { status: 404, code: 'dataset_not_found' }, admin: { status: 404, code: 'dataset_not_found' } }],
  },
  // Replication rules (src/api/routes/replication-rules.ts): found by the dataset's name in the caller's own org,
  // deleted by id in the caller's own org only.
  'POST /v1/datasets/{name}/rules': {
    access: 'user',
    cases: [
      {
        object: "victim dataset's name",
        // 404 before the caller's org has a dataset of that name (POST /v1/datasets makes one, earlier in
        // route order); then the rule lands on the caller's own dataset, never the victim's.
        request: (w) => ({ path: `/v1/datasets/${w.victimDataset.name}/rules`, body: { copies: 1, region: 'ningxia', days: 1 } }),
        foreign: { status: [201, 404], code: 'dataset_not_found', mayChange: ['replication_rules'], check: (b, w) => assert.notEqual((b as { datasetId?: string }).datasetId, w.victimDataset.id) },
        admin: { status: [201, 404], code: 'dataset_not_found', mayChange: ['replication_rules'], check: (b, w) => assert.notEqual((b as { datasetId?: string }).datasetId, w.victimDataset.id) },
      },
    ],
  },
  'GET /v1/datasets/{name}/rules': {
    access: 'user',
    cases: [{ object: 'victim dataset', request: (w) => ({ path: `/v1/datasets/${w.victimDataset.name}/rules` }), foreign: { status: 404, code: 'dataset_not_found' }, admin: { status: 404, code: 'dataset_not_found' } }],
  },
  'DELETE /v1/rules/{id}': {
    access: 'user',
    cases: [{ object: "victim dataset's rule", request: (w) => ({ path: `/v1/rules/${w.victimRule}` }), foreign: { status: 404, code: 'not_found' }, admin: { status: 404, code: 'not_found' } }],
  },
  'GET /v1/data/ports': {
    access: 'user',
    // Centers' data port URLs are no org's data; the keys that sign grants never leave the control plane.
    cases: [{ object: "centers' data port keys", request: () => ({ path: '/v1/data/ports' }), foreign: { status: 200, check: (b) => assert.doesNotMatch(JSON.stringify(b), /"key"/) }, admin: ok200 }],
  },
  'GET /v1/transfers': {
    access: 'user',
    cases: [{ object: 'victim transfers', request: () => ({ path: '/v1/transfers' }), foreign: { status: 200, check: (b) => assert.deepEqual(ids(b), []) }, admin: ok200 }],
  },
  'POST /v1/agent/data-port': {
    access: 'agent',
    // An agent announces its own center's port only (the center comes from its token).
    cases: [{ object: "west's data port", request: () => ({ path: '/v1/agent/data-port', body: { url: 'http://127.0.0.1:9', key: 'k'.repeat(64) } }), foreign: { status: 200, mayChange: ['center_data_ports'] } }],
  },
  'GET /v1/agent/transfers': {
    access: 'agent',
    cases: [{ object: "west's transfers", request: () => ({ path: '/v1/agent/transfers' }), foreign: { status: 200, check: (b) => assert.deepEqual((b as { items: unknown[] }).items, []) } }],
  },
  'POST /v1/agent/stage-in': {
    access: 'agent',
    cases: [{ object: 'victim job input', request: (w) => ({ path: '/v1/agent/stage-in', body: { jobId: w.victimJob, versionId: 'dsv_x' } }), foreign: { status: 404, code: 'not_found' } }],
  },
  // Eviction (src/engine/center-replicas.ts): an agent sees and drops its own center's replicas only.
  'GET /v1/agent/replicas': {
    access: 'agent',
    cases: [{ object: "west's replicas", request: () => ({ path: '/v1/agent/replicas' }), foreign: { status: 200, check: (b) => assert.deepEqual((b as { items: unknown[] }).items, []) } }],
  },
  'POST /v1/agent/replicas/dropped': {
    access: 'agent',
    cases: [{ object: "a replica at west", request: () => ({ path: '/v1/agent/replicas/dropped', body: { versionIds: ['dsv_x'] } }), foreign: { status: 200, check: (b) => assert.deepEqual((b as { dropped: unknown[] }).dropped, []) } }],
  },
  // Job outputs (src/engine/job-outputs.ts): only the center running the job's current attempt opens one.
  'POST /v1/agent/jobs/{id}/outputs': {
    access: 'agent',
    cases: [{ object: 'victim job output', request: (w) => ({ path: `/v1/agent/jobs/${w.victimJob}/outputs`, body: { attempt: 1, dataset: 'stolen', manifest: { chunkBytes: 4194304, files: [] } } }), foreign: { status: 409, code: 'conflict' } }],
  },
  'POST /v1/agent/transfers/{id}': {
    access: 'agent',
    cases: [{ object: "a transfer into west", request: () => ({ path: '/v1/agent/transfers/xfr_x', body: { state: 'done', bytesMoved: 1 } }), foreign: { status: 404, code: 'not_found' } }],
  },
  'GET /v1/datasets': {
    access: 'user',
    cases: [
      {
        object: 'victim dataset',
        request: () => ({ path: '/v1/datasets' }),
        foreign: { status: 200, check: (b, w) => assert.ok(!ids(b).includes(w.victimDataset.id), 'lists the victim dataset') },
        admin: { status: 200, check: (b, w) => assert.ok(ids(b).includes(w.victimDataset.id), 'admins see every org') },
      },
    ],
  },
  'POST /v1/endpoints': {
    access: 'user',
    cases: [
      {
        object: "victim endpoint's name",
        // Names are per org, and vapp is not servable: refused before anything is written.
        request: (w) => ({ path: '/v1/endpoints', body: { app: 'vapp', name: w.victimEndpoint, region: 'west' } }),
        foreign: { status: 422, code: 'not_runnable' },
      },
    ],
  },
  'GET /v1/endpoints': {
    access: 'user',
    cases: [
      {
        object: 'victim endpoint',
        request: () => ({ path: '/v1/endpoints' }),
        foreign: { status: 200, check: notShown('endpoint', (w) => w.victimEndpoint) },
      },
      {
        object: "every org's endpoints",
        request: () => ({ path: '/v1/endpoints?all=true' }),
        foreign: { status: 403, code: 'forbidden' },
        admin: { status: 200, check: (b, w) => assert.ok(JSON.stringify(b).includes(w.victimEndpoint), 'admins see every org') },
      },
    ],
  },
  'GET /v1/endpoints/{name}': {
    access: 'user',
    cases: [{ object: 'victim endpoint', request: (w) => ({ path: `/v1/endpoints/${w.victimEndpoint}` }), foreign: { status: 404, code: 'endpoint_not_found' } }],
  },
  'POST /v1/endpoints/{name}': {
    access: 'user',
    cases: [{ object: 'victim endpoint', request: (w) => ({ path: `/v1/endpoints/${w.victimEndpoint}`, body: { min: 0 } }), foreign: { status: 404, code: 'endpoint_not_found' } }],
  },
  'DELETE /v1/endpoints/{name}': {
    access: 'user',
    cases: [{ object: 'victim endpoint', request: (w) => ({ path: `/v1/endpoints/${w.victimEndpoint}` }), foreign: { status: 404, code: 'endpoint_not_found' } }],
  },
  'POST /v1/jobs': {
    access: 'user',
    cases: [
      {
        object: 'victim dataset as input',
        request: (w) => ({ path: '/v1/jobs', body: { command: ['echo'], inputs: [w.victimDataset.name] } }),
        // Callers who made a same-named dataset of their own above may use theirs; nobody reaches the victim's.
        foreign: { status: [201, 400], mayChange: ['job_events', 'jobs'], check: (b, w) => assert.ok(!JSON.stringify(b).includes(w.victimDataset.id)) },
        admin: { status: 201, mayChange: '*' },
      },
    ],
  },
  'POST /v1/jobs/batch': {
    access: 'user',
    cases: [
      {
        object: 'victim dataset as input',
        request: (w) => ({ path: '/v1/jobs/batch', body: { jobs: [{ command: ['echo'], inputs: [w.victimDataset.name] }] } }),
        foreign: { status: [201, 400], mayChange: ['job_events', 'jobs'], check: (b, w) => assert.ok(!JSON.stringify(b).includes(w.victimDataset.id)) },
        admin: { status: 201, mayChange: '*' },
      },
    ],
  },
  'POST /v1/quote': {
    access: 'user',
    cases: [{ object: 'victim dataset as input', request: (w) => ({ path: '/v1/quote', body: { command: ['echo'], inputs: [w.victimDataset.name] } }), foreign: { status: [200, 400], check: (b, w) => assert.ok(!JSON.stringify(b).includes(w.victimDataset.id)) }, admin: ok200 }],
  },
  'GET /v1/jobs': {
    access: 'user',
    cases: [
      {
        object: 'victim job (all=true)',
        request: () => ({ path: '/v1/jobs?all=true' }),
        foreign: { status: 200, check: (b, w) => assert.ok(!ids(b).includes(w.victimJob), "lists the victim's job") },
        admin: { status: 200, check: (b, w) => assert.ok(ids(b).includes(w.victimJob)) },
      },
    ],
  },
  'GET /v1/jobs/{id}': {
    access: 'user',
    cases: [{ object: 'victim job', request: (w) => ({ path: `/v1/jobs/${w.victimJob}` }), foreign: jobNotFound, admin: ok200 }],
  },
  // Billing (src/api/routes/billing.ts): another org's wallet, statement and usage are refused; money moves only for admins.
  'GET /v1/wallet': {
    access: 'user',
    cases: [{ object: 'victim wallet', request: () => ({ path: '/v1/wallet?org=victim' }), foreign: { status: 403, code: 'forbidden' }, admin: ok200 }],
  },
  'POST /v1/top-ups': {
    access: 'admin',
    cases: [{ object: 'victim wallet', request: (_w, role) => ({ path: '/v1/top-ups', body: { org: 'victim', amountFen: 100, reference: `by-${role}` } }), admin: { status: 201, mayChange: '*' } }],
  },
  'POST /v1/grants': {
    access: 'admin',
    cases: [{ object: 'victim wallet', request: () => ({ path: '/v1/grants', body: { org: 'victim', amountFen: 100 } }), admin: { status: 201, mayChange: '*' } }],
  },
  'POST /v1/payouts': {
    access: 'admin',
    cases: [{ object: "west's earnings", request: () => ({ path: '/v1/payouts', body: { payee: { kind: 'center', name: 'west' }, amountFen: 1 } }), admin: { status: [201, 402], mayChange: '*' } }],
  },
  'POST /v1/refunds': {
    access: 'admin',
    cases: [{ object: 'victim wallet', request: () => ({ path: '/v1/refunds', body: { org: 'victim', amountFen: 1 } }), admin: { status: [201, 402], mayChange: '*' } }],
  },
  'POST /v1/price-books': {
    access: 'admin',
    cases: [{ object: "west's pool", request: () => ({ path: '/v1/price-books', body: { center: 'west', pool: 'npu', rates: { fenPerAcceleratorHour: 1, fenPerCoreHour: 0 } } }), admin: { status: 201, mayChange: '*' } }],
  },
  'POST /v1/voucher-programs': {
    access: 'admin',
    cases: [{ object: 'none', request: (_w, role) => ({ path: '/v1/voucher-programs', body: { name: `vp-${role}`, funding: { kind: 'pool', total: 100 }, coPayBps: 3000, validUntil: '2099-01-01T00:00:00Z' } }), admin: { status: 201, mayChange: '*' } }],
  },
  'POST /v1/budgets': {
    access: 'admin',
    cases: [{ object: 'victim org', request: () => ({ path: '/v1/budgets', body: { org: 'victim', limitFen: 0 } }), admin: { status: 201, mayChange: '*' } }],
  },
  'GET /v1/budgets': {
    access: 'user',
    cases: [{ object: 'none', request: () => ({ path: '/v1/budgets' }), foreign: ok200, admin: ok200 }],
  },
  'GET /v1/reviews': {
    access: 'user',
    cases: [
      {
        object: 'draft versions',
        request: () => ({ path: '/v1/reviews?status=draft' }),
        foreign: { status: 200, check: notShown('draft product', () => 'vsecret') },
        admin: { status: 200, check: (body) => assert.ok(JSON.stringify(body).includes('vsecret'), 'admins see every draft') },
      },
    ],
  },
  'GET /v1/vouchers': {
    access: 'user',
    cases: [{ object: 'none', request: () => ({ path: '/v1/vouchers' }), foreign: ok200, admin: ok200 }],
  },
  'POST /v1/vouchers/redeem': {
    access: 'user',
    cases: [{ object: 'none', request: () => ({ path: '/v1/vouchers/redeem', body: { code: 'SWV-0000-0000-0000-0000-0000' } }), foreign: { status: 404, code: 'not_found' }, admin: { status: 404, code: 'not_found' } }],
  },
  'POST /v1/voucher-programs/{name}/codes': {
    access: 'admin',
    cases: [{ object: 'none', request: () => ({ path: '/v1/voucher-programs/no-such-program/codes', body: { count: 1 } }), admin: { status: 404, code: 'not_found' } }],
  },
  'POST /v1/products/{name}/price': {
    access: 'user',
    cases: [
      {
        object: "victim provider's product",
        request: () => ({ path: '/v1/products/vapp/price', body: { price: { kind: 'per-run', fen: 1 }, shares: { providerBps: 10000, centerBps: 0, operatorBps: 0 } } }),
        foreign: { status: 403, code: 'forbidden' },
        admin: { status: 200, mayChange: '*' },
      },
    ],
  },
  'GET /v1/usage': {
    access: 'user',
    cases: [{ object: "every org's usage", request: () => ({ path: '/v1/usage?all=true' }), foreign: { status: 403, code: 'forbidden' }, admin: ok200 }],
  },
  'GET /v1/statements/{org}/{month}': {
    access: 'user',
    cases: [{ object: 'victim statement', request: () => ({ path: '/v1/statements/victim/2026-06' }), foreign: { status: 403, code: 'forbidden' }, admin: ok200 }],
  },
  'POST /v1/price-quote': {
    access: 'user',
    cases: [{ object: 'none', request: () => ({ path: '/v1/price-quote', body: { command: ['echo'], acceleratorsPerNode: 1 } }), foreign: ok200, admin: ok200 }],
  },
  'GET /v1/jobs/{id}/charges': {
    access: 'user',
    cases: [{ object: 'victim job', request: (w) => ({ path: `/v1/jobs/${w.victimJob}/charges` }), foreign: jobNotFound, admin: ok200 }],
  },
  'GET /v1/jobs/{id}/logs': {
    access: 'user',
    cases: [{ object: 'victim job', request: (w) => ({ path: `/v1/jobs/${w.victimJob}/logs` }), foreign: jobNotFound, admin: { status: 200, check: (b) => assert.match(JSON.stringify(b), /victim secret/) } }],
  },
  'POST /v1/jobs/{id}/cancel': {
    access: 'user',
    cases: [{ object: 'victim job', request: (w) => ({ path: `/v1/jobs/${w.victimJob}/cancel` }), foreign: jobNotFound, admin: { status: 202, mayChange: '*' } }],
  },
  'GET /v1/products': {
    access: 'user',
    cases: [
      {
        object: 'draft versions',
        request: () => ({ path: '/v1/products?limit=100' }),
        foreign: {
          status: 200,
          check: (b) => {
            const items = (b as { items: { name: string; title: string }[] }).items;
            assert.ok(!items.some((i) => i.name === 'vsecret'), 'a never-listed draft shows in search');
            assert.equal(items.find((i) => i.name === 'vapp')?.title, 'vapp title of 1.0.0', "the listed product shows its listed version's title, not the draft's");
          },
        },
        admin: ok200,
      },
    ],
  },
  'GET /v1/products/{name}': {
    access: 'user',
    cases: [
      { object: 'draft-only product', request: () => ({ path: '/v1/products/vsecret' }), foreign: { status: 404, code: 'product_not_found' }, admin: ok200 },
      {
        object: 'draft version of a listed product',
        request: () => ({ path: '/v1/products/vapp' }),
        foreign: {
          status: 200,
          check: (b) => {
            const d = b as { product: { title: string }; versions: { version: string }[] };
            assert.deepEqual(d.versions.map((v) => v.version), ['1.0.0'], 'the draft version is shown');
            assert.equal(d.product.title, 'vapp title of 1.0.0', "the draft's title is shown");
          },
        },
        admin: ok200,
      },
    ],
  },
  'POST /v1/products': {
    access: 'user',
    cases: [
      { object: "victim provider's product", request: () => ({ path: '/v1/products', body: { manifest: victimManifest('vapp', '3.0.0'), draft: true } }), foreign: { status: 403, code: 'forbidden' }, admin: { status: 201, mayChange: '*' } },
    ],
  },
  'POST /v1/products/{name}/versions/{version}/review': {
    access: 'user',
    cases: [
      {
        object: 'draft version',
        request: (_w, role) => ({ path: '/v1/products/vsecret/versions/1.0.0/review', body: { action: role === 'provider' ? 'submit' : 'approve' } }),
        foreign: { status: [403, 404] },
        admin: { status: [200, 409], mayChange: '*' },
      },
      { object: 'listed version', request: () => ({ path: '/v1/products/vapp/versions/1.0.0/review', body: { action: 'delist' } }), foreign: { status: [403, 404] }, admin: { status: 200, mayChange: '*' } },
    ],
  },
  'POST /v1/apps/{name}/launch': {
    access: 'user',
    cases: [
      { object: 'draft-only product', request: () => ({ path: '/v1/apps/vsecret/launch', body: {} }), foreign: { status: 404, code: 'product_not_found' }, admin: { status: 404, code: 'product_not_found' } },
      { object: 'draft version of a listed product', request: () => ({ path: '/v1/apps/vapp/launch', body: { version: '2.0.0' } }), foreign: { status: 404, code: 'product_not_found' }, admin: { status: 404, code: 'product_not_found' } },
    ],
  },
  'POST /v1/agent/register': {
    access: 'agent',
    cases: [
      {
        object: 'victim job as its run',
        request: (w) => ({ path: '/v1/agent/register', body: { connector: 'local', agentVersion: 'test', pools: EAST_POOLS, commands: ['sh', 'echo', 'sleep', 'python3'], runs: [runOf(w, 'running')] } }),
        // Registering renews east's own session (centers); the victim's job and its events stay as they are.
        foreign: { status: 200, mayChange: ['centers'], then: (b, w) => (w.eastSession = (b as { sessionId: string }).sessionId) },
      },
    ],
  },
  'POST /v1/agent/heartbeat': {
    access: 'agent',
    cases: [
      { object: 'victim job as its run', request: (w) => ({ path: '/v1/agent/heartbeat', body: { runs: [runOf(w, 'running')] }, headers: session(w.eastSession) }), foreign: agentForeign() },
      { object: "west's session", request: (w) => ({ path: '/v1/agent/heartbeat', body: { runs: [] }, headers: session(w.westSession) }), foreign: expired },
    ],
  },
  'GET /v1/agent/leases': {
    access: 'agent',
    cases: [
      { object: 'victim job lease', request: (w) => ({ path: '/v1/agent/leases?waitMs=0', headers: session(w.eastSession) }), foreign: agentForeign({ check: notShown('job', (w) => w.victimJob) }) },
      { object: "west's session", request: (w) => ({ path: '/v1/agent/leases?waitMs=0', headers: session(w.westSession) }), foreign: expired },
    ],
  },
  'POST /v1/agent/jobs/{id}/state': {
    access: 'agent',
    cases: [
      ...(['running', 'succeeded', 'failed', 'cancelled'] as const).map(
        (state): Case => ({
          object: `victim job (${state})`,
          request: (w) => ({ path: `/v1/agent/jobs/${w.victimJob}/state`, body: { attempt: 1, state, exitCode: exitCodeOf(state), reason: null, at: w.ctx.now().getTime() }, headers: session(w.eastSession) }),
          foreign: agentForeign(),
        }),
      ),
      { object: "west's session", request: (w) => ({ path: `/v1/agent/jobs/${w.victimJob}/state`, body: { attempt: 1, state: 'succeeded', exitCode: 0, reason: null, at: 0 }, headers: session(w.westSession) }), foreign: expired },
    ],
  },
  'POST /v1/agent/reports': {
    access: 'agent',
    cases: [
      ...(['running', 'succeeded', 'failed', 'cancelled'] as const).map(
        (state): Case => ({
          object: `victim job (${state}, with output)`,
          request: (w) => ({
            path: '/v1/agent/reports',
            body: {
              logs: [{ jobId: w.victimJob, attempt: 1, chunks: [{ stream: 'stdout', offset: 14, data: 'forged\n' }] }],
              states: [{ jobId: w.victimJob, attempt: 1, state, exitCode: exitCodeOf(state), reason: null, at: w.ctx.now().getTime() }],
            },
            headers: session(w.eastSession),
          }),
          foreign: agentForeign(),
        }),
      ),
      { object: "west's session", request: (w) => ({ path: '/v1/agent/reports', body: { logs: [], states: [] }, headers: session(w.westSession) }), foreign: expired },
    ],
  },
  'POST /v1/agent/jobs/{id}/logs': {
    access: 'agent',
    cases: [
      { object: 'victim job', request: (w) => ({ path: `/v1/agent/jobs/${w.victimJob}/logs`, body: { attempt: 1, chunks: [{ stream: 'stdout', offset: 14, data: 'forged\n' }] }, headers: session(w.eastSession) }), foreign: agentForeign() },
      { object: "west's session", request: (w) => ({ path: `/v1/agent/jobs/${w.victimJob}/logs`, body: { attempt: 1, chunks: [{ stream: 'stdout', offset: 14, data: 'forged\n' }] }, headers: session(w.westSession) }), foreign: expired },
    ],
  },
};

const unauthenticated: Expect = { status: 401, code: 'unauthenticated' };
const forbidden: Expect = { status: 403, code: 'forbidden' };

/** The expected outcome of a cell, by the route's access level and the attacker's role. */
function expected(fixture: Fixture, c: Case, role: Attacker, key: string): Expect {
  if (fixture.access === 'public') return c.anyone ?? ok200;
  if (role === 'anonymous') return unauthenticated;
  const need = (e: Expect | undefined, what: string) => e ?? assert.fail(`fixture for ${key} (${c.object}) has no '${what}' outcome`);
  switch (fixture.access) {
    case 'agent':
      return role === 'otherAgent' ? need(c.foreign, 'foreign') : forbidden;
    case 'admin':
      return role === 'admin' ? need(c.admin, 'admin') : forbidden;
    case 'user':
      if (role === 'otherAgent') return forbidden;
      return role === 'admin' ? need(c.admin ?? c.foreign, 'admin') : need(c.foreign, 'foreign');
  }
}

interface OpenApi {
  readonly paths: Record<string, Record<string, unknown>>;
}

/** `METHOD /path` of every operation of the document. */
function operations(doc: OpenApi): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
}

// Admins act last: their allowed writes (a cancel, a delist) must not change what the others probe.
const ORDER: readonly Attacker[] = [...ATTACKERS.filter((a) => a !== 'admin'), 'admin'];

for (const database of await testDatabases()) {
  describe(`tenant isolation matrix (${database.name})`, { skip: database.skip, timeout: 180_000 }, () => {
    let w: World;
    let routes: string[] = [];
    before(async () => {
      w = await buildWorld(database);
      routes = operations((await (await w.app.request('/v1/openapi.json')).json()) as OpenApi);
    });
    after(async () => {
      await w?.drop();
    });

    it('has a fixture for every route of the OpenAPI document, and none for a route it lacks', () => {
      const missing = routes.filter((r) => !(r in FIXTURES));
      assert.deepEqual(missing, [], `no fixture for route ${missing.join(', ')}: add an entry to FIXTURES in test/api/isolation-matrix.test.ts`);
      const stale = Object.keys(FIXTURES).filter((r) => !routes.includes(r));
      assert.deepEqual(stale, [], `fixtures for routes the API no longer has: ${stale.join(', ')}`);
    });

    for (const role of ORDER) {
      it(`every route × foreign object as ${role}`, async () => {
        const failures: string[] = [];
        let cells = 0;
        for (const key of routes) {
          const fixture = FIXTURES[key];
          if (!fixture) continue; // reported by the coverage test above
          const [method] = key.split(' ') as [string];
          for (const c of fixture.cases) {
            const want = expected(fixture, c, role, key);
            const probe = c.request(w, role);
            const token = role === 'anonymous' ? undefined : w.tokens[role];
            const before = await fingerprint(w.store);
            const res = await w.app.request(probe.path, {
              method,
              headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(probe.body !== undefined ? { 'content-type': 'application/json' } : {}), ...probe.headers },
              ...(probe.body !== undefined ? { body: JSON.stringify(probe.body) } : {}),
            });
            const text = await res.text();
            // JSON answers are parsed; others (Prometheus text from /metrics) are checked as text.
            const body = text ? (/json/i.test(res.headers.get('content-type') ?? '') ? (JSON.parse(text) as unknown) : text) : null;
            const afterPrint = await fingerprint(w.store);
            cells++;
            const where = `${role} → ${key} [${c.object}]`;
            const statuses = typeof want.status === 'number' ? [want.status] : want.status;
            if (!statuses.includes(res.status)) {
              failures.push(`${where}: status ${res.status}, expected ${statuses.join('|')}: ${text.slice(0, 300)}`);
              continue;
            }
            const code = (body as { error?: { code: string } } | null)?.error?.code;
            if (want.code && res.status >= 400 && code !== want.code) failures.push(`${where}: code ${code}, expected ${want.code}`);
            const changed = changedTables(before, afterPrint).filter((t) => want.mayChange !== '*' && !(res.status < 300 && want.mayChange?.includes(t)));
            if (changed.length > 0) failures.push(`${where}: status ${res.status} but changed ${changed.join(', ')}`);
            if (res.status < 300) {
              try {
                want.check?.(body, w);
                want.then?.(body, w);
              } catch (error) {
                failures.push(`${where}: ${(error as Error).message.split('\n')[0]}`);
              }
            }
          }
        }
        assert.ok(cells > 0);
        assert.equal(failures.length, 0, `${failures.length} of ${cells} cells failed:\n${failures.join('\n')}`);
      });
    }
  });
}
