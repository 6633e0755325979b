import { pino, type DestinationStream, type LevelWithSilent } from 'pino';
import type { Log } from '../core/log.js';

export type { Log } from '../core/log.js';

const LEVELS: readonly LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * The log level from the environment: `SUANWANG_LOG_LEVEL` (trace … fatal, silent), else `debug`
 * when the older `SUANWANG_LOG=debug` is set, else `info`. Throws naming the variable on a bad value.
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LevelWithSilent {
  const raw = env.SUANWANG_LOG_LEVEL?.trim().toLowerCase();
  if (raw) {
    if (!(LEVELS as readonly string[]).includes(raw)) {
      throw new Error(`SUANWANG_LOG_LEVEL is "${env.SUANWANG_LOG_LEVEL}"; use one of ${LEVELS.join(', ')}`);
    }
    return raw as LevelWithSilent;
  }
  return env.SUANWANG_LOG === 'debug' ? 'debug' : 'info';
}

export interface LoggerOptions {
  /** Default: `logLevelFromEnv()`. */
  readonly level?: LevelWithSilent;
  /** Where JSON lines go; default stderr (fd 2, written synchronously so nothing is lost at exit). */
  readonly destination?: DestinationStream;
  /** Fields on every line, e.g. `{ service: 'server' }`. */
  readonly base?: Record<string, unknown>;
}

/**
 * A pino logger writing one JSON object per line: `level` as a name, `time` as ISO 8601, `msg`, the
 * process id, `base` and each call's fields. Errors go under `err` with their stack.
 */
export function createLogger(options: LoggerOptions = {}): Log {
  return pino(
    {
      level: options.level ?? logLevelFromEnv(),
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
}
