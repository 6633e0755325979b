import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where Suanwang keeps its data (the embedded database, agent state, tokens): `$SUANWANG_HOME` or ~/.suanwang. */
export function suanwangHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.SUANWANG_HOME || join(homedir(), '.suanwang');
}

export const DEFAULT_PORT = 8470;

/** The port of the local network: `$SUANWANG_PORT` or 8470. */
export function suanwangPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SUANWANG_PORT;
  if (!raw) return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SUANWANG_PORT must be a port number (0–65535), got "${raw}"`);
  }
  return port;
}

/** `$SUANWANG_ISOLATION` for the local connectors of `up` (`users`, `single-org`, `none`), or undefined for the default. */
export function suanwangIsolation(env: NodeJS.ProcessEnv = process.env): 'users' | 'single-org' | 'none' | undefined {
  const raw = env.SUANWANG_ISOLATION;
  if (!raw) return undefined;
  if (raw === 'users' || raw === 'single-org' || raw === 'none') return raw;
  throw new Error(`SUANWANG_ISOLATION must be users, single-org or none, got "${raw}"`);
}

/** `$SUANWANG_BILLING` (`on` or `off`) for `server` and `up`, or undefined for the engine's default (off). */
export function suanwangBilling(env: NodeJS.ProcessEnv = process.env): 'on' | 'off' | undefined {
  const raw = env.SUANWANG_BILLING;
  if (!raw) return undefined;
  if (raw === 'on' || raw === 'off') return raw;
  throw new Error(`SUANWANG_BILLING must be on or off, got "${raw}"`);
}

/** Files in the home folder that `up` writes and the CLI reads. */
export const HOME_FILES = {
  adminToken: 'admin-token',
  /** What the running `up` listens on: `{ "url": … }`. */
  server: 'server.json',
  /** What `suanwang login` saved: `{ "url", "token" }`. */
  login: 'cli.json',
} as const;

export interface Target {
  readonly url: string;
  readonly token: string | undefined;
  /** Where the URL and token came from, for error messages. */
  readonly source: string;
}

/**
 * The server and token the CLI talks to, first found wins: flags; SUANWANG_URL / SUANWANG_TOKEN;
 * what `suanwang login` saved; the local network that `suanwang up` runs with this SUANWANG_HOME.
 */
export function resolveTarget(flags: { server?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv = process.env): Target {
  const home = suanwangHome(env);
  const saved = readJson<{ url?: string; token?: string }>(join(home, HOME_FILES.login));
  const running = readJson<{ url?: string }>(join(home, HOME_FILES.server));
  const adminToken = readText(join(home, HOME_FILES.adminToken));
  const localUrl = env.SUANWANG_PORT || !running?.url ? `http://127.0.0.1:${suanwangPort(env)}` : running.url;
  // An empty variable counts as unset.
  const token = flags.token || env.SUANWANG_TOKEN || undefined;
  if (flags.server || env.SUANWANG_URL) {
    return { url: (flags.server || env.SUANWANG_URL)!, token: token ?? saved?.token, source: flags.server ? '--server' : 'SUANWANG_URL' };
  }
  if (saved?.url) return { url: saved.url, token: token ?? saved.token, source: `${join(home, HOME_FILES.login)} (suanwang login)` };
  return { url: localUrl, token: token ?? adminToken, source: `the local network in ${home}` };
}

export function saveLogin(url: string, token: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = suanwangHome(env);
  mkdirSync(home, { recursive: true });
  const path = join(home, HOME_FILES.login);
  writeFileSync(path, JSON.stringify({ url, token }, null, 2) + '\n', { mode: 0o600 });
  return path;
}

function readJson<T>(path: string): T | undefined {
  const text = readText(path);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
}
