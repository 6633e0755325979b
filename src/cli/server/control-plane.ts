import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../api/app.js';
import { createMetrics } from '../../api/metrics.js';
import { noLog, type Log } from '../../core/log.js';
import { listen } from '../../api/server.js';
import { createUser, createUserToken } from '../../engine/accounts.js';
import { createContext, type EngineConfig, type EngineContext } from '../../engine/context.js';
import { startControlLoop } from '../../engine/control-loop.js';
import { startLeadership, type Leadership } from '../../engine/leadership.js';
import { ServingController, type ServingConfig } from '../../engine/serving/controller.js';
import { hashSecret } from '../../engine/secrets.js';
import { bridgeSignals } from '../../engine/signals.js';
import { findTokenOwner, findUserByName } from '../../store/accounts.js';
import { openStore } from '../../store/open-database.js';
import { HOME_FILES, suanwangBilling } from '../config.js';

export interface ControlPlaneOptions {
  /** The data folder: PGlite's database (unless `databaseUrl`), the admin token, server.json. */
  readonly home: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Use this PostgreSQL instead of the embedded PGlite. */
  readonly databaseUrl?: string | undefined;
  readonly engine?: Partial<EngineConfig>;
  readonly log?: (line: string) => void;
  /** Structured logger for request lines and errors (default: none). */
  readonly logger?: Log;
  /** How often a follower tries to take the lead (PostgreSQL). Default 1000 ms. */
  readonly leaderRetryMs?: number;
  /** Inference endpoints: autoscaling delays, cold-start hold (src/engine/serving/controller.ts). */
  readonly serving?: Partial<ServingConfig>;
}

export interface ControlPlane {
  readonly url: string;
  readonly ctx: EngineContext;
  /** The admin token, and the 0600 file it is kept in (the token is never printed). */
  readonly adminToken: string;
  readonly adminTokenPath: string;
  readonly leadership: Leadership;
  /** Inference endpoints' replicas, probes and autoscaling; the gateway routes through it. */
  readonly serving: ServingController;
  /** Writes `home/server.json` (its URL), where the CLI on this host finds it: call when ready. */
  announce(): void;
  stop(): Promise<void>;
}

/**
 * Starts the control plane in this process: opens the store (migrating it; several processes may
 * start at once), serves the HTTP API, bridges wake-ups to the other replicas (PostgreSQL), and runs
 * the control loop while this process leads. `suanwang server` is exactly this; `suanwang up` is
 * this plus in-process agents. stop() ends it in order: API, loop, leadership, wake-ups, store.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const log = options.log ?? (() => {});
  mkdirSync(options.home, { recursive: true, mode: 0o700 });
  // PGlite's files take one process; replicas on PostgreSQL may share a home (and its admin token).
  const release = options.databaseUrl ? () => {} : claimHome(options.home);
  const store = await openStore({ databaseUrl: options.databaseUrl, dataDir: join(options.home, 'db') }).catch((e: unknown) => {
    release();
    throw e;
  });
  const undo: (() => Promise<void>)[] = [async () => store.close(), async () => release()];
  const unwind = async () => {
    for (const f of undo.reverse()) await f().catch(() => {});
  };
  try {
    const logger = options.logger ?? noLog;
    const metrics = createMetrics(store.db);
    const billing = suanwangBilling();
    const ctx: EngineContext = { ...createContext(store, { ...(billing ? { billing } : {}), ...options.engine }), metrics: metrics.engine };
    const adminTokenPath = join(options.home, HOME_FILES.adminToken);
    const adminToken = await ensureAdminToken(ctx, adminTokenPath);
    const bridge = await bridgeSignals(store, ctx.signals, log);
    undo.push(() => bridge.stop());
    const lead: { current?: Leadership } = {};
    const serving = new ServingController(ctx, { config: options.serving ?? {}, isLeader: () => lead.current?.isLeader ?? false, registry: metrics.registry });
    const servingLog = logger.child({ component: 'serving' });
    serving.onError = (err) => servingLog.error({ err }, 'serving pass failed');
    const server = await listen(createApp(ctx, { log: logger, metrics, serving }), options.host, options.port);
    undo.push(() => server.close());
    const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${server.port}`;
    let stopped = false;
    const leadership = startLeadership(store, {
      retryMs: options.leaderRetryMs,
      log,
      onChange: (leading) =>
        log(leading ? `leader: this process (pid ${process.pid}) runs the control loop` : stopped ? 'stepped down as leader' : 'follower: another process runs the control loop; taking over if it stops'),
    });
    lead.current = leadership;
    const loopLog = logger.child({ component: 'control-loop' });
    const loop = startControlLoop(ctx, (err) => loopLog.error({ err }, 'control loop pass failed'), leadership, (line) => loopLog.info(line));
    serving.start();
    return {
      url,
      ctx,
      adminToken,
      adminTokenPath,
      leadership,
      serving,
      announce() {
        writeFileSync(join(options.home, HOME_FILES.server), JSON.stringify({ url, pid: process.pid }) + '\n');
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await serving.stop();
        await server.close();
        await loop.stop();
        await leadership.stop();
        await bridge.stop();
        await store.close();
        const running = readText(join(options.home, HOME_FILES.server));
        if (running?.includes(`"pid":${process.pid}`)) rmSync(join(options.home, HOME_FILES.server), { force: true });
        release();
      },
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

/** One process per PGlite home folder. Returns the release function. */
function claimHome(home: string): () => void {
  const lock = join(home, 'up.pid');
  const pid = Number(readText(lock) ?? 0);
  if (pid && pid !== process.pid && isAlive(pid)) {
    throw new Error(`Suanwang is already running from ${home} (pid ${pid}); stop it first, or use another SUANWANG_HOME`);
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

function readText(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
}

/**
 * The admin token kept in `path` (mode 0600), created with the admin user when missing or no longer
 * valid. Replicas starting at once on one PostgreSQL may race to create the admin user: the loser
 * finds it on its next try.
 */
async function ensureAdminToken(ctx: EngineContext, path: string): Promise<string> {
  const saved = readText(path) ?? '';
  if (saved && (await findTokenOwner(ctx.store.db, hashSecret(saved)))?.user?.role === 'admin') return saved;
  for (let attempt = 1; ; attempt++) {
    try {
      const admin = await findUserByName(ctx.store.db, 'admin');
      const token = admin
        ? await createUserToken(ctx, admin.id, 'admin token of the control plane')
        : (await createUser(ctx, { orgName: 'platform', name: 'admin', role: 'admin' })).token;
      writeFileSync(path, token + '\n', { mode: 0o600 });
      chmodSync(path, 0o600); // an older file keeps its mode through writeFileSync
      return token;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
