import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError, SuanwangClient } from '../api/client/client.js';
import { resolveTarget } from './config.js';

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
