import { join } from 'node:path';
import { parse, UsageError, type Command } from '../command.js';
import { suanwangHome, suanwangIsolation, suanwangPort } from '../config.js';
import { startEmbeddedNetwork } from './embedded-network.js';

export const up: Command = {
  summary: 'start Suanwang here: control plane, API and the three-center demo network',
  usage: `suanwang up [--port N] [--host H]

  --port N   HTTP port (default $SUANWANG_PORT or 8470; 0 picks a free one)
  --host H   address to listen on (default 127.0.0.1)
Data lives in $SUANWANG_HOME (default ~/.suanwang); set DATABASE_URL to use PostgreSQL instead of
the embedded PGlite. Jobs of each org run as their own OS user when up runs as root; without root
only one org's jobs run, unless SUANWANG_ISOLATION=none (a machine whose users may all see each
other's jobs). Stop with Ctrl-C: running jobs keep running and are re-attached on the next up.`,
  async run(argv) {
    const { values } = parse(argv, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } });
    const port = values.port === undefined ? suanwangPort() : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes 0–65535, got "${values.port}"`);
    const home = suanwangHome();
    // Everything this process writes (PGlite's files, tokens, agent state) is its own alone.
    process.umask(0o077);
    const verbose = process.env.SUANWANG_LOG === 'debug';
    const network = await startEmbeddedNetwork({
      home,
      host: values.host,
      port,
      databaseUrl: process.env.DATABASE_URL || undefined,
      isolation: suanwangIsolation(),
      log: (line) => {
        if (verbose || /error|lost|fail/i.test(line)) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      },
    });
    const store = network.ctx.store;
    process.stdout.write(
      [
        `Suanwang is up at ${network.url}  (store: ${store.kind} ${store.location === ':memory:' ? '' : store.location})`,
        `centers: ${[...network.agents.keys()].join(', ')}  (agents: local connector, isolation: ${network.isolation})`,
        `admin token: ${network.adminToken}   (also in ${join(home, 'admin-token')})`,
        '',
        'Try, in another terminal (same SUANWANG_HOME / SUANWANG_PORT):',
        `  npx suanwang submit --gpus 1 -- python3 -c "print('hi')"`,
        '  npx suanwang jobs',
        '',
      ].join('\n'),
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.stdout.write('stopping (running jobs keep running; the next `suanwang up` re-attaches them)\n');
    await network.stop();
    return 0;
  },
};
