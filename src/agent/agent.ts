import type { AgentTransport } from '../api/client/agent-client.js';
import { SessionExpiredError, TransportError } from '../api/client/agent-client.js';
import type { Lease, LogChunk, LogReport, LogStream, RunRef, RunStatus, StateReport } from '../core/agent-protocol.js';
import type { Connector, RunInfo } from './connector.js';
import { DataAgent, type DataAgentOptions } from './data/data-agent.js';

/*
 * The agent runtime: three loops around one session.
 *
 *   heartbeat  every heartbeatIntervalMs: the runs as the connector sees them; applies `kill`.
 *   leases     long poll; starts each new lease; applies `kill`.
 *   status     every statusIntervalMs: ships new output, reports `running` once per run, and for a run
 *              that ended ships the rest of its output, then its final state, then forgets it; all
 *              of a pass in one call (POST /v1/agent/reports) when the transport has it.
 *
 * Everything the agent must not lose lives in the connector's state (runs and their output), not in
 * this process: a restarted agent re-registers with the runs it finds, re-ships output from offset 0
 * (the server ignores bytes it already has) and reports every state again until one is accepted. So
 * any failure here is handled by trying again later, never by giving up on a run.
 */

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  readonly transport: AgentTransport;
  readonly connector: Connector;
  /** Prefix of log lines; defaults to the connector kind. */
  readonly name?: string;
  /** Where log lines go; defaults to stderr. */
  readonly log?: (line: string) => void;
  /** How long a lease long poll may wait on the server. Default 20 s. */
  readonly pollWaitMs?: number;
  /** How often output and states are shipped. Default 100 ms: a trivial job's end reaches the control plane fast. */
  readonly statusIntervalMs?: number;
  readonly agentVersion?: string;
  /** The center's dataset storage and data port (docs/data.md); without it, leases with inputs fail to start. */
  readonly data?: DataAgentOptions;
}

export interface AgentHandle {
  /** Resolves after the first successful register; rejects if the agent is stopped before that. */
  readonly registered: Promise<void>;
  /** Stops the loops and waits for them (no timer or request is left); runs keep going, the connector stays open. */
  stop(): Promise<void>;
}

/** Output is shipped in chunks of at most this many bytes per stream. */
const CHUNK_BYTES = 64 * 1024;
/** Chunk rounds per running run per status pass, so one chatty run cannot starve the others. */
const ROUNDS_PER_PASS = 8;
/** Output bytes one batched report carries at most (the server takes 8 MiB bodies; JSON escapes grow text). */
const REPORT_BYTES = 3 * 1024 * 1024;
const BACKOFF_START_MS = 200;
const BACKOFF_CAP_MS = 2000;
/** Runs whose output one batched status pass reads at once. */
const READ_CONCURRENCY = 32;
/** Leases started at once. */
const START_CONCURRENCY = 16;
/** Run keys remembered as started, so a lease delivered twice is not run twice. */
const SEEN_LIMIT = 10_000;
const STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

/** Starts an agent: registers (retrying until it works), then runs its loops until `stop()`. */
export function startAgent(options: AgentOptions): AgentHandle {
  const agent = new AgentRuntime(options);
  agent.run();
  return { registered: agent.registered, stop: () => agent.stop() };
}

interface Session {
  readonly id: string;
  readonly heartbeatIntervalMs: number;
}

/** What the agent remembers of a run between status passes (lost on restart, on purpose: see above). */
interface Tracked {
  readonly offsets: Record<LogStream, number>;
  runningReported: boolean;
  /** The server refused this run's output with a 4xx (a bad chunk, its output cap): ship no more of it. */
  outputRefused?: boolean;
}

class AgentRuntime {
  readonly registered: Promise<void>;
  readonly #transport: AgentTransport;
  readonly #connector: Connector;
  readonly #name: string;
  readonly #log: (line: string) => void;
  readonly #pollWaitMs: number;
  readonly #statusIntervalMs: number;
  readonly #agentVersion: string;
  readonly #abort = new AbortController();
  #resolveRegistered: () => void = () => undefined;
  #rejectRegistered: (error: Error) => void = () => undefined;
  #everRegistered = false;
  #session: Session | null = null;
  #registering: Promise<void> | null = null;
  #loops: Promise<void>[] = [];
  readonly #tracked = new Map<string, Tracked>();
  readonly #seen = new Set<string>();
  /** Final states of leases that could not be started: there is no run to report them from. */
  readonly #startFailures = new Map<string, { readonly jobId: string; readonly report: StateReport }>();
  /** The last problem logged per loop, so an outage is logged once, not every retry. */
  readonly #problems = new Map<string, string>();
  readonly #data: DataAgent | null;
  /**
   * Runs that succeeded and whose job registers outputs (docs/data.md, "Outputs"): the work storing
   * them, then the final state to report (failed when an output could not be registered). Lost on
   * restart on purpose: the next agent stores them again (what is held is skipped).
   */
  readonly #outputs = new Map<string, { work: Promise<void> | null; final: RunStatus | null; retryAt: number }>();

