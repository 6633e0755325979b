// npm run bench:data — how fast a dataset version moves between two centers' data ports on this
// machine (loopback HTTP, every chunk hashed on arrival and renamed into place), against a plain
// file copy of the same bytes on the same disk.
//   transfer:   fetchVersion from the west port into the east store (what stage-in and replication
//               do). The west port runs in its own process (bench/support/data-port.ts), as it does
//               in production, where each center's agent is a process; the east side runs here.
//   copy:       the file read and written by a program (1 MiB reads, no hashing): the target's base
//   kernelCopy: fs.copyFile (copy_file_range: the kernel copies page cache to page cache, no
//               program touches the bytes), reported beside it for what it is
// Neither side fsyncs.
// BENCH_DATA_MB (default 200) of random bytes in os.tmpdir(), removed after; each case runs
// once to warm up, then BENCH_RUNS times (default 5), interleaved (transfer, copy, kernel copy, transfer, ...) so load
// from other programs falls on all three alike; the figures are medians. CPU time per GB moved is
// reported beside (both processes of the transfer, this one of the copy): it does not depend on
// the machine's load as wall time does. Exits 1 when the transfer is below 50% of
// the copy's speed. Last line: JSON {"transferMBps", "copyMBps", "ratio", "overhead", ...}.
import { randomBytes, randomInt } from 'node:crypto';
import { closeSync, copyFileSync, createReadStream, createWriteStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { ChunkStore } from '../src/agent/data/chunk-store.js';
import { startDataServer } from '../src/agent/data/data-server.js';
import { fetchVersion } from '../src/agent/data/fetch-version.js';
import { DataPortClient } from '../src/api/client/data-port.js';
import { pushChunks, scanDataset } from '../src/cli/data/dataset-files.js';
import { signGrant } from '../src/core/data-grant.js';
import { seededRng } from '../src/core/rng.js';

const MB = 1_000_000;
const SIZE_MB = Number(process.env.BENCH_DATA_MB ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_RATIO = 0.5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'sw-bench-data-'));
try {
  const file = join(dir, 'input.bin');
  const fd = openSync(file, 'w');
  const block = randomBytes(8 * 1024 * 1024);
  for (let left = SIZE_MB * MB; left > 0; left -= block.length) {
    block.writeUInt32LE(randomInt(2 ** 32), 0); // no two blocks alike: no chunk is shared
    writeSync(fd, block, 0, Math.min(left, block.length));
  }
  closeSync(fd);
  const bytes = SIZE_MB * MB;

  const key = randomBytes(32).toString('hex');
  const west = new ChunkStore(join(dir, 'west'));
  const port = await startDataServer({ store: west, key, centerId: () => 'west' });
  const grant = (mode: 'r' | 'w') => signGrant({ center: 'west', version: 'v1', mode, expiresAt: Date.now() + 3_600_000 }, key);
  const { manifest, files } = await scanDataset(file);
  await pushChunks(new DataPortClient({ url: port.url, grant: grant('w'), version: 'v1' }), manifest, files);
  await west.seal('v1', manifest);
  await port.close();

  // The sending center, as its own process, over the same store.
  const sender = spawn(process.execPath, ['--import', 'tsx', join(dirname(fileURLToPath(import.meta.url)), 'support', 'data-port.ts'), west.root, key, 'west'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: sender.stdout });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`the sending data port exited (code ${code})`));
      sender.once('exit', exited);
      lines.once('line', (line) => {
        sender.off('exit', exited);
        resolve(line);
      });
    });
  const senderUrl = await nextLine();
  const senderCpuUs = async () => {
    const answer = nextLine();
    sender.stdin.write('cpu\n');
    return Number(await answer);
  };

  const transfer: number[] = [];
  const copy: number[] = [];
  const kernelCopy: number[] = [];
  const receiverCpu: number[] = [];
  const senderCpu: number[] = [];
  const copyCpu: number[] = [];
  const cpuMsPerGB = (us: number, n: number) => us / 1000 / (n / 1e9);
  // Run 0 warms up (the JIT, the page cache, the connection) and is not counted: agents are
  // long-lived processes, and the copy gets the same warm-up.
  for (let run = 0; run <= RUNS; run++) {
    if (run === 1) for (const xs of [transfer, copy, kernelCopy, receiverCpu, senderCpu, copyCpu]) xs.length = 0;
    const east = new ChunkStore(join(dir, `east-${run}`));
    let cpu = process.cpuUsage();
    const senderBefore = await senderCpuUs();
    let t = performance.now();
    const moved = await fetchVersion({ store: east, versionId: 'v1', manifest, sources: [{ url: senderUrl, grant: grant('r') }], rng: seededRng(run) });
    transfer.push(moved / MB / ((performance.now() - t) / 1000));
    let used = process.cpuUsage(cpu);
    const sent = (await senderCpuUs()) - senderBefore;
    receiverCpu.push(cpuMsPerGB(used.user + used.system, moved));
    senderCpu.push(cpuMsPerGB(sent, moved));
    rmSync(east.root, { recursive: true, force: true });

    const target = join(dir, `copy-${run}.bin`);
    cpu = process.cpuUsage();
    t = performance.now();
    await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), createWriteStream(target));
    copy.push(bytes / MB / ((performance.now() - t) / 1000));
    used = process.cpuUsage(cpu);
    copyCpu.push(cpuMsPerGB(used.user + used.system, bytes));
    rmSync(target, { force: true });
    t = performance.now();
    copyFileSync(file, target);
    kernelCopy.push(bytes / MB / ((performance.now() - t) / 1000));
    rmSync(target, { force: true });
  }
  sender.stdin.end();
  await new Promise((resolve) => {
    sender.once('exit', resolve);
    sender.kill('SIGTERM');
  });
  const transferMBps = median(transfer);
  const copyMBps = median(copy);
  const ratio = transferMBps / copyMBps;
  const result = {
    bytes,
    runs: RUNS,
    transferMBps: Math.round(transferMBps),
    copyMBps: Math.round(copyMBps),
    ratio: Number(ratio.toFixed(3)),
    overhead: Number((1 - ratio).toFixed(3)),
    target: TARGET_RATIO,
    kernelCopyMBps: Math.round(median(kernelCopy)),
    kernelCopyRatio: Number((transferMBps / median(kernelCopy)).toFixed(3)),
    transferRunsMBps: transfer.map(Math.round),
    copyRunsMBps: copy.map(Math.round),
    transferCpuMsPerGB: Math.round(median(receiverCpu) + median(senderCpu)),
    receiverCpuMsPerGB: Math.round(median(receiverCpu)),
    senderCpuMsPerGB: Math.round(median(senderCpu)),
    copyCpuMsPerGB: Math.round(median(copyCpu)),
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
  };
  console.log(`transfer ${result.transferMBps} MB/s (runs ${result.transferRunsMBps.join(', ')}), plain copy ${result.copyMBps} MB/s (runs ${result.copyRunsMBps.join(', ')}): ${Math.round(ratio * 100)}% of copy speed, target ${TARGET_RATIO * 100}%; CPU per GB: transfer ${result.transferCpuMsPerGB} ms (both processes), copy ${result.copyCpuMsPerGB} ms; load ${result.loadAverage.join(' ')}`);
  console.log(JSON.stringify(result));
  process.exitCode = ratio >= TARGET_RATIO ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
