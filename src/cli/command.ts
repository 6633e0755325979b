import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError, SuanwangClient } from '../api/client/client.js';
import { resolveTarget } from './config.js';
import { parseDuration, parseMemoryMiB } from './format.js';

/** A usage mistake: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

export const COMMON_OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

/** Parses argv with node:util's parseArgs, turning its errors into UsageErrors. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * `--flag`'s whole number, or undefined when the flag is not given. `signed` lets a minus sign
 * through, for the server to reject with the field named.
 */
export function wholeFlag(flag: string, text: string | undefined, signed = false): number | undefined {
  if (text === undefined) return undefined;
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(text)) throw new UsageError(`--${flag} takes a whole number, got "${text}"`);
  return Number(text);
}

/** `--flag`'s size in MiB (512M, 4G), or undefined when the flag is not given. */
export function memoryFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const mib = parseMemoryMiB(text);
  if (mib === undefined) throw new UsageError(`--${flag} takes a size such as 512M or 4G, got "${text}"`);
  return mib;
}

/** `--flag`'s duration in seconds (30m, 2h, 1:30:00), or undefined when the flag is not given. */
export function durationFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const s = parseDuration(text);
  if (s === undefined) throw new UsageError(`--${flag} takes a duration such as 30m, 2h or 1:30:00, got "${text}"`);
  return s;
}

export function clientFor(flags: { server?: string | undefined; token?: string | undefined }): SuanwangClient {
  const target = resolveTarget(flags);
  if (!target.token) {
    throw new ApiError(0, 'no_token', `no token for ${target.url} (looked in ${target.source})`, undefined, 'run `suanwang login --server URL --token TOKEN`, set SUANWANG_TOKEN, or start the local network with `suanwang up`');
  }
  return new SuanwangClient(target.url, target.token);
}

export interface Command {
  readonly summary: string;
  readonly usage: string;
  run(argv: string[]): Promise<number>;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
