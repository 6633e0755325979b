import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent, type AgentHandle } from '../../agent/agent.js';
import { defaultIsolation, LocalConnector, type LocalIsolation } from '../../agent/connectors/local-connector.js';
import type { Connector } from '../../agent/connector.js';
import { HttpAgentTransport } from '../../api/client/agent-client.js';
import { createApp } from '../../api/app.js';
import { listen } from '../../api/server.js';
import { createUser, createUserToken } from '../../engine/accounts.js';
import { createCenter, newAgentToken } from '../../engine/centers.js';
import { createContext, type EngineConfig, type EngineContext } from '../../engine/context.js';
import { startControlLoop } from '../../engine/control-loop.js';
import { hashSecret } from '../../engine/secrets.js';
import { findTokenOwner, findUserByName } from '../../store/accounts.js';
import { findCenterByName } from '../../store/centers.js';
import { openStore } from '../../store/open-database.js';
import { HOME_FILES } from '../config.js';
import { DEMO_CENTERS, DEMO_LINKS, type DemoCenter } from './demo-network.js';
import { seedCatalog } from './seed-catalog.js';
import { secureHome } from './secure-home.js';
import { upsertLink, type RegionLink } from '../../store/datasets.js';

export interface EmbeddedOptions {
  /** The data folder: PGlite's database (unless `databaseUrl`), agent state, tokens. */
  readonly home: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Use this PostgreSQL instead of the embedded PGlite. */
  readonly databaseUrl?: string | undefined;
  /** Centers to join through in-process agents (default: the demo network). */
  readonly centers?: readonly DemoCenter[];
  /** Links between their regions (default: the demo network's). */
  readonly links?: readonly RegionLink[];
  readonly engine?: Partial<EngineConfig>;
  readonly log?: (line: string) => void;
  /** Publish and list the seed apps of the store (default true). */
  readonly seedCatalog?: boolean;
  /** How the local connectors keep orgs apart (default: per-org users as root, one org otherwise). */
  readonly isolation?: LocalIsolation | undefined;
}

export interface EmbeddedNetwork {
  readonly url: string;
  readonly adminToken: string;
  readonly ctx: EngineContext;
  /** The in-process agents by center name (tests stop one to play a lost center). */
  readonly agents: ReadonlyMap<string, AgentHandle>;
  /** How the local connectors keep orgs apart. */
  readonly isolation: LocalIsolation;
  stop(): Promise<void>;
}

/**
 * Starts a whole network in this process: the control plane (store, HTTP API, control loop) and one
 * real agent per center, each talking to the API over HTTP like a remote agent would. Runs started
 * by the agents are process groups of their own: they outlive this process, and the next start
 * re-attaches to them from the agents' state folders.
 */
export async function startEmbeddedNetwork(options: EmbeddedOptions): Promise<EmbeddedNetwork> {
  const log = options.log ?? (() => {});
  const isolation = options.isolation ?? defaultIsolation();
  mkdirSync(options.home, { recursive: true, mode: 0o700 });
  secureHome(options.home, isolation === 'users');
  const release = claimHome(options.home);
  const store = await openStore({ databaseUrl: options.databaseUrl, dataDir: join(options.home, 'db') }).catch((e: unknown) => {
    release();
    throw e;
  });
  const ctx = createContext(store, options.engine);
  const adminToken = await ensureAdminToken(ctx, options.home);
  const server = await listen(createApp(ctx, log), options.host, options.port);
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${server.port}`;
  const loop = startControlLoop(ctx, (e) => log(`control loop: ${(e as Error).stack ?? String(e)}`));
  const agents = new Map<string, AgentHandle>();
  const connectors: Connector[] = [];
  for (const center of options.centers ?? DEMO_CENTERS) {
    const token = await ensureCenter(ctx, options.home, center);
    const stateDir = join(options.home, 'centers', center.definition.name);
    const connector = center.connector ? center.connector(stateDir) : new LocalConnector({ stateDir, pools: [...center.pools], isolation });
    connectors.push(connector);
    const transport = new HttpAgentTransport({ serverUrl: url, token });
    agents.set(center.definition.name, startAgent({ transport, connector, name: center.definition.name, log }));
  }
  if (options.seedCatalog !== false) await seedCatalog(ctx, 'west-zhongwei');
  for (const link of options.links ?? DEMO_LINKS) {
    await upsertLink(store.db, link);
    await upsertLink(store.db, { ...link, fromRegion: link.toRegion, toRegion: link.fromRegion });
  }
  await Promise.all([...agents.values()].map((a) => a.registered));
  writeFileSync(join(options.home, HOME_FILES.server), JSON.stringify({ url, pid: process.pid }) + '\n');
  let stopped = false;
  return {
    url,
    adminToken,
    ctx,
    agents,
    isolation,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([...agents.values()].map((a) => a.stop()));
      await Promise.all(connectors.map((c) => c.close()));
      await loop.stop();
      await server.close();
      await store.close();
      rmSync(join(options.home, HOME_FILES.server), { force: true });
      release();
    },
  };
}

/** One `up` per home folder: PGlite's files take one process. Returns the release function. */
function claimHome(home: string): () => void {
  const lock = join(home, 'up.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(`Suanwang is already running from ${home} (pid ${pid}); stop it first, or use another SUANWANG_HOME`);
    }
  }
  writeFileSync(lock, String(process.pid));
  return () => rmSync(lock, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The admin token in `home/admin-token`, created (with the admin user) when missing or no longer valid. */
async function ensureAdminToken(ctx: EngineContext, home: string): Promise<string> {
  const path = join(home, HOME_FILES.adminToken);
  const saved = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
  if (saved && (await findTokenOwner(ctx.store.db, hashSecret(saved)))?.user?.role === 'admin') return saved;
  const admin = await findUserByName(ctx.store.db, 'admin');
  const token = admin ? await createUserToken(ctx, admin.id, 'admin token of the local network') : (await createUser(ctx, { orgName: 'platform', name: 'admin', role: 'admin' })).token;
  writeFileSync(path, token + '\n', { mode: 0o600 });
  return token;
}

/** Creates the center when new; returns its agent token (kept in the agent's folder, mode 600). */
async function ensureCenter(ctx: EngineContext, home: string, center: DemoCenter): Promise<string> {
  const dir = join(home, 'centers', center.definition.name);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'agent-token');
  const saved = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
  const existing = await findCenterByName(ctx.store.db, center.definition.name);
  if (existing && saved && (await findTokenOwner(ctx.store.db, hashSecret(saved)))?.centerId === existing.id) return saved;
  const token = existing
    ? await newAgentToken(ctx, center.definition.name)
    : (await createCenter(ctx, { ...center.definition, operatorOrg: 'platform', pools: center.pools })).agentToken;
  writeFileSync(path, token + '\n', { mode: 0o600 });
  return token;
}
