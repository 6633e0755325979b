import { parse, UsageError, type Command } from '../command.js';
import { suanwangHome, suanwangPort } from '../config.js';
import { startControlPlane } from './control-plane.js';
import { jsonLog, shutdownSignal } from '../json-log.js';
import { createLogger } from '../../api/logger.js';

export const server: Command = {
  summary: 'run the control plane alone (API + control loop), for agents on other hosts to join',
  usage: `suanwang server [--port N] [--host H]

  --port N   HTTP port (default $SUANWANG_PORT or 8470; 0 picks a free one)
  --host H   address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)

The control plane without any center: agents join it with \`suanwang agent --config center.yaml\`.
Store: PostgreSQL at $DATABASE_URL, or embedded PGlite in $SUANWANG_HOME/db when unset (one
process). Several servers may run on one PostgreSQL: each serves the API, one at a time runs the
control loop (a PostgreSQL advisory lock; a follower takes over within seconds when the leader
dies), and wake-ups travel between them with LISTEN/NOTIFY. Migrations are applied at start.
The admin token is written to $SUANWANG_HOME/admin-token (mode 0600), never printed.
Prints one line with its URL to stdout; logs JSON lines to stderr. Stops on SIGINT/SIGTERM.`,
  async run(argv) {
    const { values, positionals } = parse(argv, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const port = values.port === undefined ? suanwangPort() : Number(values.port);
    if (!/^\d+$/.test(values.port ?? '0') || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes 0–65535, got "${values.port}"`);
    const log = jsonLog('server');
    const plane = await startControlPlane({ home: suanwangHome(), host: values.host, port, databaseUrl: process.env.DATABASE_URL || undefined, log, logger: createLogger({ base: { service: 'server' } }) });
    plane.announce();
    const store = plane.ctx.store;
    process.stdout.write(`Suanwang server at ${plane.url}  (store: ${store.kind} ${store.location}; admin token in ${plane.adminTokenPath})\n`);
    log(`listening at ${plane.url}; store ${store.kind} ${store.location}`);
    const why = await shutdownSignal();
    log(`${why}: stopping`);
    await plane.stop();
    log('stopped');
    return 0;
  },
};
