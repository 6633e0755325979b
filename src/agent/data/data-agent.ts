import { randomBytes } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { AgentTransport } from '../../api/client/agent-client.js';
import { TransportError } from '../../api/client/agent-client.js';
import type { Lease, LeaseOutput, LeaseTenant, TransferTask } from '../../core/agent-protocol.js';
import { seededRng } from '../../core/rng.js';
import { SuanwangError } from '../../core/errors.js';
import { checkManifest, DEFAULT_CHUNK_BYTES, manifestBytes, planChunks, planEviction, TokenBucket, uniqueChunks, type HeldReplica, type Manifest } from '../../data/index.js';
import { openScanned, readFully, scanDataset, type LocalFile } from '../../data/io/scan-files.js';
import { giveBack, takeBuffer } from './buffer-pool.js';
import { ChunkStore } from './chunk-store.js';
import { startDataServer, type DataServer } from './data-server.js';
import { fetchVersion } from './fetch-version.js';
import { jobOutputDir } from './job-output-dir.js';

/*
 * The agent's data side (docs/data.md): its center's dataset storage, the data port that serves it,
 * and the transfers into it. A loop asks the control plane for the transfers into this center
 * (uploads to seal, replicas, stage-ins started early) and carries each out once; a lease with
 * inputs is staged before its run starts (`prepare`), reusing a transfer already under way.
 */

export interface DataAgentOptions {
  /** The center's storage root (the local connector: a folder in its state dir; Slurm: a shared path). */
  readonly root: string;
  /** Where the data port listens (default 127.0.0.1, a free port). */
  readonly host?: string;
  readonly port?: number;
  /** The URL others reach the port at, when it differs from the listening address (NAT, a proxy). */
  readonly publicUrl?: string;
  /** The most the storage may hold; null: the disk. */
  readonly quotaBytes?: number | null;
  /** Bytes per second this center receives / sends at most; null: no limit. */
  readonly receiveBytesPerSecond?: number | null;
  readonly sendBytesPerSecond?: number | null;
  /**
   * Bytes per second this center receives at most from one other center (per link, by the source
   * center's name), alongside the center's own limit: the tighter one paces each chunk.
   */
  readonly linkReceiveBytesPerSecond?: Readonly<Record<string, number>>;
  /** How often the transfers into this center are asked for (default 500 ms). */
  readonly pollMs?: number;
  /** Whether folders must be reachable by other (org) users: the local connector's 'users' isolation. */
  readonly sharedWithOrgUsers?: boolean;
}

/** A job's output folder hashed, not registered yet (DataAgent.scanOutput). */
export interface ScannedOutput {
  readonly output: LeaseOutput;
  readonly manifest: Manifest;
  readonly files: readonly LocalFile[];
  readonly ownerUid: number | null;
}

type Owner = (tenant: LeaseTenant) => Promise<{ name: string; uid: number; gid: number } | null>;

export class DataAgent {
  readonly store: ChunkStore;
  readonly #options: DataAgentOptions;
  readonly #transport: AgentTransport;
  readonly #say: (line: string) => void;
  readonly #key = randomBytes(32).toString('hex');
  readonly #running = new Map<string, Promise<void>>();
  readonly #limiter: TokenBucket | null;
  readonly #links = new Map<string, TokenBucket>();
  /** Manifests of the versions being received: an eviction's sweep keeps their chunks. */
  readonly #receiving = new Map<string, Manifest>();
  #centerId: string | null = null;
  #server: DataServer | null = null;
  #stopped = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  readonly #abort = new AbortController();

  readonly #owner: Owner;

  /** `owner`: the OS user an org's jobs run as (the connector's `dataOwner`), to own its read-only files. */
  constructor(options: DataAgentOptions, transport: AgentTransport, say: (line: string) => void, owner: Owner = () => Promise.resolve(null)) {
    this.#owner = owner;
    this.#options = options;
    this.#transport = transport;
    this.#say = say;
    this.store = new ChunkStore(options.root, { quotaBytes: options.quotaBytes ?? null });
    this.#limiter = options.receiveBytesPerSecond ? new TokenBucket(options.receiveBytesPerSecond, { now: () => Date.now() }) : null;
    for (const [center, rate] of Object.entries(options.linkReceiveBytesPerSecond ?? {})) this.#links.set(center, new TokenBucket(rate, { now: () => Date.now() }));
  }

