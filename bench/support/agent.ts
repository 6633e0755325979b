// A bench-only agent process: one center's agent with the local connector, over HTTP, token from a
// file; stops on SIGTERM/SIGINT. (When `suanwang agent --config` is on main, bench/throughput.ts
// starts that instead.)
// Usage: node --import tsx bench/support/agent.ts SERVER_URL TOKEN_FILE STATE_DIR POOLS_JSON [RUNS_DIR]
import { readFileSync } from 'node:fs';
import { startAgent } from '../../src/agent/agent.js';
import { LocalConnector } from '../../src/agent/connectors/local-connector.js';
import { HttpAgentTransport } from '../../src/api/client/agent-client.js';

const [server, tokenFile, stateDir, poolsJson, runsDir] = process.argv.slice(2);
if (!server || !tokenFile || !stateDir || !poolsJson) {
  process.stderr.write('usage: agent.ts SERVER_URL TOKEN_FILE STATE_DIR POOLS_JSON [RUNS_DIR]\n');
  process.exit(2);
}
const connector = new LocalConnector({ stateDir, pools: JSON.parse(poolsJson), ...(runsDir ? { runsDir } : {}) });
const agent = startAgent({
  transport: new HttpAgentTransport({ serverUrl: server, token: readFileSync(tokenFile, 'utf8').trim() }),
  connector,
  log: process.env.SUANWANG_LOG === 'debug' ? (line) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`) : () => {},
});
await agent.registered;
process.stdout.write('registered\n');
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    agent
      .stop()
      .then(() => connector.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
}