  constructor(options: AgentOptions) {
    this.#transport = options.transport;
    this.#connector = options.connector;
    this.#name = options.name ?? options.connector.kind;
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.#pollWaitMs = options.pollWaitMs ?? 20_000;
    this.#statusIntervalMs = options.statusIntervalMs ?? 100;
    this.#agentVersion = options.agentVersion ?? AGENT_VERSION;
    this.#data = options.data ? new DataAgent(options.data, options.transport, (line) => this.#say(line), (tenant) => options.connector.dataOwner?.(tenant) ?? Promise.resolve(null)) : null;
    this.registered = new Promise<void>((resolve, reject) => {
      this.#resolveRegistered = resolve;
      this.#rejectRegistered = reject;
    });
    this.registered.catch(() => undefined); // nobody has to await it
  }

  get #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  run(): void {
    this.#loops = [this.#heartbeatLoop(), this.#leaseLoop(), this.#statusLoop()].map((loop) =>
      loop.catch((error: unknown) => this.#say(`internal error, loop ended: ${describe(error)}`)),
    );
  }

  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#abort.abort(new Error('agent stopped'));
      if (!this.#everRegistered) this.#rejectRegistered(new Error('the agent was stopped before it registered'));
    }
    // The data side first: a lease waiting on a stage-in ends when its transfer is aborted.
    const dataStopped = this.#data?.stop();
    await Promise.all(this.#loops);
    await Promise.allSettled([...this.#outputs.values()].map((o) => o.work));
    if (this.#registering) await this.#registering;
    await dataStopped;
  }

  // ---- session -------------------------------------------------------------------------------

  /** The current session id, registering first if there is none; null once stopped. */
  async #sessionId(): Promise<string | null> {
    while (!this.#stopped) {
      if (this.#session) return this.#session.id;
      this.#registering ??= this.#register().finally(() => {
        this.#registering = null;
      });
      await this.#registering;
    }
    return null;
  }

  /** Registers with backoff until it works or the agent stops; then applies the kill list. */
  async #register(): Promise<void> {
    let delay = BACKOFF_START_MS;
    while (!this.#stopped) {
      try {
        const [{ pools, commands }, runs] = await Promise.all([this.#connector.describe(), this.#connector.runs().then((r) => this.#asReported(r))]);
        const response = await this.#transport.register(
          { connector: this.#connector.kind, agentVersion: this.#agentVersion, pools, commands, runs },
          this.#abort.signal,
        );
        const interval = response.heartbeatIntervalMs;
        this.#session = { id: response.sessionId, heartbeatIntervalMs: Number.isFinite(interval) && interval > 0 ? interval : 5000 };
        for (const run of runs) this.#remember(runKey(run)); // leases of these are delivered again: never start them twice
        this.#recovered('register');
        this.#say(`registered as ${response.centerName} (${response.centerId}) with ${runs.length} run(s)`);
        // The data port is announced at every registration (the control plane may have restarted).
        await this.#data?.announce(response.centerId).catch((error: unknown) => this.#say(`could not announce the data port: ${describe(error)}`));
        if (!this.#everRegistered) {
          this.#everRegistered = true;
          this.#resolveRegistered();
        }
        await this.#applyKills(response.kill);
        return;
      } catch (error) {
        if (this.#stopped) return;
        this.#problem('register', `cannot register, retrying: ${describe(error)}`);
        await this.#sleep(delay);
        delay = Math.min(delay * 2, BACKOFF_CAP_MS);
      }
    }
  }

  /** Drops the session if it is still `sessionId`: the next call registers again (which reconciles). */
  #expire(sessionId: string): void {
    if (this.#session?.id !== sessionId) return;
    this.#session = null;
    this.#say('session expired; registering again');
  }

  // ---- loops -----------------------------------------------------------------------------------

  async #heartbeatLoop(): Promise<void> {
    let delay = BACKOFF_START_MS;
    let failing = false;
    while ((await this.#sessionId()) !== null) {
      const interval = this.#session?.heartbeatIntervalMs ?? BACKOFF_CAP_MS;
      await this.#sleep(failing ? Math.min(delay, interval) : interval);
      const sessionId = await this.#sessionId();
      if (sessionId === null) return;
      try {
        const runs = await this.#connector.runs();
        const health = this.#connector.health?.();
        const response = await this.#transport.heartbeat(
          sessionId,
          { runs, ...(health ? { health: { degraded: health.degraded, reason: health.reason ?? null, since: health.since ?? null } } : {}) },
          this.#abort.signal,
        );
        this.#recovered('heartbeat');
        failing = false;
        delay = BACKOFF_START_MS;
        await this.#applyKills(response.kill);
      } catch (error) {
        if (this.#failed('heartbeat', sessionId, error)) {
          failing = true;
          delay = Math.min(delay * 2, BACKOFF_CAP_MS);
        }
      }
    }
  }

  async #leaseLoop(): Promise<void> {
    let delay = BACKOFF_START_MS;
    // The server's cursor: the next poll asks only for leases placed since. A new session starts
    // from nothing, so whatever is placed is delivered again (and deduplicated against #seen).
    let cursor: { session: string; after: string } | null = null;
    for (let sessionId = await this.#sessionId(); sessionId !== null; sessionId = await this.#sessionId()) {
      try {
        const after = cursor?.session === sessionId ? cursor.after : undefined;
        const response = await this.#transport.leases(sessionId, this.#pollWaitMs, this.#abort.signal, after);
        this.#recovered('leases');
        delay = BACKOFF_START_MS;
        await this.#applyKills(response.kill);
        // Several starts at once: a start is mostly waiting on the file system and on fork.
        const queue = response.leases.filter((lease) => !this.#seen.has(runKey(lease)));
        await Promise.all(
          Array.from({ length: Math.min(START_CONCURRENCY, queue.length) }, async () => {
            for (let lease = queue.shift(); lease && !this.#stopped; lease = queue.shift()) await this.#startLease(lease);
          }),
        );
        if (response.cursor !== undefined) cursor = { session: sessionId, after: response.cursor };
      } catch (error) {
        if (this.#failed('leases', sessionId, error)) {
          await this.#sleep(delay);
          delay = Math.min(delay * 2, BACKOFF_CAP_MS);
        }
      }
    }
  }

  async #statusLoop(): Promise<void> {
    let delay = BACKOFF_START_MS;
    for (let sessionId = await this.#sessionId(); sessionId !== null; sessionId = await this.#sessionId()) {
      let failing = false;
      try {
        await this.#statusPass(sessionId);
        this.#recovered('status');
      } catch (error) {
        failing = this.#failed('status', sessionId, error);
      }
      await this.#sleep(failing ? delay : this.#statusIntervalMs);
      delay = failing ? Math.min(delay * 2, BACKOFF_CAP_MS) : BACKOFF_START_MS;
    }
  }

  /**
   * Handles a loop's failure: session expiry drops the session, anything else is logged (once per
   * distinct message). Returns true when the loop should back off before trying again.
   */
  #failed(loop: string, sessionId: string, error: unknown): boolean {
    if (this.#stopped) return false;
    if (error instanceof SessionExpiredError) {
      this.#expire(sessionId);
      return false;
    }
    this.#problem(loop, `${loop}: ${describe(error)}; retrying`);
    return true;
  }

  // ---- work ------------------------------------------------------------------------------------

  async #startLease(lease: Lease): Promise<void> {
    const key = runKey(lease);
    if (this.#seen.has(key)) return;
    this.#remember(key);
    try {
      // Refused before it runs: its outputs could never be stored here (docs/data.md, "Outputs").
      if (lease.outputs?.length && !(this.#data && this.#connector.runInfo)) {
        throw new Error(`the job registers outputs (${lease.outputs.map((o) => o.dataset).join(', ')}) and this agent has no dataset storage`);
      }
      if (lease.inputs && lease.inputs.length > 0) {
        if (!this.#data) throw new Error(`the job reads datasets (${lease.inputs.map((i) => i.name).join(', ')}) and this agent has no dataset storage`);
        const t0 = Date.now();
        lease = await this.#data.prepare(lease);
        this.#say(`inputs of ${key} ready in ${Date.now() - t0} ms: ${lease.inputs!.map((i) => i.name).join(', ')}`);
      }
      await this.#connector.start(lease);
      this.#say(`started ${key} (${lease.name}): ${lease.command.join(' ')}`);
    } catch (error) {
      // A lease the connector already runs (delivered again after a restart of either side, beyond
      // what #seen remembers) is not a failed start.
      // Stopped while staging its inputs: not a failure; the next agent gets the lease again and resumes.
      if (this.#stopped) {
        this.#seen.delete(key);
        return;
      }
      const runs = await this.#connector.runs().catch(() => [] as RunStatus[]);
      if (runs.some((run) => runKey(run) === key)) return;
      const reason = describe(error);
      this.#say(`could not start ${key}: ${reason}`);
      this.#startFailures.set(key, {
        jobId: lease.jobId,
        report: { attempt: lease.attempt, state: 'failed', exitCode: null, reason, at: Date.now() },
      });
    }
  }

  #remember(key: string): void {
    this.#seen.add(key);
    if (this.#seen.size > SEEN_LIMIT) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }

  async #applyKills(kill: readonly RunRef[]): Promise<void> {
    for (const ref of kill) {
      const key = runKey(ref);
      this.#remember(key); // never start what the server has just told us to kill
      this.#startFailures.delete(key);
      try {
        await this.#connector.cancel(ref);
        this.#say(`the control plane asked to stop ${key}`);
      } catch (error) {
        this.#say(`could not stop ${key}: ${describe(error)}`);
      }
    }
  }

  /**
   * One status pass. A transport failure (server down, session expired, a call it rejects) ends the
   * pass and the loop backs off; a connector error about one run is logged and the pass goes on with
   * the next run. The server refusing one run is not a failure (see isRefusal).
   */
  async #statusPass(sessionId: string): Promise<void> {
    if (this.#transport.reports) return this.#batchedStatusPass(sessionId, this.#transport.reports.bind(this.#transport));
    for (const [key, failure] of this.#startFailures) {
      if (this.#stopped) return;
      await this.#transport.reportState(sessionId, failure.jobId, failure.report, this.#abort.signal).catch((error: unknown) => {
        if (!isRefusal(error)) throw error;
      });
      this.#startFailures.delete(key);
    }

    const runs = await this.#connector.runs();
    const present = new Set(runs.map(runKey));
    for (const key of this.#tracked.keys()) if (!present.has(key)) this.#tracked.delete(key);

    for (const run of runs) {
      if (this.#stopped) return;
      try {
        await this.#syncRun(sessionId, run);
      } catch (error) {
        if (error instanceof TransportError || this.#stopped) throw error;
        this.#problem(`run ${runKey(run)}`, `run ${runKey(run)}: ${describe(error)}; retrying`);
      }
    }
  }

  /**
   * One status pass in one call (POST /v1/agent/reports): start failures, each run's `running`, its
   * new output and, for a run that ended with all its output read, its final state. What the call
   * carries is applied locally (offsets, forgetting ended runs, kills) only once the server has it,
   * so a failed call is simply made again next pass. At most REPORT_BYTES of output go in one call;
   * the rest (and the end of a run whose output did not fit) waits for the next pass.
   */
  async #batchedStatusPass(sessionId: string, send: NonNullable<AgentTransport['reports']>): Promise<void> {
    const logs: (LogReport & { jobId: string })[] = [];
    const states: (StateReport & { jobId: string })[] = [];
    const after: ((action: 'ok' | 'kill') => Promise<void> | void)[] = []; // one per state, in order
    const afterSend: (() => void)[] = [];
    for (const [key, failure] of this.#startFailures) {
      states.push({ jobId: failure.jobId, ...failure.report });
      after.push(() => void this.#startFailures.delete(key));
    }

    const runs = await this.#connector.runs();
    const present = new Set(runs.map(runKey));
    for (const key of this.#tracked.keys()) if (!present.has(key)) this.#tracked.delete(key);

    let bytes = 0;
    // Runs are read several at a time (reading output is file I/O), and their reports go into the
    // call in the order of `runs`.
    type Part = { states: (StateReport & { jobId: string })[]; after: ((action: 'ok' | 'kill') => Promise<void> | void)[]; log?: LogReport & { jobId: string }; afterSend?: () => void };
    const collect = async (run: RunStatus): Promise<Part | null> => {
      const key = runKey(run);
      let tracked = this.#tracked.get(key);
      if (!tracked) {
        tracked = { offsets: { stdout: 0, stderr: 0 }, runningReported: false };
        this.#tracked.set(key, tracked);
      }
      const t = tracked;
      const part: Part = { states: [], after: [] };
      try {
        // Output first (read before any state is queued, so a connector error leaves this run out whole).
        const offsets = { ...t.offsets };
        const chunks: LogChunk[] = [];
        let drained = false;
        if (t.outputRefused) drained = true;
        for (let round = 0; round < (run.state === 'running' ? ROUNDS_PER_PASS : Infinity) && bytes < REPORT_BYTES && !t.outputRefused; round++) {
          let got = 0;
          for (const stream of STREAMS) {
            const { data, nextOffset } = await this.#connector.readOutput(run, stream, offsets[stream], CHUNK_BYTES);
            if (data === '') continue;
            chunks.push({ stream, offset: offsets[stream], data });
            offsets[stream] = nextOffset;
            bytes += data.length;
            got++;
          }
          if (got === 0) {
            drained = true;
            break;
          }
        }
        if (!t.runningReported) {
          part.states.push({ jobId: run.jobId, attempt: run.attempt, state: 'running', exitCode: null, reason: null, at: run.startedAt });
          part.after.push(async (action) => {
            t.runningReported = true;
            if (action === 'kill' && run.state === 'running') {
              this.#say(`the control plane no longer wants ${key}; stopping it`);
              await this.#connector.cancel(run);
            }
          });
        }
        if (chunks.length > 0) {
          part.log = { jobId: run.jobId, attempt: run.attempt, chunks };
          part.afterSend = () => Object.assign(t.offsets, offsets);
        }
        const ended = run.state !== 'running' && drained ? await this.#finalState(run) : null;
        if (ended) {
          part.states.push({ jobId: run.jobId, attempt: run.attempt, state: ended.state, exitCode: ended.exitCode, reason: ended.reason, at: run.finishedAt ?? Date.now() });
          // Accepted or refused, the server has had its say on this run: it is done here.
          part.after.push(async () => {
            await this.#connector.forget(run);
            this.#tracked.delete(key);
            this.#outputs.delete(key);
            this.#problems.delete(`run ${key}`);
            this.#say(`${key} ${ended.state}${ended.exitCode === null ? '' : ` (exit ${ended.exitCode})`}${ended.reason ? `: ${ended.reason}` : ''}`);
          });
        }
        return part;
      } catch (error) {
        if (this.#stopped) throw error;
        this.#problem(`run ${key}`, `run ${key}: ${describe(error)}; retrying`);
        return null;
      }
    };
    const parts: (Part | null)[] = new Array<Part | null>(runs.length).fill(null);
    let nextRun = 0;
    await Promise.all(
      Array.from({ length: Math.min(READ_CONCURRENCY, runs.length) }, async () => {
        while (nextRun < runs.length && bytes < REPORT_BYTES && !this.#stopped) {
          const i = nextRun++;
          parts[i] = await collect(runs[i]!);
        }
      }),
    );
    if (this.#stopped) return;
    for (const part of parts) {
      if (!part) continue;
      states.push(...part.states);
      after.push(...part.after);
      if (part.log) logs.push(part.log);
      if (part.afterSend) afterSend.push(part.afterSend);
    }
    if (logs.length === 0 && states.length === 0) return;
    const response = await send(sessionId, { logs, states }, this.#abort.signal);
    for (const apply of afterSend) apply();
    for (const refused of response.refusedLogs ?? []) {
      const t = this.#tracked.get(runKey(refused));
      if (t && !t.outputRefused) {
        t.outputRefused = true;
        this.#say(`the control plane refused output of ${runKey(refused)} (${refused.code}); shipping no more of it`);
      }
    }
    for (const [i, apply] of after.entries()) {
      try {
        await apply(response.states[i]?.action ?? 'ok');
      } catch (error) {
        this.#problem(`report ${i}`, `after a report: ${describe(error)}`);
      }
    }
  }

  async #syncRun(sessionId: string, run: RunStatus): Promise<void> {
    const key = runKey(run);
    let tracked = this.#tracked.get(key);
    if (!tracked) {
      tracked = { offsets: { stdout: 0, stderr: 0 }, runningReported: false };
      this.#tracked.set(key, tracked);
    }

    // `running` goes first, even for a run first seen ended: the server learns when it started.
    if (!tracked.runningReported) {
      const wanted = await this.#report(sessionId, run, { attempt: run.attempt, state: 'running', exitCode: null, reason: null, at: run.startedAt });
      tracked.runningReported = true;
      if (!wanted && run.state === 'running') {
        this.#say(`the control plane no longer wants ${key}; stopping it`);
        await this.#connector.cancel(run);
      }
    }

    if (run.state === 'running') {
      await this.#shipOutput(sessionId, run, tracked, ROUNDS_PER_PASS);
      return;
    }

    await this.#shipOutput(sessionId, run, tracked, Infinity);
    const ended = await this.#finalState(run);
    if (!ended) return; // its outputs are being stored: the end is reported once they are
    const final: StateReport = {
      attempt: run.attempt,
      state: ended.state,
      exitCode: ended.exitCode,
      reason: ended.reason,
      at: run.finishedAt ?? Date.now(),
    };
    // Accepted or refused, the server has had its say on this run: it is done here.
    await this.#report(sessionId, run, final);
    await this.#connector.forget(run);
    this.#tracked.delete(key);
    this.#outputs.delete(key);
    this.#problems.delete(`run ${key}`);
    this.#say(`${key} ${ended.state}${ended.exitCode === null ? '' : ` (exit ${ended.exitCode})`}${ended.reason ? `: ${ended.reason}` : ''}`);
  }

  /**
   * Sends a state report; resolves to false when the server does not want the run (it answered
   * `kill`, or refused the job as unknown or already finished).
   */
  async #report(sessionId: string, run: RunStatus, report: StateReport): Promise<boolean> {
    try {
      const response = await this.#transport.reportState(sessionId, run.jobId, report, this.#abort.signal);
      return response.action !== 'kill';
    } catch (error) {
      // A 4xx (an unknown job, a report it finds inconsistent) cannot succeed by retrying; retrying
      // it would stall every other run's reports.
      if (isRefusal(error) || isClientError(error)) return false;
      throw error;
    }
  }

  /** Ships new output of both streams in chunks of at most CHUNK_BYTES, for up to `rounds` rounds (Infinity: until none is left). */
  async #shipOutput(sessionId: string, run: RunStatus, tracked: Tracked, rounds: number): Promise<void> {
    for (let round = 0; round < rounds && !this.#stopped && !tracked.outputRefused; round++) {
      const chunks: (LogChunk & { readonly nextOffset: number })[] = [];
      for (const stream of STREAMS) {
        const offset = tracked.offsets[stream];
        const { data, nextOffset } = await this.#connector.readOutput(run, stream, offset, CHUNK_BYTES);
        if (data !== '') chunks.push({ stream, offset, data, nextOffset });
      }
      if (chunks.length === 0) return;
      try {
        await this.#transport.sendLogs(
          sessionId,
          run.jobId,
          { attempt: run.attempt, chunks: chunks.map(({ stream, offset, data }) => ({ stream, offset, data })) },
          this.#abort.signal,
        );
      } catch (error) {
        if (isRefusal(error)) return; // the server wants no output of this run; its final state will settle it
        // Any other refusal of this run's output (a 4xx that retrying cannot fix) must not block the
        // other runs' reports, nor this run's final state: stop shipping its output and go on.
        if (!isClientError(error)) throw error;
        tracked.outputRefused = true;
        this.#say(`the control plane refused output of ${runKey(run)} (${(error as TransportError).code}): ${describe(error)}; shipping no more of it`);
        return;
      }
      for (const chunk of chunks) tracked.offsets[chunk.stream] = chunk.nextOffset;
    }
  }

  // ---- outputs ---------------------------------------------------------------------------------

  /**
   * The final state to report for an ended run, or null while its outputs are being stored. A run
   * that did not succeed, or whose job registers no outputs, is reported as it ended. One that
   * succeeded has its outputs stored first (in the background: other runs' reports go on); then it
   * is reported succeeded, or failed naming the output that could not be registered (a missing
   * folder, a symlink out of the workdir, no room). The network failing only delays it.
   */
  async #finalState(run: RunStatus): Promise<RunStatus | null> {
    if (run.state !== 'succeeded' || !this.#connector.runInfo) return run;
    const key = runKey(run);
    const known = this.#outputs.get(key);
    if (known?.final) return known.final;
    if (known && (known.work || Date.now() < known.retryAt)) return null;
    const info = await this.#connector.runInfo(run);
    if (!info?.lease.outputs?.length) return run;
    const entry: { work: Promise<void> | null; final: RunStatus | null; retryAt: number } = { work: null, final: null, retryAt: 0 };
    entry.work = this.#storeOutputs(run, info).then(
      (final) => {
        entry.final = final;
        this.#problems.delete(`outputs ${key}`);
      },
      (error: unknown) => {
        entry.retryAt = Date.now() + BACKOFF_CAP_MS;
        if (!this.#stopped) this.#problem(`outputs ${key}`, `outputs of ${key}: ${describe(error)}; retrying`);
      },
    ).finally(() => (entry.work = null));
    this.#outputs.set(key, entry);
    return null;
  }

  /**
   * Runs as a registration tells them (the control plane applies ended states it finds there): a
   * run that succeeded is still running while its outputs are not stored yet, so a restarted agent
   * stores them before the job is marked succeeded; one whose outputs failed ends failed.
   */
  async #asReported(runs: RunStatus[]): Promise<RunStatus[]> {
    const runInfo = this.#connector.runInfo?.bind(this.#connector);
    if (!runInfo) return runs;
    return Promise.all(
      runs.map(async (run): Promise<RunStatus> => {
        if (run.state !== 'succeeded') return run;
        const known = this.#outputs.get(runKey(run));
        if (known?.final) return known.final;
        const info = await runInfo(run).catch(() => null);
        return info?.lease.outputs?.length ? { ...run, state: 'running', exitCode: null, reason: null, finishedAt: null } : run;
      }),
    );
  }

  /**
   * Stores a succeeded run's outputs and returns the state to report. Every output folder is
   * checked and hashed before any is registered, so a missing one registers none; a failure of
   * the network or a stopping agent rejects (tried again later), anything else fails the run.
   */
  async #storeOutputs(run: RunStatus, info: RunInfo): Promise<RunStatus> {
    const outputs = info.lease.outputs ?? [];
    const failed = (why: string): RunStatus => ({ ...run, state: 'failed', reason: why.slice(0, 1000) });
    if (!this.#data) return failed(`the job registers outputs (${outputs.map((o) => o.dataset).join(', ')}) and this agent has no dataset storage`); // an agent restarted without it
    const key = runKey(run);
    const scanned = [];
    for (const output of outputs) {
      try {
        scanned.push(await this.#data.scanOutput(info.workdir, output, info.user?.uid ?? null));
      } catch (error) {
        if (this.#stopped) throw error;
        return failed(`output ${output.dataset}: ${describe(error)}`);
      }
    }
    for (const s of scanned) {
      try {
        const r = await this.#data.storeOutput(run, s);
        this.#say(`output ${s.output.dataset} of ${key}: v${r.version} sealed (${r.bytes} bytes, ${r.files} files, ${r.stored} bytes stored)`);
      } catch (error) {
        if (this.#stopped || (error instanceof TransportError && error.retryable)) throw error;
        return failed(`output ${s.output.dataset}: ${describe(error)}`);
      }
    }
    return run;
  }

  // ---- plumbing --------------------------------------------------------------------------------

  /** Resolves after `ms`, or at once when the agent stops. */
  #sleep(ms: number): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #say(line: string): void {
    try {
      this.#log(`[agent ${this.#name}] ${line}`);
    } catch {
      // a broken logger must not take the agent down
    }
  }

  #problem(where: string, message: string): void {
    if (this.#problems.get(where) === message) return;
    this.#problems.set(where, message);
    this.#say(message);
  }

  #recovered(where: string): void {
    if (this.#problems.delete(where)) this.#say(`${where}: working again`);
  }
}

function runKey(run: RunRef): string {
  return `${run.jobId}.${run.attempt}`;
}

/**
 * The server refusing a job outright (it does not know it, or it already finished): retrying the
 * same call cannot succeed, so the agent treats it as the server no longer wanting the run.
 */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof TransportError &&
    !(error instanceof SessionExpiredError) &&
    !error.retryable &&
    (error.status === 404 || error.status === 409 || error.status === 410)
  );
}

/** A 4xx other than an expired session that the same call cannot fix: retrying it forever would stall the agent. */
function isClientError(error: unknown): boolean {
  return error instanceof TransportError && !(error instanceof SessionExpiredError) && !error.retryable && error.status >= 400 && error.status < 500;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
