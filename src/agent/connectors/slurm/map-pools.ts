import type { AgentPool } from '../../../core/agent-protocol.js';
import { acceleratorByKey, allAccelerators } from '../../../core/accelerators.js';
import type { SlurmNode, SlurmPartition } from './slurm-api.js';

/** GRES names that are accelerators (the rest, such as `mps`, `shard`, `nic`, are not sold as chips). */
export const DEFAULT_ACCELERATOR_GRES: readonly string[] = ['gpu', 'npu', 'mlu', 'dcu', 'xpu', 'gcu'];

/** What a lease for a pool is submitted with. */
export interface PoolTarget {
  readonly partition: string;
  /** GRES to request per node (`npu`, or `gpu:a100` when the model is known only from the GRES type); null for CPU pools. */
  readonly gres: string | null;
  /** Node feature to constrain to (`ascend-910b`), when nodes name their model that way. */
  readonly feature: string | null;
}

export interface SlurmPool {
  readonly pool: AgentPool;
  readonly target: PoolTarget;
  /** Every node of the pool, usable or not. */
  readonly nodeNames: readonly string[];
}

export interface PoolCapacity {
  readonly pool: string;
  /** Nodes that can take work now (not down, drained, failing or in maintenance). */
  readonly usableNodes: number;
  /** Usable nodes with nothing allocated. */
  readonly idleNodes: number;
  readonly freeCores: number;
  readonly freeAccelerators: number;
  readonly freeMemoryMiB: number;
}

export interface MapPoolsOptions {
  /** Only these partitions (in this order); all of them when absent. */
  readonly partitions?: readonly string[];
  readonly acceleratorGres?: readonly string[];
}

export interface MappedPools {
  readonly pools: SlurmPool[];
  /** Why a node or partition is not offered, for the operator (`asc-x1: npu:8 but no feature names a known accelerator`). */
  readonly skipped: string[];
}

interface GresEntry {
  readonly name: string;
  readonly type: string | null;
  readonly count: number;
}

const USABLE_STATES = new Set(['idle', 'mixed', 'allocated', 'completing']);
const UNUSABLE_FLAGS = new Set(['DRAIN', 'DRAINING', 'DRAINED', 'FAIL', 'FAILING', 'MAINTENANCE', 'NOT_RESPONDING', 'POWERED_DOWN', 'POWERING_DOWN', 'POWER_DOWN', 'REBOOT_ISSUED', 'INVALID_REG']);

/**
 * Groups a cluster's nodes into pools: one per (partition, accelerator model), named
 * `<partition>-<model>` (`main-ascend-910b`) or `<partition>-cpu` for nodes without accelerator GRES.
 * The model is the node feature that is a key of our accelerator table (`ascend-910b`), or else the GRES
 * type (`gpu:a100:8` → `nvidia-a100`). Per-node figures are the smallest among the pool's nodes, so a
 * lease that fits the pool fits any of its nodes; `nodes` counts the usable ones (a pool whose nodes
 * are all down is still listed, with 0). Nodes with accelerators of no known model are left out, and
 * said so in `skipped`.
 */
export function mapPools(nodes: readonly SlurmNode[], partitions: readonly SlurmPartition[], options: MapPoolsOptions = {}): MappedPools {
  const acceleratorGres = new Set(options.acceleratorGres ?? DEFAULT_ACCELERATOR_GRES);
  const skipped: string[] = [];
  const partitionState = new Map(partitions.map((p) => [p.name, p.state]));
  const wanted = options.partitions ?? [...partitions.map((p) => p.name)];
  for (const name of options.partitions ?? []) {
    if (!partitionState.has(name)) skipped.push(`partition ${name}: not in this cluster (it has ${[...partitionState.keys()].join(', ') || 'none'})`);
  }

  interface Group {
    partition: string;
    model: string | null;
    gres: string | null;
    feature: string | null;
    members: SlurmNode[];
    accelerators: number[];
  }
  const groups = new Map<string, Group>();
  for (const node of nodes) {
    const accel = nodeAccelerator(node, acceleratorGres);
    if (accel === 'unknown') {
      skipped.push(`${node.name}: has ${node.gres} but no node feature or GRES type names a known accelerator model`);
      continue;
    }
    for (const partition of wanted) {
      if (!node.partitions.includes(partition)) continue;
      const key = `${partition}\u0000${accel?.model ?? ''}`;
      let group = groups.get(key);
      if (!group) {
        group = { partition, model: accel?.model ?? null, gres: accel?.gres ?? null, feature: accel?.feature ?? null, members: [], accelerators: [] };
        groups.set(key, group);
      }
      group.members.push(node);
      group.accelerators.push(accel?.count ?? 0);
      // Nodes of one model that name it in different ways: ask for the weaker form every node satisfies.
      if (group.feature !== (accel?.feature ?? null)) group.feature = null;
      if (group.gres !== (accel?.gres ?? null)) group.gres = accel?.gres?.split(':')[0] ?? null;
    }
  }

  const pools: SlurmPool[] = [];
  for (const group of groups.values()) {
    const partitionUp = partitionState.get(group.partition) === 'UP';
    const usable = partitionUp ? group.members.filter(isUsable) : [];
    pools.push({
      pool: {
        name: `${group.partition}-${group.model ?? 'cpu'}`,
        accelerator: group.model,
        acceleratorsPerNode: Math.min(...group.accelerators),
        coresPerNode: Math.min(...group.members.map((n) => n.cpus)),
        memoryMiBPerNode: Math.min(...group.members.map((n) => n.realMemoryMiB)),
        nodes: usable.length,
      },
      target: { partition: group.partition, gres: group.gres, feature: group.feature },
      nodeNames: group.members.map((n) => n.name).sort(),
    });
  }
  pools.sort((a, b) => (a.pool.name < b.pool.name ? -1 : a.pool.name > b.pool.name ? 1 : 0));
  return { pools, skipped };
}

