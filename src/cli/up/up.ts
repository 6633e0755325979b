import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PORTAL_DIR } from '../../api/portal.js';
import { createLogger } from '../../api/logger.js';
import { parse, UsageError, type Command } from '../command.js';
import { suanwangBilling, suanwangHome, suanwangIsolation, suanwangPort } from '../config.js';
import { formatFen } from '../../core/money.js';
import { orgIdByName, walletOf } from '../../engine/billing/wallet.js';
import { startEmbeddedNetwork } from './embedded-network.js';
import type { EngineContext } from '../../engine/context.js';

export const up: Command = {
  summary: 'start Suanwang here: control plane, API and the three-center demo network',
  usage: `suanwang up [--port N] [--host H]

  --port N   HTTP port (default $SUANWANG_PORT or 8470; 0 picks a free one)
  --host H   address to listen on (default 127.0.0.1)
Data lives in $SUANWANG_HOME (default ~/.suanwang); set DATABASE_URL to use PostgreSQL instead of
the embedded PGlite. Logs are JSON lines on stderr: SUANWANG_LOG_LEVEL=debug|info|warn|error (default warn for up). Jobs of each org run as their own OS user when up runs as root; without root
only one org's jobs run, unless SUANWANG_ISOLATION=none (a machine whose users may all see each
other's jobs). Billing is on (SUANWANG_BILLING=off turns it off): the first start grants your org
¥10,000 of demo credit and adds a demo voucher paying 30% on domestic chips. Stop with Ctrl-C: running jobs keep running and are re-attached on the next up.`,
  async run(argv) {
    const { values } = parse(argv, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } });
    const port = values.port === undefined ? suanwangPort() : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes 0–65535, got "${values.port}"`);
    const home = suanwangHome();
    // Everything this process writes (PGlite's files, tokens, agent state) is its own alone.
    process.umask(0o077);
    // An interactive network keeps the terminal quiet: warnings unless the environment asks for more.
    const quiet = !process.env.SUANWANG_LOG_LEVEL && !process.env.SUANWANG_LOG;
    const logger = createLogger({ base: { service: 'up' }, ...(quiet ? { level: 'warn' as const } : {}) });
    const network = await startEmbeddedNetwork({
      home,
      host: values.host,
      port,
      databaseUrl: process.env.DATABASE_URL || undefined,
      isolation: suanwangIsolation(),
      // The demo is a trading center: jobs are metered and charged to demo credit (SUANWANG_BILLING=off: not).
      engine: { billing: suanwangBilling() ?? 'on' },
      logger,
      // Agent and leadership lines: trouble is a warning, the rest is for debugging.
      log: (line) => (/error|lost|fail/i.test(line) ? logger.warn(line) : logger.debug(line)),
    });
    const store = network.ctx.store;
    process.stdout.write(
      [
        `Suanwang is up at ${network.url}  (store: ${store.kind} ${store.location === ':memory:' ? '' : store.location})`,
        `centers: ${[...network.agents.keys()].join(', ')}  (agents: local connector, isolation: ${network.isolation})`,
        `admin token: in ${network.adminTokenPath} (mode 0600; the CLI here reads it by itself)`,
        await billingLine(network.ctx),
        existsSync(join(DEFAULT_PORTAL_DIR, 'index.html'))
          ? `web portal: ${network.url}/  (sign in with a token, e.g. the admin token above)`
          : 'web portal: not built in this checkout (npm run build:web)',
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

async function billingLine(ctx: EngineContext): Promise<string> {
  if (ctx.config.billing !== 'on') return 'billing: off (jobs are not charged; SUANWANG_BILLING=on turns it on)';
  const wallet = await walletOf(ctx.store.db, await orgIdByName(ctx.store.db, 'platform'), ctx.now().getTime());
  return `billing: on — your org (platform) has ${formatFen(wallet.available)} available; \`suanwang wallet\` shows it (SUANWANG_BILLING=off: no charges)`;
}
