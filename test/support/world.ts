import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import { createApp } from '../../src/api/app.js';
import { ManualClock } from '../../src/core/clock.js';
import { createEnrollmentToken, createUser, enrollAgent } from '../../src/engine/accounts.js';
import { registerAgent, reportState, appendLogs } from '../../src/engine/agents.js';
import { createCenter } from '../../src/engine/centers.js';
import { createContext, type EngineContext } from '../../src/engine/context.js';
import { tick } from '../../src/engine/control-loop.js';
import { openStore, type Store } from '../../src/store/open-database.js';
import { insertEndpoint } from '../../src/store/endpoints.js';
import type { TestDatabase } from './databases.js';

/** The roles that attack the victim's objects in the isolation matrix (and send fuzz). */
export const ATTACKERS = ['anonymous', 'otherUser', 'provider', 'operator', 'otherAgent', 'admin'] as const;
export type Attacker = (typeof ATTACKERS)[number];

/**
 * Two tenants on one control plane, built through the engine (no HTTP): the victim's side — org
 * `victim` (user alice), provider org `vprov` (listed app `vapp` 1.0.0 with a draft 2.0.0, and a
 * draft-only `vsecret`), center `west` with its agent, a dataset and a job placed and running at
 * west with output — and the attackers' side: a user, a provider, an operator (of center `east`),
 * east's agent (registered, with a valid session of its own) and a platform admin.
 * The clock is fixed, so a repeated heartbeat writes the same values (a no-op for the checksums).
 */
export interface World {
  readonly store: Store;
  readonly ctx: EngineContext;
  readonly app: Hono;
  readonly tokens: Readonly<Record<Exclude<Attacker, 'anonymous'> | 'victim' | 'victimProvider' | 'westAgent', string>>;
  readonly victimJob: string;
  readonly victimDataset: { readonly id: string; readonly name: string };
  /** The id of a replication rule on the victim's dataset (what DELETE /v1/rules/{id} takes). */
  readonly victimRule: string;
  /** The name of the victim's inference endpoint (of its job's app; rows only, no replicas). */
  readonly victimEndpoint: string;
  /** The id of the victim's (alice's) API token, what DELETE /v1/tokens/{id} takes. */
  readonly victimTokenId: string;
  /** An enrollment token of west that its agent has exchanged already (works once). */
  readonly usedEnrollmentToken: string;
  readonly westSession: string;
  /** east's session; a re-registration in a test replaces it. */
  eastSession: string;
  drop(): Promise<void>;
}

const energy = { priceFenPerKwh: Array(24).fill(30), pue: 1.2, carbonKgPerKwh: Array(24).fill(0.5), utcOffsetHours: 8 };
export const WEST_POOLS = [{ name: 'npu', accelerator: 'ascend-910b', acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 }];
export const EAST_POOLS = [{ name: 'gpu', accelerator: 'nvidia-a100', acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 262144, nodes: 2 }];
const COMMANDS = ['sh', 'echo', 'sleep', 'python3'];

/** An app manifest of provider `vprov` (title names the version, so a leak of a draft shows). */
export function victimManifest(name: string, version: string): string {
  return `name: ${name}
title: ${name} title of ${version}
summary: Summary of ${name} at ${version}, an app of the victim provider.
category: software
licence: Apache-2.0
version: ${version}
tags: [victim]
app:
  command:
    cann: [echo, '${name} ${version}']
  resources:
    defaults: { acceleratorsPerNode: 1, walltimeSeconds: 60 }
  adaptation:
    ascend-910b: { efficiency: 1, level: verified }
`;
}

