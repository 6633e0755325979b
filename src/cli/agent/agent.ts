import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent } from '../../agent/agent.js';
import type { Connector } from '../../agent/connector.js';
import { LocalConnector } from '../../agent/connectors/local-connector.js';
import { nativeLauncher } from '../../agent/connectors/launcher.js';
import { SlurmConnector } from '../../agent/connectors/slurm/slurm-connector.js';
import { enrollAgent, HttpAgentTransport } from '../../api/client/agent-client.js';
import { parse, UsageError, type Command } from '../command.js';
import { jsonLog, shutdownSignal } from '../json-log.js';
import { dataOptions, loadAgentConfig, type AgentConfig } from './agent-config.js';

/** The file in stateDir holding the agent token an enrollment gave (mode 0600). */
export const AGENT_TOKEN_FILE = 'agent-token';

export const agent: Command = {
  summary: "run one center's agent (local processes or Slurm), joining a control plane",
  usage: `suanwang agent --config center.yaml

Runs one compute center's agent as its own process: it connects out to the control plane, pulls
the jobs placed on its center and runs them with its connector. center.yaml:

  server: http://127.0.0.1:8470      # the control plane's URL
  center: west-zhongwei              # the center's name (created by an admin: suanwang admin centers create)
  enrollmentToken: swe_...           # from \`suanwang admin centers create|enroll\`; works once: exchanged
                                     # for an agent token kept in stateDir/agent-token (mode 0600)
  # tokenFile: /etc/suanwang/agent-token   # or: a file holding an agent token (instead of enrolling)
  stateDir: /var/lib/suanwang/agent  # runs, their output, its token (relative paths: from this file's folder)
  connector:
    kind: local                      # jobs run as process groups on this machine
    pools:
      - { name: a100, accelerator: nvidia-a100, acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 524288, nodes: 2 }
    # runsDir: /run/suanwang/runs    # where run folders live (default stateDir/runs); a tmpfs for
    #                                # hundreds of runs a second (docs/operations.md)
  # connector:                       # or a Slurm cluster through slurmrestd (JWT auth):
  #   kind: slurm
  #   url: http://127.0.0.1:6820
  #   tokenFile: /etc/suanwang/slurm-jwt   # scontrol token username=USER lifespan=...
  #   user: USER                     # jobs are submitted as this Slurm user
  #   partitions: [gpu, cpu]         # optional: the partitions to offer (default all)
  # data:                            # the center's dataset storage and data port (docs/data.md)
  #   root: /shared/suanwang/data    # local: default stateDir/data; Slurm: required for datasets, a path
  #                                  # on the shared file system every compute node mounts (jobs read
  #                                  # their inputs there); without it a Slurm center takes no inputs
  #   host: 0.0.0.0                  # where the data port listens (default 127.0.0.1, a free port)
  #   port: 8471
  #   publicUrl: http://hpc-one.example.org:8471   # how other centers and users reach it
  #   quotaBytes: 2000000000000      # the most the storage holds
  #   receiveBytesPerSecond: 1250000000   # this center's limits, over all its transfers
  #   sendBytesPerSecond: 1250000000
  #   linkReceiveBytesPerSecond: { east-shanghai: 125000000 }   # per link, by source center

Runs keep going when the agent stops or restarts; it re-attaches them. Logs JSON lines to stderr;
prints one line to stdout once it has joined. Stops on SIGINT/SIGTERM.`,
  async run(argv) {
    const { values, positionals } = parse(argv, { config: { type: 'string', short: 'c' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (!values.config) throw new UsageError('--config center.yaml is required');
    const config = loadAgentConfig(values.config);
    const log = jsonLog(`agent ${config.center}`);
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    const token = await agentToken(config, log);
    const connector = openConnector(config);
    if (connector instanceof LocalConnector) log(`runs start from the ${connector.launcher} launcher${connector.launcher === 'perl' ? ` (${nativeLauncher().why})` : ''}`);
    const transport = new HttpAgentTransport({ serverUrl: config.server, token });
    const data = dataOptions(config);
    const handle = startAgent({ transport, connector, name: config.center, ...(data ? { data } : {}), log: (line) => log(line) });
    const stop = shutdownSignal();
    const joined = await Promise.race([handle.registered.then(() => true), stop.then(() => false)]);
    if (joined) process.stdout.write(`agent of ${config.center} joined ${config.server} (connector ${connector.kind}, state in ${config.stateDir})\n`);
    const why = await stop;
    log(`${why}: stopping (runs keep going; the next start re-attaches them)`);
    await handle.stop();
    await connector.close();
    return 0;
  },
};

/**
 * The agent token: from `tokenFile`; else the one an earlier enrollment kept in stateDir; else
 * exchanged now for `enrollmentToken` and kept in stateDir (mode 0600) for every later start.
 */
async function agentToken(config: AgentConfig, log: (line: string) => void): Promise<string> {
  if (config.tokenFile) {
    const t = readToken(config.tokenFile);
    if (!t) throw new Error(`tokenFile ${config.tokenFile} is missing or empty; put the center's agent token in it, or use enrollmentToken`);
    return t;
  }
  const kept = join(config.stateDir, AGENT_TOKEN_FILE);
  const saved = readToken(kept);
  if (saved) return saved;
  if (!config.enrollmentToken) {
    throw new Error(`no agent token: ${kept} does not exist and the config has neither enrollmentToken nor tokenFile; ask an admin for one (suanwang admin centers enroll ${config.center})`);
  }
  for (let delay = 500; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      const r = await enrollAgent(config.server, config.enrollmentToken);
      if (r.center !== config.center) {
        throw new Error(`the enrollment token is for center ${r.center}, but the config says center: ${config.center}; fix one of them (the token is used up: ask an admin for a new one)`);
      }
      writeFileSync(kept, r.agentToken + '\n', { mode: 0o600 });
      chmodSync(kept, 0o600);
      log(`enrolled as ${r.center}; agent token kept in ${kept}`);
      return r.agentToken;
    } catch (error) {
      const retryable = (error as { retryable?: boolean }).retryable === true;
      if (!retryable) throw error;
      log(`cannot enroll yet, retrying: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function readToken(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
}

function openConnector(config: AgentConfig): Connector {
  const c = config.connector;
  if (c.kind === 'local') {
    return new LocalConnector({
      stateDir: config.stateDir,
      pools: c.pools,
      ...(c.killGraceMs === undefined ? {} : { killGraceMs: c.killGraceMs }),
      ...(c.runsDir === undefined ? {} : { runsDir: c.runsDir }),
    });
  }
  const jwt = readToken(c.tokenFile);
  if (!jwt) throw new Error(`connector.tokenFile ${c.tokenFile} is missing or empty; put slurmrestd's JWT for ${c.user} in it`);
  return new SlurmConnector({
    url: c.url,
    user: c.user,
    token: jwt,
    stateDir: config.stateDir,
    ...(c.partitions ? { partitions: c.partitions } : {}),
    ...(c.pollIntervalMs ? { pollIntervalMs: c.pollIntervalMs } : {}),
    ...(c.acceleratorGres ? { acceleratorGres: c.acceleratorGres } : {}),
  });
}
