// npm run bench:serve — the endpoint gateway's cost: how much a request through /e/NAME/ takes over
// calling the replica directly (target: < 2 ms added at p50), and requests per second through it.
// Runs the embedded network (PGlite, the demo centers), serves textgen-mini with one replica (no
// simulated decode time: the replica answers as fast as it can), then alternates direct and
// gateway requests on kept-alive connections so drift on a busy machine hits both alike. The added
// time is the median over pairs of (gateway − direct); the difference of the two p50s is reported too.
// JSON on the last line; exit 1 when the target is missed.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SuanwangClient } from '../src/api/client/client.js';
import { startEmbeddedNetwork } from '../src/cli/up/embedded-network.js';

const PAIRS = Number(process.env.SUANWANG_BENCH_PAIRS ?? 2000);
const RPS_SECONDS = Number(process.env.SUANWANG_BENCH_SECONDS ?? 10);
const CONCURRENCY = 16;
const TARGET_ADDED_MS = 2;
const BODY = JSON.stringify({ prompt: 'Alice ', length: 20 });

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (xs: readonly number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!;
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

const home = await mkdtemp(join(tmpdir(), 'suanwang-bench-serve-'));
const network = await startEmbeddedNetwork({ home, host: '127.0.0.1', port: 0, engine: { tickMs: 200, heartbeatIntervalMs: 1000 }, serving: { passMs: 500 } });
const client = new SuanwangClient(network.url, network.adminToken);
try {
  await client.createEndpoint({ app: 'textgen-mini', region: 'east', min: 1, max: 1 });
  let address: string | null = null;
  for (const started = Date.now(); !address; ) {
    const e = await client.endpoint('textgen-mini');
    address = e.replicas.find((r) => r.ready)?.address ?? null;
    if (Date.now() - started > 120_000) throw new Error('no ready replica after 120 s');
    if (!address) await new Promise((r) => setTimeout(r, 250));
  }
  const direct = `${address}/generate`;
  const gateway = `${network.url}/e/textgen-mini/generate`;
  const headers = { authorization: `Bearer ${network.adminToken}`, 'content-type': 'application/json' };
  const once = async (url: string): Promise<number> => {
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', headers, body: BODY });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
    return performance.now() - t;
  };
  for (let i = 0; i < 200; i++) await Promise.all([once(direct), once(gateway)]); // warm up both paths
  const d: number[] = [];
  const g: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    if (i % 2) {
      d.push(await once(direct));
      g.push(await once(gateway));
    } else {
      g.push(await once(gateway));
      d.push(await once(direct));
    }
  }
  const added = d.map((x, i) => g[i]! - x);
  // Throughput: CONCURRENCY closed loops for RPS_SECONDS through the gateway.
  let answered = 0;
  const end = performance.now() + RPS_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await once(gateway);
        answered++;
      }
    }),
  );
  const result = {
    pairs: PAIRS,
    directP50Ms: round(median(d)),
    gatewayP50Ms: round(median(g)),
    // The gate: the median over pairs of (gateway − direct), each pair sent back to back.
    addedP50Ms: round(median(added)),
    p50DifferenceMs: round(median(g) - median(d)),
    addedP95Ms: round(pct(added, 0.95)),
    gatewayRequestsPerSecond: Math.round(answered / RPS_SECONDS),
    concurrency: CONCURRENCY,
    targetAddedP50Ms: TARGET_ADDED_MS,
    // The machine's 1-minute load average at the end: a busy machine slows both paths.
    loadAverage1m: round(loadavg()[0]!, 2),
    ok: median(added) < TARGET_ADDED_MS,
  };
  if (!result.ok) process.stderr.write(`MISSED: the gateway adds ${result.addedP50Ms} ms at p50 (target < ${TARGET_ADDED_MS} ms)\n`);
  console.log(JSON.stringify(result));
  process.exitCode = result.ok ? 0 : 1;
} finally {
  await client.deleteEndpoint('textgen-mini').catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1500));
  await network.stop();
  await rm(home, { recursive: true, force: true });
}
