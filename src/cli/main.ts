#!/usr/bin/env node
import { ApiError } from '../api/client/client.js';
import { UsageError, type Command } from './command.js';
import { cancel } from './commands/cancel.js';
import { centers } from './commands/centers.js';
import { datasets } from './commands/datasets.js';
import { transfers } from './commands/transfers.js';
import { jobs } from './commands/jobs.js';
import { login } from './commands/login.js';
import { logs } from './commands/logs.js';
import { quote } from './commands/quote.js';
import { store } from './commands/store.js';
import { launch } from './commands/launch.js';
import { publish } from './commands/publish.js';
import { show } from './commands/show.js';
import { sim } from './commands/sim.js';
import { submit } from './commands/submit.js';
import { up } from './up/up.js';
import { server } from './server/server.js';
import { agent } from './agent/agent.js';
import { admin } from './commands/admin.js';
import { billing } from './commands/billing.js';
import { usage } from './commands/usage.js';
import { vouchers } from './commands/vouchers.js';
import { wallet } from './commands/wallet.js';
import { serve } from './commands/serve.js';
import { endpoints } from './commands/endpoints.js';

const COMMANDS: Readonly<Record<string, Command>> = { up, server, agent, admin, submit, quote, jobs, show, logs, cancel, centers, datasets, transfers, store, launch, serve, endpoints, publish, login, sim, wallet, usage, vouchers, billing };

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'suanwang — one compute network over many centers',
    '',
    'usage: suanwang COMMAND [options]   (suanwang COMMAND --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command that prints data takes --json. Server and token: --server/--token, SUANWANG_URL/',
    'SUANWANG_TOKEN, `suanwang login`, or the local network of `suanwang up` (same SUANWANG_HOME).',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const dashdash = rest.indexOf('--');
    const helpAt = Math.max(rest.indexOf('--help'), rest.indexOf('-h'));
    if (dashdash === -1 || helpAt < dashdash) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
  }
  try {
    return await command.run(rest);
  } catch (error) {
    const json = rest.includes('--json');
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n\nusage: ${command.usage}\n`);
      return 2;
    }
    if (error instanceof ApiError) {
      if (json) process.stderr.write(JSON.stringify({ error: { code: error.code, message: error.message, field: error.field, hint: error.hint } }) + '\n');
      else {
        process.stderr.write(`error: ${error.message}${error.code ? ` [${error.code}]` : ''}\n`);
        if (error.field) process.stderr.write(`  field: ${error.field}\n`);
        if (error.hint) process.stderr.write(`  hint:  ${error.hint}\n`);
      }
      return 1;
    }
    process.stderr.write(`error: ${(error as Error).message}\n`);
    if (process.env.SUANWANG_LOG === 'debug') process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
