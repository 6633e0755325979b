// A bench-only control plane: the HTTP API and the control loop with no centers inside, on the
// PostgreSQL of DATABASE_URL; prints one JSON line { url, adminToken } when it serves, stops on
// SIGTERM/SIGINT. (When `suanwang server` is on main, bench/throughput.ts starts that instead.)
// Usage: DATABASE_URL=postgres://… node --import tsx bench/support/control-plane.ts HOME
import { startEmbeddedNetwork } from '../../src/cli/up/embedded-network.js';

const home = process.argv[2];
if (!home || !process.env.DATABASE_URL) {
  process.stderr.write('usage: DATABASE_URL=postgres://… control-plane.ts HOME\n');
  process.exit(2);
}
const network = await startEmbeddedNetwork({
  home,
  host: '127.0.0.1',
  port: 0,
  databaseUrl: process.env.DATABASE_URL,
  centers: [],
  links: [],
  seedCatalog: false,
  log: process.env.SUANWANG_LOG === 'debug' ? (line) => process.stderr.write(`${line}\n`) : () => {},
});
process.stdout.write(JSON.stringify({ url: network.url, adminToken: network.adminToken }) + '\n');
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    network.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
