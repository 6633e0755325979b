/**
 * A structured logger, as every layer may take it as a parameter: the methods of pino's logger that
 * Suanwang uses, so a pino logger (src/api/logger.ts) is one and a test can pass `noLog` or a
 * capturing object. Fields are JSON values; the message is a short sentence.
 */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

export interface Log {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  /** A logger that adds `fields` to every line (e.g. `{ component: 'control-loop' }`). */
  child(fields: Record<string, unknown>): Log;
}

const drop: LogFn = () => {};

/** Discards everything (the default where a caller gives no logger). */
export const noLog: Log = { debug: drop, info: drop, warn: drop, error: drop, child: () => noLog };
