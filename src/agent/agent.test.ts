import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AgentTransport } from '../api/client/agent-client.js';
import { HttpAgentTransport, SessionExpiredError, TransportError } from '../api/client/agent-client.js';
import type {
  AgentPool,
  HeartbeatRequest,
  HeartbeatResponse,
  Lease,
  LeasesResponse,
  LogChunk,
  LogReport,
  LogStream,
  RegisterRequest,
  RegisterResponse,
  RunRef,
  StateReport,
  StateReportResponse,
} from '../core/agent-protocol.js';
import { startAgent } from './agent.js';
import type { AgentHandle } from './agent.js';
import { waitFor } from './connector-contract.js';
import { LocalConnector } from './connectors/local-connector.js';

const POOLS: AgentPool[] = [{ name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 2, memoryMiBPerNode: 4096, nodes: 1 }];

type Event =
  | ({ readonly kind: 'state'; readonly jobId: string } & StateReport)
  | ({ readonly kind: 'log'; readonly jobId: string; readonly attempt: number } & LogChunk);

/**
 * A small control plane in memory: hands out leases through a long poll, records every state report
 * and log chunk in arrival order, and can expire the session or be down.
 */
class FakeControlPlane implements AgentTransport {
  readonly registers: RegisterRequest[] = [];
  readonly events: Event[] = [];
  readonly heartbeatIntervalMs = 50;
  /** Calls refused because the control plane was down. */
  refused = 0;
  /** Long polls that ended because the agent aborted them. */
  abortedPolls = 0;
  /** Long polls waiting right now. */
  polling = 0;
  down = false;
  /** Runs to kill, handed out with the next heartbeat. */
  pendingKills: RunRef[] = [];
  /** Jobs the control plane no longer wants: their state reports answer `kill`. */
  readonly unwanted = new Set<string>();
  /** Jobs whose output the control plane refuses with a 4xx (a bad chunk, or over its cap). */
  readonly refuseLogsOf = new Set<string>();
  #session: string | null = null;
  #sessions = 0;
  #leases: Lease[] = [];
  readonly #wake = new Set<() => void>();