/** Builds the world on a fresh database of `database`. */
export async function buildWorld(database: TestDatabase): Promise<World> {
  const fresh = await database.fresh();
  const store = await openStore({ databaseUrl: fresh.databaseUrl });
  const ctx = createContext(store, {}, new ManualClock(Date.parse('2026-06-01T08:00:00Z')));
  const app = createApp(ctx);
  const user = async (org: string, name: string, role: 'user' | 'provider' | 'operator' | 'admin') => (await createUser(ctx, { orgName: org, name, role })).token;
  const victim = await user('victim', 'alice', 'user');
  const victimProvider = await user('vprov', 'pat', 'provider');
  const otherUser = await user('mal', 'mallory', 'user');
  const provider = await user('mprov', 'mike', 'provider');
  const operator = await user('mops', 'oscar', 'operator');
  const admin = await user('platform', 'root', 'admin');

  const west = await createCenter(ctx, { name: 'west', displayName: 'West', region: 'ningxia', operatorOrg: 'vops', energy, prices: { npu: { fenPerAcceleratorHour: 600, fenPerCoreHour: 0 } } });
  const westReg = await registerAgent(ctx, west.centerId, { connector: 'local', agentVersion: 'test', pools: WEST_POOLS, commands: COMMANDS, runs: [] });

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await app.request(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const json = (await res.json()) as Record<string, unknown>;
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const dataset = await call('POST', '/v1/datasets', victim, { name: 'victim-data', bytes: 1000, centers: ['west'] });
  const victimRule = await call('POST', '/v1/datasets/victim-data/rules', victim, { copies: 1, region: 'ningxia', days: 30 });
  const job = await call('POST', '/v1/jobs', victim, { command: ['echo', 'victim secret'], acceleratorsPerNode: 1, inputs: ['victim-data'] });
  const victimJob = job.id as string;
  await tick(ctx);
  await reportState(ctx, west.centerId, westReg.sessionId, victimJob, { attempt: 1, state: 'running', exitCode: null, reason: null, at: ctx.now().getTime() });
  await appendLogs(ctx, west.centerId, westReg.sessionId, victimJob, { attempt: 1, chunks: [{ stream: 'stdout', offset: 0, data: 'victim secret\n' }] });
  const placed = await store.db.selectFrom('jobs').select(['state', 'center_id']).where('id', '=', victimJob).executeTakeFirstOrThrow();
  assert.equal(placed.state, 'running', 'the victim job runs at west');

  await call('POST', '/v1/products', victimProvider, { manifest: victimManifest('vapp', '1.0.0') });
  await call('POST', '/v1/products/vapp/versions/1.0.0/review', admin, { action: 'approve' });
  await call('POST', '/v1/products', victimProvider, { manifest: victimManifest('vapp', '2.0.0'), draft: true });
  await call('POST', '/v1/products', victimProvider, { manifest: victimManifest('vsecret', '1.0.0'), draft: true });

  const victimToken = await store.db.selectFrom('api_tokens').innerJoin('users', 'users.id', 'api_tokens.user_id').select('api_tokens.id').where('users.name', '=', 'alice').executeTakeFirstOrThrow();
  const enrollment = await createEnrollmentToken(ctx, 'west');
  await enrollAgent(ctx, enrollment.token);

  const victimUser = await store.db.selectFrom('users').select(['id', 'org_id']).where('name', '=', 'alice').executeTakeFirstOrThrow();
  const at = ctx.now();
  await insertEndpoint(store.db, {
    id: ctx.newId('endpoint'), org_id: victimUser.org_id, user_id: victimUser.id, name: 'victim-ep', app: 'vapp', version: '1.0.0', params: {}, accelerators_per_node: 1,
    region: 'ningxia', min_replicas: 1, max_replicas: 2, target_concurrency: 4, idle_to_zero_ms: null, created_at: at, updated_at: at,
  });

  // The attackers' center comes last, so the victim's job was placed at west.
  const east = await createCenter(ctx, { name: 'east', displayName: 'East', region: 'guizhou', operatorOrg: 'mops', energy, prices: { gpu: { fenPerAcceleratorHour: 500, fenPerCoreHour: 0 } } });
  const eastReg = await registerAgent(ctx, east.centerId, { connector: 'local', agentVersion: 'test', pools: EAST_POOLS, commands: COMMANDS, runs: [] });
  return {
    store,
    ctx,
    app,
    tokens: { victim, victimProvider, otherUser, provider, operator, admin, otherAgent: east.agentToken, westAgent: west.agentToken },
    victimJob,
    victimDataset: { id: dataset.id as string, name: 'victim-data' },
    victimRule: victimRule.id as string,
    victimEndpoint: 'victim-ep',
    victimTokenId: victimToken.id,
    usedEnrollmentToken: enrollment.token,
    westSession: westReg.sessionId,
    eastSession: eastReg.sessionId,
    async drop() {
      await store.close();
      await fresh.drop();
    },
  };
}
