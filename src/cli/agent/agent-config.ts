import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { DataAgentOptions } from '../../agent/data/data-agent.js';

const Pool = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, - and _'),
  accelerator: z.string().min(1).nullable().default(null),
  acceleratorsPerNode: z.int().min(0).max(64).default(0),
  coresPerNode: z.int().min(1).max(4096),
  memoryMiBPerNode: z.int().min(1),
  nodes: z.int().min(1).max(100_000),
});

const LocalConnectorConfig = z.strictObject({
  kind: z.literal('local'),
  pools: z.array(Pool).min(1, 'declare at least one pool'),
  killGraceMs: z.int().min(0).max(600_000).optional(),
  /** Where run folders live; default `<stateDir>/runs` (a tmpfs for a busy center: docs/operations.md). */
  runsDir: z.string().min(1).optional(),
});

const SlurmConnectorConfig = z.strictObject({
  kind: z.literal('slurm'),
  url: z.url(),
  /** A file holding slurmrestd's JWT for `user` (`scontrol token username=… lifespan=…`). */
  tokenFile: z.string().min(1),
  user: z.string().min(1),
  partitions: z.array(z.string().min(1)).optional(),
  pollIntervalMs: z.int().min(50).max(60_000).optional(),
  acceleratorGres: z.array(z.string().min(1)).optional(),
});

/**
 * The center's dataset storage and data port (docs/data.md). The local connector keeps it in
 * `<stateDir>/data` unless `root` says otherwise; the Slurm connector has storage only with `root`,
 * a path on the shared file system its compute nodes mount (jobs read their inputs there).
 */
const DataConfig = z.strictObject({
  root: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: z.int().min(0).max(65_535).optional(),
  publicUrl: z.url().optional(),
  quotaBytes: z.int().min(1).optional(),
  receiveBytesPerSecond: z.int().min(1).optional(),
  sendBytesPerSecond: z.int().min(1).optional(),
  /** Per link: the most this center receives from one other center (by name), bytes per second. */
  linkReceiveBytesPerSecond: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "a center's name"), z.int().min(1)).optional(),
});

/** center.yaml of `suanwang agent --config`; see that command's help for every field. */
export const AgentConfigSchema = z
  .strictObject({
    server: z.url().refine((u) => /^https?:\/\//.test(u), 'an http:// or https:// URL'),
    center: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "the center's name, as created by an admin"),
    enrollmentToken: z.string().startsWith('swe_', 'an enrollment token starts with swe_').optional(),
    tokenFile: z.string().min(1).optional(),
    stateDir: z.string().min(1),
    connector: z.discriminatedUnion('kind', [LocalConnectorConfig, SlurmConnectorConfig]),
    data: DataConfig.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.connector.kind === 'slurm' && c.data && !c.data.root) {
      ctx.addIssue({ code: 'custom', path: ['data', 'root'], message: 'the Slurm connector needs the dataset storage on the shared file system its compute nodes mount: give that path' });
    }
  });
export type AgentConfig = z.output<typeof AgentConfigSchema>;

/**
 * Reads and checks center.yaml. Relative paths in it (stateDir, tokenFile, the Slurm tokenFile) are
 * taken from the file's folder. Throws an Error naming the file, the field and the problem.
 */
export function loadAgentConfig(path: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the agent config ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new Error(`${path} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = AgentConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new Error(`${path} is not a valid agent config:\n${lines.join('\n')}\n(see \`suanwang agent --help\`)`);
  }
  const c = parsed.data;
  const base = dirname(resolve(path));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return {
    ...c,
    stateDir: abs(c.stateDir),
    ...(c.tokenFile ? { tokenFile: abs(c.tokenFile) } : {}),
    connector:
      c.connector.kind === 'slurm'
        ? { ...c.connector, tokenFile: abs(c.connector.tokenFile) }
        : { ...c.connector, ...(c.connector.runsDir ? { runsDir: abs(c.connector.runsDir) } : {}) },
    ...(c.data ? { data: { ...c.data, ...(c.data.root ? { root: abs(c.data.root) } : {}) } } : {}),
  };
}

/**
 * The agent's dataset storage from its config: the local connector's at `data.root` or
 * `<stateDir>/data`; the Slurm connector's at `data.root` (its shared path), none without it.
 */
export function dataOptions(c: AgentConfig): DataAgentOptions | undefined {
  const root = c.data?.root ?? (c.connector.kind === 'local' ? join(c.stateDir, 'data') : undefined);
  if (root === undefined) return undefined;
  const d = c.data ?? {};
  return {
    root,
    ...(d.host !== undefined ? { host: d.host } : {}),
    ...(d.port !== undefined ? { port: d.port } : {}),
    ...(d.publicUrl !== undefined ? { publicUrl: d.publicUrl } : {}),
    ...(d.quotaBytes !== undefined ? { quotaBytes: d.quotaBytes } : {}),
    ...(d.receiveBytesPerSecond !== undefined ? { receiveBytesPerSecond: d.receiveBytesPerSecond } : {}),
    ...(d.sendBytesPerSecond !== undefined ? { sendBytesPerSecond: d.sendBytesPerSecond } : {}),
    ...(d.linkReceiveBytesPerSecond !== undefined ? { linkReceiveBytesPerSecond: d.linkReceiveBytesPerSecond } : {}),
  };
}