  offer(lease: Lease): void {
    this.#leases.push(lease);
    for (const wake of this.#wake) wake();
  }

  expireSession(): void {
    this.#session = null;
  }

  states(jobId: string): StateReport[] {
    return this.events.filter((e): e is Extract<Event, { kind: 'state' }> => e.kind === 'state' && e.jobId === jobId);
  }

  finals(jobId: string): StateReport[] {
    return this.states(jobId).filter((s) => s.state !== 'running');
  }

  /** The stream as shipped, checking that every chunk starts where the previous one ended (no gap, no repeat). */
  output(jobId: string, stream: LogStream): string {
    let text = '';
    let offset = 0;
    for (const e of this.events) {
      if (e.kind !== 'log' || e.jobId !== jobId || e.stream !== stream) continue;
      assert.equal(e.offset, offset, `${jobId} ${stream} chunk at the offset where the previous one ended`);
      text += e.data;
      offset += Buffer.byteLength(e.data);
    }
    return text;
  }

  async register(req: RegisterRequest): Promise<RegisterResponse> {
    this.#gate(null);
    this.registers.push(req);
    this.#sessions += 1;
    this.#session = `sess_${this.#sessions}`;
    return {
      sessionId: this.#session,
      centerId: 'ctr_test',
      centerName: 'test center',
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      deadlineMs: 10 * this.heartbeatIntervalMs,
      kill: [],
    };
  }

  async heartbeat(sessionId: string, _req: HeartbeatRequest): Promise<HeartbeatResponse> {
    this.#gate(sessionId);
    const kill = this.pendingKills;
    this.pendingKills = [];
    return { kill };
  }

  async leases(sessionId: string, waitMs: number, signal?: AbortSignal): Promise<LeasesResponse> {
    this.#gate(sessionId);
    if (this.#leases.length === 0) {
      this.polling += 1;
      try {
        await new Promise<void>((resolve, reject) => {
          const settle = (): void => {
            clearTimeout(timer);
            this.#wake.delete(wake);
            signal?.removeEventListener('abort', onAbort);
          };
          const wake = (): void => {
            settle();
            resolve();
          };
          const onAbort = (): void => {
            settle();
            this.abortedPolls += 1;
            reject(signal?.reason);
          };
          const timer = setTimeout(wake, waitMs);
          this.#wake.add(wake);
          signal?.addEventListener('abort', onAbort, { once: true });
        });
      } finally {
        this.polling -= 1;
      }
    }
    this.#gate(sessionId); // it may have gone down or expired the session meanwhile: the leases stay queued
    return { leases: this.#leases.splice(0), kill: [] };
  }

  async reportState(sessionId: string, jobId: string, report: StateReport): Promise<StateReportResponse> {
    this.#gate(sessionId);
    this.events.push({ kind: 'state', jobId, ...report });
    return { action: this.unwanted.has(jobId) ? 'kill' : 'ok' };
  }

  async sendLogs(sessionId: string, jobId: string, report: LogReport): Promise<void> {
    this.#gate(sessionId);
    if (this.refuseLogsOf.has(jobId)) throw new TransportError('fake control plane: output refused', { status: 413, code: 'output_limit_reached', retryable: false });
    for (const chunk of report.chunks) this.events.push({ kind: 'log', jobId, attempt: report.attempt, ...chunk });
  }

  #gate(sessionId: string | null): void {
    if (this.down) {
      this.refused += 1;
      throw new TransportError('fake control plane: connection refused', { status: 0, code: 'network_error', retryable: true });
    }
    if (sessionId !== null && sessionId !== this.#session) throw new SessionExpiredError();
  }
}

interface Rig {
  readonly server: FakeControlPlane;
  readonly connector: LocalConnector;
  readonly agent: AgentHandle;
  /** A scratch folder for workdirs. */
  readonly scratch: string;
  readonly logs: string[];
}

/** Runs `body` with an agent on a real LocalConnector and a fake control plane; always stops and cleans everything. */
async function withAgent(body: (rig: Rig) => Promise<void>, prepare: (server: FakeControlPlane) => void = () => undefined): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'suanwang-agent-'));
  // Searchable by others, as `up` leaves its home with per-org users: a job reaches its workdir below.
  await chmod(root, 0o711);
  const stateDir = join(root, 'state');
  const scratch = join(root, 'scratch');
  await mkdir(scratch);
  const server = new FakeControlPlane();
  prepare(server);
  const connector = new LocalConnector({ stateDir, pools: POOLS, killGraceMs: 500 });
  const logs: string[] = [];
  const agent = startAgent({ transport: server, connector, log: (line) => logs.push(line), pollWaitMs: 500, statusIntervalMs: 25 });
  try {
    await body({ server, connector, agent, scratch, logs });
  } finally {
    await agent.stop();
    for (const run of await connector.runs()) if (run.state === 'running') await connector.cancel(run);
    await connector.close();
    for (const name of await readdir(join(stateDir, 'runs')).catch(() => [] as string[])) {
      try {
        const { pid } = JSON.parse(await readFile(join(stateDir, 'runs', name, 'meta.json'), 'utf8')) as { pid: number };
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await rm(root, { recursive: true, force: true });
  }
}

let sequence = 0;
function lease(command: readonly string[], overrides: Partial<Lease> = {}): Lease {
  sequence += 1;
  return {
    jobId: `job_agent${sequence}`,
    attempt: 1,
    name: `agent test ${sequence}`,
    tenant: { orgId: 'org_agenttest', orgName: 'agent-test' },
    poolName: 'cpu',
    command,
    env: {},
    workdir: null,
    files: {},
    nodes: 1,
    acceleratorsPerNode: 0,
    coresPerNode: 1,
    memoryMiBPerNode: 64,
    walltimeSeconds: 60,
    ...overrides,
  };
}

/** A command that prints `started`, waits until a file named `go` appears in its workdir, then prints `done`. */
const WAIT_FOR_GO = ['sh', '-c', 'echo started; while [ ! -e go ]; do sleep 0.02; done; echo done'];

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

describe('agent runtime', { timeout: 60_000 }, () => {
  it('runs a lease and reports running, all output, then the final state, each once', () =>
    withAgent(async ({ server, connector, agent }) => {
      await agent.registered;
      const [first] = server.registers;
      assert.equal(first?.connector, 'local');
      assert.deepEqual(first?.pools, POOLS);
      assert.ok(first?.commands?.includes('sh'), 'commands come from the connector');
      assert.deepEqual(first?.runs, []);

      const l = lease(['sh', '-c', 'echo one; echo oops >&2; echo 二']);
      server.offer(l);
      await waitFor(() => server.finals(l.jobId).length > 0, 10_000, 'the final state');
      await waitFor(async () => (await connector.runs()).length === 0, 10_000, 'the run to be forgotten');

      assert.deepEqual(
        server.states(l.jobId).map((s) => [s.attempt, s.state, s.exitCode, s.reason]),
        [
          [1, 'running', null, null],
          [1, 'succeeded', 0, null],
        ],
      );
      assert.equal(server.output(l.jobId, 'stdout'), 'one\n二\n');
      assert.equal(server.output(l.jobId, 'stderr'), 'oops\n');
      const events = server.events.filter((e) => e.jobId === l.jobId).map((e) => (e.kind === 'state' ? e.state : 'log'));
      assert.equal(events[0], 'running', 'running comes first');
      assert.equal(events.at(-1), 'succeeded', 'the final state comes after all output');
      assert.equal(server.registers.length, 1);
    }));

  it('ships large output in chunks of at most 64 KiB', () =>
    withAgent(async ({ server }) => {
      const l = lease(['sh', '-c', "head -c 200000 /dev/zero | tr '\\0' x; echo; echo end >&2"]);
      server.offer(l);
      await waitFor(() => server.finals(l.jobId).length > 0, 10_000, 'the final state');
      const chunks = server.events.filter((e) => e.kind === 'log' && e.jobId === l.jobId) as LogChunk[];
      assert.ok(chunks.every((c) => Buffer.byteLength(c.data) <= 64 * 1024), 'no chunk over 64 KiB');
      assert.equal(server.output(l.jobId, 'stdout'), `${'x'.repeat(200_000)}\n`);
      assert.equal(server.output(l.jobId, 'stderr'), 'end\n');
    }));

  it('regression: output refused with a 4xx stops that run shipping, and blocks no report', () =>
    withAgent(async ({ server }) => {
      // The old agent retried a refused chunk forever, and every run of its center stopped reporting.
      const bad = lease(['sh', '-c', 'printf "a\\000b"']);
      const good = lease(['sh', '-c', 'echo fine']);
      server.refuseLogsOf.add(bad.jobId);
      server.offer(bad);
      server.offer(good);
      await waitFor(() => server.finals(bad.jobId).length > 0 && server.finals(good.jobId).length > 0, 10_000, 'both final states');
      assert.deepEqual(server.states(bad.jobId).map((s) => s.state), ['running', 'succeeded']);
      assert.equal(server.output(good.jobId, 'stdout'), 'fine\n');
    }));

  it('registers again when its session expires, with the runs it has', () =>
    withAgent(async ({ server, connector, scratch }) => {
      const l = lease(WAIT_FOR_GO, { workdir: scratch });
      server.offer(l);
      await waitFor(() => server.states(l.jobId).length > 0 && server.output(l.jobId, 'stdout') === 'started\n', 10_000, 'the run to start');

      server.expireSession();
      await waitFor(() => server.registers.length === 2, 10_000, 'a second register');
      assert.deepEqual(
        server.registers[1]?.runs.map((r) => [r.jobId, r.attempt, r.state]),
        [[l.jobId, 1, 'running']],
        'the new session learns the running run',
      );

      await writeFile(join(scratch, 'go'), '');
      await waitFor(() => server.finals(l.jobId).length > 0, 10_000, 'the final state');
      await waitFor(async () => (await connector.runs()).length === 0, 10_000, 'the run to be forgotten');
      assert.deepEqual(server.states(l.jobId).map((s) => s.state), ['running', 'succeeded']);
      assert.equal(server.output(l.jobId, 'stdout'), 'started\ndone\n');
    }));

  it('cancels a run the control plane kills in a heartbeat, and forgets it', () =>
    withAgent(async ({ server, connector }) => {
      const l = lease(['sh', '-c', 'sleep 300 & echo $!; wait']);
      server.offer(l);
      const child = Number(await waitFor(() => server.output(l.jobId, 'stdout').trim(), 10_000, 'the grandchild pid'));
      assert.ok(isProcessAlive(child));

      server.unwanted.add(l.jobId); // from now on its reports answer `kill`
      server.pendingKills.push({ jobId: l.jobId, attempt: 1 });
      await waitFor(() => server.finals(l.jobId).length > 0, 10_000, 'the final state');
      assert.deepEqual(server.finals(l.jobId).map((s) => [s.state, s.reason]), [['cancelled', 'cancelled']]);
      await waitFor(async () => (await connector.runs()).length === 0, 10_000, 'the run to be forgotten');
      await waitFor(() => !isProcessAlive(child), 10_000, 'the grandchild to be gone');
    }));

  it('loses no final state while the control plane is down', () =>
    withAgent(async ({ server, connector, scratch }) => {
      const l = lease(WAIT_FOR_GO, { workdir: scratch });
      server.offer(l);
      await waitFor(() => server.output(l.jobId, 'stdout') === 'started\n', 10_000, 'the run to start');

      server.down = true;
      await writeFile(join(scratch, 'go'), '');
      await waitFor(async () => (await connector.runs())[0]?.state === 'succeeded', 10_000, 'the run to end');
      const refusedBefore = server.refused;
      await waitFor(() => server.refused >= refusedBefore + 3, 10_000, 'the agent to keep trying');
      assert.equal(server.finals(l.jobId).length, 0);
      assert.equal((await connector.runs()).length, 1, 'the run is kept until its end is reported');

      server.down = false;
      await waitFor(() => server.finals(l.jobId).length > 0, 10_000, 'the final state');
      await waitFor(async () => (await connector.runs()).length === 0, 10_000, 'the run to be forgotten');
      assert.deepEqual(server.states(l.jobId).map((s) => s.state), ['running', 'succeeded']);
      assert.equal(server.output(l.jobId, 'stdout'), 'started\ndone\n');
    }));

  it('keeps trying to register until the control plane is up', () =>
    withAgent(
      async ({ server, agent, logs }) => {
        let registered = false;
        void agent.registered.then(() => (registered = true));
        await waitFor(() => server.refused >= 2, 10_000, 'register attempts');
        assert.equal(registered, false);
        server.down = false;
        await waitFor(() => registered, 10_000, 'registered');
        assert.equal(server.registers.length, 1);
        assert.equal(logs.filter((line) => line.includes('cannot register')).length, 1, 'the outage is logged once');
      },
      (server) => (server.down = true),
    ));

  it('reports a lease it cannot start as failed, with the reason', () =>
    withAgent(async ({ server, scratch }) => {
      const missing = join(scratch, 'missing');
      const l = lease(['true'], { workdir: missing });
      server.offer(l);
      await waitFor(() => server.finals(l.jobId).length > 0, 10_000, 'the final state');
      const [final] = server.finals(l.jobId);
      assert.equal(final?.state, 'failed');
      assert.ok(final?.reason?.includes(missing), `the reason names the workdir: ${final?.reason}`);
      assert.equal(server.states(l.jobId).length, 1);
    }));

  it('refuses to start a lease with outputs when it has no dataset storage, naming them, and runs nothing', () =>
    withAgent(async ({ server, scratch }) => {
      const marker = join(scratch, 'ran');
      const l = lease(['sh', '-c', `touch ${marker}`], { outputs: [{ dataset: 'result', dir: 'outputs/result' }] });
      server.offer(l);
      await waitFor(() => server.finals(l.jobId).length > 0, 10_000, 'the final state');
      const [final] = server.finals(l.jobId);
      assert.equal(final?.state, 'failed');
      assert.match(final?.reason ?? '', /registers outputs \(result\) and this agent has no dataset storage/);
      await assert.rejects(readFile(marker), 'the command never ran');
    }));

  it('stops promptly, aborting its long poll and leaving no timer behind', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const root = await mkdtemp(join(tmpdir(), 'suanwang-agent-'));
    try {
      const server = new FakeControlPlane();
      const connector = new LocalConnector({ stateDir: root, pools: POOLS });
      const agent = startAgent({ transport: server, connector, log: () => undefined }); // default 20 s long poll
      await agent.registered;
      await waitFor(() => server.polling === 1, 5_000, 'a long poll in flight');
      const started = Date.now();
      await agent.stop();
      assert.ok(Date.now() - started < 1000, 'stop does not wait for the long poll');
      assert.equal(server.abortedPolls, 1);
      assert.equal(server.polling, 0);
      await connector.close();
      const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      assert.ok(timersAfter <= timersBefore, `no timer left (${timersBefore} before, ${timersAfter} after)`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('rejects `registered` when stopped before registering', async () => {
    const server = new FakeControlPlane();
    server.down = true;
    const root = await mkdtemp(join(tmpdir(), 'suanwang-agent-'));
    try {
      const agent = startAgent({ transport: server, connector: new LocalConnector({ stateDir: root, pools: POOLS }), log: () => undefined });
      await agent.stop();
      await assert.rejects(agent.registered, /stopped before it registered/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A real HTTP server on a free port answering with `respond`; records every request. */
async function httpServer(respond: (seen: Seen) => { status: number; body: string } | null): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const record = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(record);
      const answer = respond(record);
      if (answer === null) return; // never answer: for abort and timeout
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, seen, server };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

describe('HttpAgentTransport', { timeout: 30_000 }, () => {
  it('speaks the protocol: paths, methods, bearer token, session header, JSON', async () => {
    const { url, seen, server } = await httpServer(({ url: path }) => {
      if (path === '/v1/agent/register') {
        return { status: 200, body: JSON.stringify({ sessionId: 's1', centerId: 'c', centerName: 'n', heartbeatIntervalMs: 1, deadlineMs: 2, kill: [] }) };
      }
      if (path.startsWith('/v1/agent/leases')) return { status: 200, body: JSON.stringify({ leases: [], kill: [] }) };
      if (path.endsWith('/state')) return { status: 200, body: JSON.stringify({ action: 'kill' }) };
      if (path.endsWith('/logs')) return { status: 200, body: JSON.stringify({ ok: true }) };
      return { status: 200, body: JSON.stringify({ kill: [{ jobId: 'j', attempt: 1 }] }) };
    });
    try {
      const t = new HttpAgentTransport({ serverUrl: url, token: 'tok_secret' });
      const registered = await t.register({ connector: 'local', agentVersion: '1', pools: [], commands: null, runs: [] });
      assert.equal(registered.sessionId, 's1');
      assert.deepEqual(await t.heartbeat('s1', { runs: [] }), { kill: [{ jobId: 'j', attempt: 1 }] });
      assert.deepEqual(await t.leases('s1', 1500), { leases: [], kill: [] });
      const report: StateReport = { attempt: 2, state: 'running', exitCode: null, reason: null, at: 5 };
      assert.deepEqual(await t.reportState('s1', 'job/odd', report), { action: 'kill' });
      await t.sendLogs('s1', 'job_1', { attempt: 2, chunks: [{ stream: 'stdout', offset: 0, data: 'hi' }] });

      assert.deepEqual(
        seen.map((s) => `${s.method} ${s.url}`),
        [
          'POST /v1/agent/register',
          'POST /v1/agent/heartbeat',
          'GET /v1/agent/leases?waitMs=1500',
          'POST /v1/agent/jobs/job%2Fodd/state',
          'POST /v1/agent/jobs/job_1/logs',
        ],
      );
      for (const s of seen) assert.equal(s.headers.authorization, 'Bearer tok_secret');
      assert.equal(seen[0]?.headers['x-agent-session'], undefined, 'register has no session');
      for (const s of seen.slice(1)) assert.equal(s.headers['x-agent-session'], 's1');
      assert.equal(seen[0]?.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(seen[3]?.body ?? ''), report);
    } finally {
      await closeServer(server);
    }
  });

  it('turns error answers into SessionExpiredError and TransportError', async () => {
    const answers: Record<string, { status: number; body: string }> = {
      '/v1/agent/heartbeat': { status: 409, body: JSON.stringify({ error: { code: 'agent_session_expired', message: 'session s1 expired' } }) },
      '/v1/agent/jobs/gone/state': { status: 404, body: JSON.stringify({ error: { code: 'job_not_found', message: 'no job gone' } }) },
      '/v1/agent/jobs/busy/state': { status: 503, body: '<html>bad gateway</html>' },
    };
    const { url, server } = await httpServer(({ url: path }) => answers[path] ?? { status: 200, body: 'not json' });
    try {
      const t = new HttpAgentTransport({ serverUrl: url, token: 't' });
      const report: StateReport = { attempt: 1, state: 'running', exitCode: null, reason: null, at: 0 };
      await assert.rejects(t.heartbeat('s1', { runs: [] }), (e) => e instanceof SessionExpiredError && e.message.includes('session s1 expired'));
      await assert.rejects(t.reportState('s1', 'gone', report), (e) => {
        assert.ok(e instanceof TransportError && !(e instanceof SessionExpiredError));
        assert.deepEqual([e.status, e.code, e.retryable], [404, 'job_not_found', false]);
        return true;
      });
      await assert.rejects(t.reportState('s1', 'busy', report), (e) => {
        assert.ok(e instanceof TransportError);
        assert.deepEqual([e.status, e.code, e.retryable], [503, 'http_503', true]);
        assert.match(e.message, /bad gateway/);
        return true;
      });
      await assert.rejects(t.sendLogs('s1', 'other', { attempt: 1, chunks: [] }), (e) => e instanceof TransportError && e.code === 'invalid_response');
    } finally {
      await closeServer(server);
    }
  });

  it('reports an unreachable server as retryable, a timeout as retryable, and an abort as the abort', async () => {
    const { url, server } = await httpServer(() => null); // accepts, never answers
    try {
      const t = new HttpAgentTransport({ serverUrl: url, token: 't', timeoutMs: 100 });
      await assert.rejects(t.heartbeat('s', { runs: [] }), (e) => e instanceof TransportError && e.code === 'timeout' && e.retryable);
      const controller = new AbortController();
      const poll = t.leases('s', 10_000, controller.signal);
      controller.abort(new Error('agent stopped'));
      await assert.rejects(poll, (e) => e instanceof Error && !(e instanceof TransportError) && e.message === 'agent stopped');
    } finally {
      await closeServer(server);
    }
    const t = new HttpAgentTransport({ serverUrl: url, token: 't' }); // the port is closed now
    await assert.rejects(t.register({ connector: 'local', agentVersion: '1', pools: [], commands: null, runs: [] }), (e) => {
      assert.ok(e instanceof TransportError);
      assert.deepEqual([e.status, e.code, e.retryable], [0, 'network_error', true]);
      assert.match(e.message, /ECONNREFUSED/);
      return true;
    });
    assert.throws(() => new HttpAgentTransport({ serverUrl: 'localhost:8080', token: 't' }), /http:\/\//);
  });
});
