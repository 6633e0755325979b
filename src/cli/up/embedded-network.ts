import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startAgent, type AgentHandle } from '../../agent/agent.js';
import type { DataAgentOptions } from '../../agent/data/data-agent.js';
import { defaultIsolation, LocalConnector, type LocalIsolation } from '../../agent/connectors/local-connector.js';
import { closedAncestor } from '../../agent/connectors/org-users.js';
import type { Connector } from '../../agent/connector.js';
import { HttpAgentTransport } from '../../api/client/agent-client.js';
import type { Log } from '../../core/log.js';
import { createCenter, newAgentToken } from '../../engine/centers.js';
import type { EngineConfig, EngineContext } from '../../engine/context.js';
import { startControlPlane } from '../server/control-plane.js';
import { ensureDemoCredit } from './demo-credit.js';
import type { ServingConfig, ServingController } from '../../engine/serving/controller.js';
import { hashSecret } from '../../engine/secrets.js';
import { findTokenOwner } from '../../store/accounts.js';
import { findCenterByName } from '../../store/centers.js';
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
  /** Inference endpoints' tunables (autoscaling delays, cold-start hold). */
  readonly serving?: Partial<ServingConfig>;
  readonly log?: (line: string) => void;
  /** Structured logger of the control plane (request lines, errors). */
  readonly logger?: Log;
  /** Publish and list the seed apps of the store (default true). */
  readonly seedCatalog?: boolean;
  /** With billing on: grant the platform org demo credit and add a demo voucher program, once (default true). */
  readonly demoCredit?: boolean;
  /** How the local connectors keep orgs apart (default: per-org users as root, one org otherwise). */
  readonly isolation?: LocalIsolation | undefined;
  /** Per-center overrides of the agents' dataset storage (quota, bandwidth limits), by center name. */
  readonly data?: (center: string) => Partial<DataAgentOptions> | undefined;
}

export interface EmbeddedNetwork {
  readonly url: string;
  readonly adminToken: string;
  /** The 0600 file the admin token is kept in. */
  readonly adminTokenPath: string;
  readonly ctx: EngineContext;
  /** Inference endpoints' controller (tests look at its replicas). */
  readonly serving: ServingController;
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
  const centersHome = isolation === 'users' ? await reachableCentersHome(options.home, log) : options.home;
  const plane = await startControlPlane({ home: options.home, host: options.host, port: options.port, databaseUrl: options.databaseUrl, engine: options.engine, ...(options.serving ? { serving: options.serving } : {}), log, logger: options.logger });
  const { ctx, url } = plane;
  const agents = new Map<string, AgentHandle>();
  const connectors: Connector[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await Promise.all(connectors.map((c) => c.close()));
    await plane.stop();
  };
  try {
    for (const center of options.centers ?? DEMO_CENTERS) {
      const token = await ensureCenter(ctx, centersHome, center);
      const stateDir = join(centersHome, 'centers', center.definition.name);
      const connector = center.connector ? center.connector(stateDir) : new LocalConnector({ stateDir, pools: [...center.pools], isolation });
      connectors.push(connector);
      const transport = new HttpAgentTransport({ serverUrl: url, token });
      // Each center's dataset storage sits in its agent's state folder; its data port on loopback.
      const data = { root: join(stateDir, 'data'), sharedWithOrgUsers: !center.connector && isolation === 'users', ...options.data?.(center.definition.name) };
      agents.set(center.definition.name, startAgent({ transport, connector, name: center.definition.name, log, data }));
    }
    if (options.seedCatalog !== false) await seedCatalog(ctx, 'west-zhongwei');
    if (ctx.config.billing === 'on' && options.demoCredit !== false) await ensureDemoCredit(ctx);
    for (const link of options.links ?? DEMO_LINKS) {
      await upsertLink(ctx.store.db, link);
      await upsertLink(ctx.store.db, { ...link, fromRegion: link.toRegion, toRegion: link.fromRegion });
    }
    await Promise.all([...agents.values()].map((a) => a.registered));
    plane.announce();
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, adminToken: plane.adminToken, adminTokenPath: plane.adminTokenPath, ctx, serving: plane.serving, agents, isolation, stop };
}

/**
 * Where the centers' folders go when jobs run as per-org users: below `home` when every folder above
 * it is searchable by others (the users must reach their workdirs), else in
 * `/var/lib/suanwang-up/<12 hex of home's SHA-256>` (root's, 0711), so that `up` as root with home in
 * a closed `/root` still runs jobs. When that is closed too, `home` (jobs then fail, naming the fix).
 */
async function reachableCentersHome(home: string, log: (line: string) => void): Promise<string> {
  const closed = await closedAncestor(home);
  if (closed === null) return home;
  const moved = join('/var/lib/suanwang-up', createHash('sha256').update(home).digest('hex').slice(0, 12));
  try {
    mkdirSync(moved, { recursive: true });
    // Explicitly: `up` runs under umask 077, which a mkdir mode does not override.
    chmodSync(dirname(moved), 0o711);
    chmodSync(moved, 0o711);
    if ((await closedAncestor(moved)) !== null) return home;
    secureHome(moved, true);
  } catch {
    return home;
  }
  log(`${closed} is not searchable by others, so the org users could not reach their workdirs below ${home}: the centers' folders are in ${moved}`);
  return moved;
}

/** Creates the center when new; returns its agent token (kept in the agent's folder, mode 600). */
async function ensureCenter(ctx: EngineContext, home: string, center: DemoCenter): Promise<string> {
  const dir = join(home, 'centers', center.definition.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 }); // the agent token and its runs: for this user only
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