/** Free capacity of each pool now, from the same node listing. */
export function poolCapacity(pools: readonly SlurmPool[], nodes: readonly SlurmNode[], acceleratorGres: readonly string[] = DEFAULT_ACCELERATOR_GRES): PoolCapacity[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const names = new Set(acceleratorGres);
  return pools.map(({ pool, nodeNames }) => {
    const usable = nodeNames.map((n) => byName.get(n)).filter((n): n is SlurmNode => n !== undefined && isUsable(n));
    let freeAccelerators = 0;
    for (const node of usable) {
      const total = parseGres(node.gres).filter((g) => names.has(g.name)).reduce((s, g) => s + g.count, 0);
      const used = parseGres(node.gresUsed).filter((g) => names.has(g.name)).reduce((s, g) => s + g.count, 0);
      freeAccelerators += Math.max(0, total - used);
    }
    return {
      pool: pool.name,
      usableNodes: usable.length,
      idleNodes: usable.filter((n) => n.allocCpus === 0).length,
      freeCores: usable.reduce((s, n) => s + Math.max(0, n.cpus - n.allocCpus), 0),
      freeAccelerators: pool.accelerator === null ? 0 : freeAccelerators,
      freeMemoryMiB: usable.reduce((s, n) => s + Math.max(0, n.realMemoryMiB - n.allocMemoryMiB), 0),
    };
  });
}

/** True when Slurm would start work on the node now. */
export function isUsable(node: SlurmNode): boolean {
  return USABLE_STATES.has(node.state) && !node.flags.some((f) => UNUSABLE_FLAGS.has(f));
}

/**
 * Parses a GRES string: `gpu:8`, `gpu:a100:4(S:0-1)`, `npu:2(IDX:0-1),nic:1`, `gpu` (one). Counts with
 * a K/M/G suffix (`mps:100K`) are not accelerators and are skipped.
 */
export function parseGres(text: string): GresEntry[] {
  const entries: GresEntry[] = [];
  for (const part of splitTopLevel(text)) {
    const bare = part.replace(/\(.*\)$/, '').trim();
    if (bare === '' || bare === '(null)' || bare === 'N/A') continue;
    const fields = bare.split(':');
    const name = fields[0]!;
    let type: string | null = null;
    let count = 1;
    if (fields.length >= 3) {
      type = fields[1]!;
      count = Number(fields[2]);
    } else if (fields.length === 2) {
      if (/^\d+$/.test(fields[1]!)) count = Number(fields[1]);
      else if (/^\d/.test(fields[1]!)) continue; // `mps:100K`: a suffixed count
      else type = fields[1]!;
    }
    if (!Number.isSafeInteger(count) || count < 0) continue;
    entries.push({ name, type: type === '' || type === '(null)' ? null : type, count });
  }
  return entries;
}

/** The node's accelerator: none (null), one we know, or 'unknown' (accelerator GRES of no model we can name). */
function nodeAccelerator(node: SlurmNode, acceleratorGres: ReadonlySet<string>): { model: string; gres: string; feature: string | null; count: number } | null | 'unknown' {
  const gres = parseGres(node.gres).filter((g) => acceleratorGres.has(g.name) && g.count > 0);
  if (gres.length === 0) return null;
  const name = gres[0]!.name;
  const count = gres.filter((g) => g.name === name).reduce((s, g) => s + g.count, 0);
  const feature = node.features.filter((f) => acceleratorByKey(f) !== undefined).sort()[0];
  if (feature !== undefined) return { model: feature, gres: name, feature, count };
  for (const entry of gres) {
    const model = modelOfGresType(entry.type);
    if (model !== null) return { model, gres: `${entry.name}:${entry.type}`, feature: null, count: entry.count };
  }
  return 'unknown';
}

/** `a100` → `nvidia-a100`, `910b` → `ascend-910b`: the one table key that is the type or ends with `-<type>`. */
function modelOfGresType(type: string | null): string | null {
  if (type === null) return null;
  const t = type.toLowerCase();
  if (acceleratorByKey(t) !== undefined) return t;
  const matches = allAccelerators().filter((a) => a.key.endsWith(`-${t}`));
  return matches.length === 1 ? matches[0]!.key : null;
}

/** Splits on commas that are not inside parentheses (`gpu:2(S:0,1),nic:1`). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