  /** Starts the data port (once) and tells the control plane about it; call after each registration. */
  async announce(centerId: string): Promise<void> {
    this.#centerId = centerId;
    if (!this.#server) {
      await mkdir(this.#options.root, { recursive: true, mode: 0o700 });
      // Jobs reach their org's files under views/ by name only; the rest stays the agent's.
      await chmod(this.#options.root, this.#options.sharedWithOrgUsers ? 0o711 : 0o700);
      this.#server = await startDataServer({
        store: this.store,
        key: this.#key,
        centerId: () => this.#centerId,
        host: this.#options.host ?? '127.0.0.1',
        port: this.#options.port ?? 0,
        sendBytesPerSecond: this.#options.sendBytesPerSecond ?? null,
        makeRoom: (versionId, bytes) => this.#evictFor(versionId, bytes),
      });
    }
    await this.#transport.registerDataPort?.({ url: this.#options.publicUrl ?? this.#server.url, key: this.#key }, this.#abort.signal);
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        const tasks = (await this.#transport.transfers?.(this.#abort.signal)) ?? [];
        for (const t of tasks) void this.#carryOut(t).catch(() => undefined);
      } catch (error) {
        if (this.#stopped) return;
        this.#say(`could not ask for transfers: ${(error as Error).message}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#options.pollMs ?? 500);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Carries out a transfer once (a second call while it runs waits for the first). */
  #carryOut(t: TransferTask): Promise<void> {
    const had = this.#running.get(t.id);
    if (had) return had;
    const p = this.#transfer(t).finally(() => this.#running.delete(t.id));
    this.#running.set(t.id, p);
    return p;
  }

  async #transfer(t: TransferTask): Promise<void> {
    const manifest = checkManifest(t.manifest as Parameters<typeof checkManifest>[0]);
    const report = (state: 'running' | 'done' | 'failed', bytesMoved: number, error: string | null) =>
      this.#transport.reportTransfer?.(t.id, { state, bytesMoved, error }, this.#abort.signal);
    let moved = 0;
    try {
      if (t.kind === 'upload') {
        await this.store.seal(t.versionId, manifest);
      } else if ((await this.store.version(t.versionId)) === null) {
        await report('running', 0, null);
        this.#receiving.set(t.id, manifest);
        await this.#makeRoom(t.versionId, manifest);
        let last = Date.now();
        let base = -1;
        moved = await fetchVersion({
          store: this.store,
          versionId: t.versionId,
          manifest,
          sources: t.sources.map((s) => ({ ...s, limiter: this.#links.get(s.center) ?? null })),
          limiter: this.#limiter,
          signal: this.#abort.signal,
          rng: seededRng(Number.parseInt(createHash('sha256').update(t.id).digest('hex').slice(0, 8), 16)),
          onProgress: (done) => {
            if (base < 0) base = done;
            if (Date.now() - last < 1000) return;
            last = Date.now();
            void report('running', done - base, null)?.catch(() => undefined);
          },
        });
      }
      // A stage-in's files are laid out for its org now, so the job's start does not wait for them.
      if (t.tenant) await this.#view(t.versionId, t.tenant);
      this.#receiving.delete(t.id);
      await report('done', moved, null);
      this.#say(`transfer ${t.id} (${t.kind} of ${t.versionId}) done: ${moved} bytes moved`);
    } catch (error) {
      this.#receiving.delete(t.id);
      if (this.#stopped) throw error; // an agent stopping mid-transfer resumes it after its restart
      const message = (error as Error).message;
      this.#say(`transfer ${t.id} failed: ${message}`);
      await report('failed', moved, message)?.catch(() => undefined);
      throw error;
    }
  }

  /**
   * Before a version is received or stored: room for the chunks of it still missing (`#evictFor`;
   * `what` names it in a `storage_full`). Returns the chunks this store lacks.
   */
  async #makeRoom(versionId: string, manifest: Manifest, what?: string): Promise<Set<string>> {
    const chunks = uniqueChunks(manifest);
    const missing = new Set(await this.store.missing(chunks.map((c) => c.sha256)));
    if (this.store.quotaBytes === null) return missing;
    let incoming = 0;
    for (const c of chunks) if (missing.has(c.sha256)) incoming += c.bytes - (await this.store.partialBytes(c.sha256));
    await this.#evictFor(versionId, incoming, what);
    return missing;
  }

  /** One eviction at a time: two uploads' chunks arriving together do not both evict for the same room. */
  #evicting: Promise<void> = Promise.resolve();

  /**
   * Eviction at the quota (docs/data.md): when `incoming` more bytes for `versionId` (a transfer's
   * missing chunks, or a chunk pushed to the data port) would not fit, drops unpinned replicas,
   * least recently used first (src/data/eviction.ts), and tells the control plane which.
   * `storage_full` when pinned replicas leave no room; nothing is dropped then.
   */
  #evictFor(versionId: string, incoming: number, what = `version ${versionId}`): Promise<void> {
    const run = this.#evicting.then(async () => {
      const quota = this.store.quotaBytes;
      if (quota === null) return;
      const used = await this.store.usedBytes();
      if (used + incoming <= quota) return;
      const known = new Map(((await this.#transport.replicas?.(this.#abort.signal)) ?? []).map((r) => [r.versionId, r]));
      const held: HeldReplica[] = [];
      const manifests = new Map<string, Manifest>();
      for (const id of await this.store.versions()) {
        if (id === versionId) continue;
        const m = await this.store.version(id);
        const r = known.get(id);
        if (m) manifests.set(id, m);
        // A version the control plane does not list as held here (an upload being sealed) is kept.
        if (m) held.push({ datasetId: id, bytes: manifestBytes(m), lastUsedAt: r?.lastUsedAt ?? 0, pinned: !r || r.pinned });
      }
      // Bytes no held version accounts for (partial chunks, an open upload's chunks) stay where they are.
      const other = Math.max(0, used - held.reduce((s, h) => s + h.bytes, 0));
      const plan = planEviction(held, quota - other, incoming);
      if (plan.kind === 'full') {
        throw new SuanwangError('storage_full', `${what} needs ${incoming} bytes and the center's storage has ${Math.max(0, quota - used)} free; evicting every unpinned replica would free ${plan.evictableBytes}`, {
          hint: 'the rest is pinned (replication rules, jobs reading it, last copies): delete a rule or raise the quota; nothing was lost',
        });
      }
      const dropped = new Set(plan.evict.flatMap((id) => uniqueChunks(manifests.get(id)!).map((c) => c.sha256)));
      for (const id of plan.evict) await this.store.dropVersion(id);
      const freed = await this.store.sweep(dropped, new Set([...this.#receiving.values()].flatMap((m) => uniqueChunks(m).map((c) => c.sha256))));
      await this.#transport.droppedReplicas?.(plan.evict, this.#abort.signal);
      this.#say(`evicted ${plan.evict.join(', ')} (${freed} bytes) to make room for ${versionId}`);
    });
    this.#evicting = run.catch(() => undefined);
    return run;
  }

  /**
   * Stages a lease's inputs into this center (a transfer each that is not here yet) and returns the
   * lease with every input's `path`: its read-only files, owned by the org's user.
   */
  async prepare(lease: Lease): Promise<Lease> {
    if (!lease.inputs || lease.inputs.length === 0) return lease;
    const inputs = [];
    for (const input of lease.inputs) {
      if ((await this.store.version(input.versionId)) === null) {
        if (!this.#transport.stageIn) throw new Error(`input ${input.name} is not at this center and the transport cannot stage it in`);
        const task = await this.#transport.stageIn(lease.jobId, input.versionId, this.#abort.signal);
        await this.#carryOut(task);
      }
      inputs.push({ ...input, path: await this.#view(input.versionId, lease.tenant) });
    }
    return { ...lease, inputs };
  }

  /** The version's read-only files for an org (made once per org and version). */
  async #view(versionId: string, tenant: LeaseTenant): Promise<string> {
    const user = await this.#owner(tenant);
    const ownerKey = user?.name ?? `org-${createHash('sha256').update(tenant.orgId).digest('hex').slice(0, 16)}`;
    return this.store.view(versionId, ownerKey, user);
  }

  /**
   * A succeeded run's output, before anything is registered (docs/data.md, "Outputs"): its folder
   * (jobOutputDir: present, inside the workdir) hashed into a manifest. With `ownerUid` (an agent
   * running as root for per-org users) every file and folder must be that user's.
   */
  async scanOutput(workdir: string, output: LeaseOutput, ownerUid: number | null): Promise<ScannedOutput> {
    const dir = await jobOutputDir(workdir, output.dir);
    const { manifest, files } = await scanDataset(dir, DEFAULT_CHUNK_BYTES, undefined, { ownerUid });
    return { output, manifest, files, ownerUid };
  }

  /**
   * Stores a scanned output's chunks in this center's storage and seals it as a new version of its
   * dataset: the control plane opens the version (`openOutput`), the chunks this store lacks are
   * read from the files one chunk at a time (room made first, as for any transfer in: `#evictFor`),
   * the version is recorded as held here, and its transfer reported done, which seals it. Safe to
   * run again after a failure or a restart: the same manifest gets the same version, held chunks
   * are skipped. A failure that is not the network's is reported on the transfer (and the job).
   */
  async storeOutput(run: { readonly jobId: string; readonly attempt: number }, scanned: ScannedOutput): Promise<{ version: number; bytes: number; files: number; stored: number }> {
    if (!this.#transport.openOutput || !this.#transport.reportTransfer) throw new Error('the transport cannot register outputs');
    const { manifest, output } = scanned;
    const key = `output-${run.jobId}-${output.dataset}`;
    // Its chunks are kept from any eviction's sweep from here on; room is made before the version
    // is opened, so a center without room (pinned replicas only) registers nothing at all.
    this.#receiving.set(key, manifest);
    try {
      const missing = await this.#makeRoom(key, manifest, `the output for dataset ${output.dataset}`);
      const open = await this.#transport.openOutput(run.jobId, { attempt: run.attempt, dataset: output.dataset, manifest }, this.#abort.signal);
      const summary = { version: open.version, bytes: manifestBytes(manifest), files: manifest.files.length, stored: 0 };
      if (open.state === 'done') return summary;
      try {
        await this.#storeChunks(scanned, missing, summary);
        await this.store.seal(open.versionId, manifest);
        await this.#transport.reportTransfer(open.transferId, { state: 'done', bytesMoved: summary.stored, error: null }, this.#abort.signal);
        return summary;
      } catch (error) {
        if (!this.#stopped && !(error instanceof TransportError && error.retryable)) {
          await this.#transport.reportTransfer(open.transferId, { state: 'failed', bytesMoved: summary.stored, error: (error as Error).message.slice(0, 2000) }, this.#abort.signal).catch(() => undefined);
        }
        throw error;
      }
    } finally {
      this.#receiving.delete(key);
    }
  }

  /** Puts the `missing` chunks of a scanned output into the store, each read from its file into a pooled chunk buffer. */
  async #storeChunks(scanned: ScannedOutput, missing: Set<string>, summary: { stored: number }): Promise<void> {
    const { manifest, files } = scanned;
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const f of manifest.files) {
      const slices = planChunks(f.bytes, manifest.chunkBytes);
      if (!f.chunks.some((sha) => missing.has(sha))) continue;
      const handle = await openScanned(byPath.get(f.path)!, scanned.ownerUid);
      try {
        for (const [k, sha] of f.chunks.entries()) {
          if (!missing.has(sha)) continue;
          if (this.#stopped) throw new Error('the agent is stopping');
          const chunk = takeBuffer(slices[k]!.length);
          try {
            await readFully(handle, chunk, slices[k]!.offset);
            await this.store.put(sha, chunk.length, [chunk]); // checks the sha256: a file changed since the scan is refused
          } finally {
            giveBack(chunk);
          }
          missing.delete(sha);
          summary.stored += chunk.length;
        }
      } finally {
        await handle.close();
      }
    }
  }

  #stopping: Promise<void> | null = null;

  /** Aborts the transfers under way (their partial chunks stay, to resume) and closes the data port. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopped = true;
      this.#abort.abort(new Error('the agent is stopping'));
      this.#wake?.();
      await this.#loop?.catch(() => undefined);
      await Promise.allSettled([...this.#running.values()]);
      await this.#server?.close();
    })();
    return this.#stopping;
  }
}
