// A bench-only sending center: one data port over a ChunkStore, as its own process (in production
// every agent, and so every data port, is its own process). Prints its URL on stdout once it
// listens; on each line "cpu" on stdin answers with its CPU time so far (µs); stops on SIGTERM.
// Usage: node --import tsx bench/support/data-port.ts STORE_ROOT KEY CENTER
import { createInterface } from 'node:readline';
import { ChunkStore } from '../../src/agent/data/chunk-store.js';
import { startDataServer } from '../../src/agent/data/data-server.js';

const [root, key, center] = process.argv.slice(2);
if (!root || !key || !center) {
  process.stderr.write('usage: data-port.ts STORE_ROOT KEY CENTER\n');
  process.exit(2);
}
const port = await startDataServer({ store: new ChunkStore(root), key, centerId: () => center });
process.stdout.write(`${port.url}\n`);
createInterface({ input: process.stdin }).on('line', () => {
  const c = process.cpuUsage();
  process.stdout.write(`${c.user + c.system}\n`);
});
process.once('SIGTERM', () => void port.close().then(() => process.exit(0)));
