/*
 * The simulator's model of a compute network: centers (region, energy, pools) and the links between
 * regions. Read from a network file (YAML or JSON, schema in docs/sim-network.md), from a shipped
 * model (networks/china-hubs.ts) or built from a trace (networks/trace-network.ts): all three go
 * through `parseNetwork`, so a model in the simulator is always a valid one.
 *
 * File → model: hourly figures may be written as one number, 24 numbers (local hours 0–23) or a
 * base with time-of-use periods; the model always holds 24. Memory is written in GiB, held in MiB.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { acceleratorByKey } from '../core/accelerators.js';
import type { NodeRequest } from '../core/resources.js';

// ------------------------------------------------------------------------------------------------
// The resolved model

/** Electricity and carbon of a center; arrays have 24 entries, one per local hour (0–23). */
export interface EnergyModel {
  readonly priceFenPerKwh: readonly number[];
  readonly pue: number;
  readonly carbonKgPerKwh: readonly number[];
  readonly utcOffsetHours: number;
}

export interface PoolModel {
  /** Unique within its center; the pool id is `<center id>/<name>`. */
  readonly name: string;
  /** Accelerator key (`ascend-910b`), or null for a CPU-only pool. */
  readonly accelerator: string | null;
  readonly nodes: number;
  readonly perNode: NodeRequest;
  /** Whole fen per accelerator-hour and per core-hour. */
  readonly fenPerAcceleratorHour: number;
  readonly fenPerCoreHour: number;
  /** Time-of-use factors on both rates, one per local hour, or null for one price around the clock. */
  readonly priceFactorByHour: readonly number[] | null;
}

export interface CenterModel {
  readonly id: string;
  readonly name: string;
  readonly region: string;
  /** Free labels (`east`, `west`, `trace-cluster`) for reports and mixes. */
  readonly tags: readonly string[];
  readonly energy: EnergyModel;
  readonly pools: readonly PoolModel[];
}

/** What moving data over a link costs. Latency is one way; GB = 10^9 bytes. */
export interface LinkSpec {
  readonly bandwidthMbps: number;
  readonly latencyMs: number;
  readonly egressFenPerGB: number;
}

/** A link between two regions, the same both ways. */
export interface LinkModel extends LinkSpec {
  readonly from: string;
  readonly to: string;
}

export interface NetworkModel {
  readonly name: string;
  readonly description: string;
  readonly centers: readonly CenterModel[];
  readonly links: readonly LinkModel[];
  /** Between two regions no link names; null = no data can move between them. */
  readonly defaultLink: LinkSpec | null;
  /** Between two centers of the same region. */
  readonly sameRegionLink: LinkSpec;
}

/** The link between centers of the same region when the file gives none (the scheduler's default too): free, 100 Gbit/s, no latency worth counting. */
export const SAME_REGION_LINK: LinkSpec = { bandwidthMbps: 100_000, latencyMs: 0, egressFenPerGB: 0 };

// ------------------------------------------------------------------------------------------------
// The file schema

const name = z.string().trim().min(1, 'must not be empty').max(128);
const id = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, . _ - only, starting with a letter or digit');

const period = z.strictObject({
  /** First local hour of the period (0–23). */
  from: z.int().min(0).max(23),
  /** Hour the period ends (exclusive, 1–24); a period may wrap midnight (from 23 to 7). */
  to: z.int().min(1).max(24),
  /** Multiplier of `base` in the period (time of use: 1.6 peak, 0.4 valley). */
  factor: z.number().min(0).max(100),
  label: z.string().max(64).optional(),
});

/** One number for every hour, 24 numbers, or `{base, periods}`. */
function hourlyFigure(max: number) {
  return z.union(
    [
      z.number().min(0).max(max),
      z.array(z.number().min(0).max(max)).length(24, 'give 24 values, one per local hour 0–23'),
      z.strictObject({ base: z.number().min(0).max(max), periods: z.array(period).max(24).default([]) }),
    ],
    { error: 'expected a number, a list of 24 numbers (one per local hour), or {base, periods: [{from, to, factor}]}' },
  );
}

const energy = z.strictObject({
  /** Electricity price in fen per kWh. */
  priceFenPerKwh: hourlyFigure(10_000),
  pue: z.number().min(1, 'a PUE is at least 1').max(5),
  /** Grid (or contracted) carbon intensity, kg CO2e per kWh. */
  carbonKgPerKwh: hourlyFigure(5),
  utcOffsetHours: z.number().min(-12).max(14).default(8),
});

const pool = z.strictObject({
  name: id,
  accelerator: id.nullable().default(null),
  nodes: z.int().min(1, 'a pool has at least one node').max(100_000),
  perNode: z.strictObject({
    accelerators: z.int().min(0).max(64),
    cores: z.int().min(1).max(4096),
    memoryGiB: z.number().positive().max(65_536),
  }),
  fenPerAcceleratorHour: z.int('whole fen only (money is never fractional)').min(0),
  fenPerCoreHour: z.int('whole fen only (money is never fractional)').min(0),
  /** Time of use on the user's price: factors by local hour (absent = one price around the clock). */
  priceFactorByHour: hourlyFigure(100).optional(),
});

const linkSpec = z.strictObject({
  bandwidthMbps: z.number().positive().max(10_000_000),
  latencyMs: z.number().min(0).max(10_000),
  egressFenPerGB: z.number().min(0).max(1_000_000),
});

const link = z.strictObject({
  between: z.tuple([id, id], { error: 'give two region names: between: [from, to]' }),
  ...linkSpec.shape,
});

const center = z.strictObject({
  id,
  name: name.optional(),
  region: id,
  tags: z.array(z.string().min(1).max(64)).max(32).default([]),
  energy,
  pools: z.array(pool).min(1, 'a center needs at least one pool'),
});

/** The network file's schema (zod): what `parseNetwork` accepts. */
export const NetworkFileSchema = z.strictObject({
  name: name,
  description: z.string().max(10_000).default(''),
  centers: z.array(center).min(1, 'a network needs at least one center'),
  links: z.array(link).default([]),
  defaultLink: linkSpec.nullable().default(null),
  sameRegionLink: linkSpec.optional(),
});

/** A network file as written (before defaults): what builders produce and `parseNetwork` checks. */
export type NetworkFile = z.input<typeof NetworkFileSchema>;

// ------------------------------------------------------------------------------------------------
// Parsing and checking

export interface NetworkIssue {
  /** The field, as a path: `centers[2].pools[0].nodes`. */
  readonly field: string;
  readonly message: string;
}

/** A network file that does not validate; `issues` names every bad field. */
export class NetworkModelError extends Error {
  readonly issues: readonly NetworkIssue[];
  constructor(source: string, issues: readonly NetworkIssue[]) {
    super(`${source}: invalid network model\n${issues.map((i) => `  ${i.field}: ${i.message}`).join('\n')}`);
    this.name = 'NetworkModelError';
    this.issues = issues;
  }
}

function fieldOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function shown(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** 24 hourly values from a number, a list or `{base, periods}` (later periods override earlier ones). */
function hours(v: number | readonly number[] | { base: number; periods: readonly z.output<typeof period>[] }): number[] {
  if (typeof v === 'number') return Array<number>(24).fill(v);
  if (Array.isArray(v)) return [...(v as readonly number[])];
  const { base, periods } = v as { base: number; periods: readonly z.output<typeof period>[] };
  const out = Array<number>(24).fill(base);
  for (const p of periods) {
    // `to` is exclusive and may be smaller than `from` (the period wraps midnight); 0 to 24 is all day.
    const end = p.to % 24;
    let h = p.from;
    do {
      out[h] = base * p.factor;
      h = (h + 1) % 24;
    } while (h !== end);
  }
  return out;
}

/**
 * Checks `input` (a parsed YAML or JSON value) against the schema and the rules the schema cannot
 * say (unique ids, links between known regions, accelerator counts matching the pool kind), and
 * returns the resolved model and warnings (accelerators not in the table). Throws
 * `NetworkModelError` naming every bad field.
 */
export function parseNetwork(input: unknown, source = 'network'): { model: NetworkModel; warnings: NetworkIssue[] } {
  const parsed = NetworkFileSchema.safeParse(input);
  if (!parsed.success) {
    throw new NetworkModelError(
      source,
      parsed.error.issues.map((i) => {
        const v = valueAt(input, i.path);
        if (i.code === 'invalid_type' && v === undefined) return { field: fieldOf(i.path), message: `missing (expected ${i.expected})` };
        const got = v === undefined || i.code === 'unrecognized_keys' ? '' : ` (got ${shown(v)})`;
        return { field: fieldOf(i.path), message: `${i.message}${got}` };
      }),
    );
  }
  const file = parsed.data;
  const issues: NetworkIssue[] = [];
  const warnings: NetworkIssue[] = [];
  const centerIds = new Set<string>();
  const regions = new Set<string>();
  file.centers.forEach((c, ci) => {
    if (centerIds.has(c.id)) issues.push({ field: `centers[${ci}].id`, message: `"${c.id}" is used by an earlier center; center ids must be unique` });
    centerIds.add(c.id);
    regions.add(c.region);
    const poolNames = new Set<string>();
    for (const [what, v] of [['priceFenPerKwh', c.energy.priceFenPerKwh], ['carbonKgPerKwh', c.energy.carbonKgPerKwh]] as const) {
      if (typeof v === 'object' && !Array.isArray(v)) {
        (v as { periods: readonly z.output<typeof period>[] }).periods.forEach((p, pi) => {
          if (p.from === p.to) {
            issues.push({ field: `centers[${ci}].energy.${what}.periods[${pi}]`, message: `from ${p.from} to ${p.to} is empty; a period runs from its first hour up to (not including) \`to\`` });
          }
        });
      }
    }
    c.pools.forEach((p, pi) => {
      const at = `centers[${ci}].pools[${pi}]`;
      if (poolNames.has(p.name)) issues.push({ field: `${at}.name`, message: `"${p.name}" is used by an earlier pool of center "${c.id}"; pool names must be unique within a center` });
      poolNames.add(p.name);
      if (p.accelerator === null && p.perNode.accelerators > 0) {
        issues.push({ field: `${at}.perNode.accelerators`, message: `${p.perNode.accelerators} accelerators on a CPU pool (accelerator: null); name the accelerator or set 0` });
      }
      if (p.accelerator !== null && p.perNode.accelerators === 0) {
        issues.push({ field: `${at}.perNode.accelerators`, message: `a pool of "${p.accelerator}" needs at least 1 accelerator per node (or set accelerator: null)` });
      }
      if (p.accelerator !== null && acceleratorByKey(p.accelerator) === undefined) {
        warnings.push({ field: `${at}.accelerator`, message: `"${p.accelerator}" is not in the accelerator table: only jobs asking for it by name or for any accelerator match it, and the scheduler assumes its default board power` });
      }
    });
  });
  const linkKeys = new Set<string>();
  file.links.forEach((l, li) => {
    const [a, b] = l.between;
    for (const [k, r] of [[0, a], [1, b]] as const) {
      if (!regions.has(r)) issues.push({ field: `links[${li}].between[${k}]`, message: `no center is in region "${r}" (regions: ${[...regions].sort().join(', ')})` });
    }
    if (a === b) issues.push({ field: `links[${li}].between`, message: `a link joins two different regions (got "${a}" twice); use sameRegionLink for traffic within a region` });
    const key = [a, b].sort().join('\u0000');
    if (linkKeys.has(key)) issues.push({ field: `links[${li}].between`, message: `${a}–${b} is linked twice; a link serves both directions, give it once` });
    linkKeys.add(key);
  });
  if (file.defaultLink === null) {
    const list = [...regions];
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        if (!linkKeys.has([list[i]!, list[j]!].sort().join('\u0000'))) {
          warnings.push({ field: 'links', message: `regions ${list[i]} and ${list[j]} have no link and there is no defaultLink: no data can move between them` });
        }
      }
    }
  }
  if (issues.length > 0) throw new NetworkModelError(source, issues);

  const model: NetworkModel = {
    name: file.name,
    description: file.description,
    centers: file.centers.map((c) => ({
      id: c.id,
      name: c.name ?? c.id,
      region: c.region,
      tags: c.tags,
      energy: {
        priceFenPerKwh: hours(c.energy.priceFenPerKwh),
        pue: c.energy.pue,
        carbonKgPerKwh: hours(c.energy.carbonKgPerKwh),
        utcOffsetHours: c.energy.utcOffsetHours,
      },
      pools: c.pools.map((p) => ({
        name: p.name,
        accelerator: p.accelerator,
        nodes: p.nodes,
        perNode: { accelerators: p.perNode.accelerators, cores: p.perNode.cores, memoryMiB: Math.round(p.perNode.memoryGiB * 1024) },
        fenPerAcceleratorHour: p.fenPerAcceleratorHour,
        fenPerCoreHour: p.fenPerCoreHour,
        priceFactorByHour: p.priceFactorByHour === undefined ? null : hours(p.priceFactorByHour),
      })),
    })),
    links: file.links.map((l) => ({ from: l.between[0], to: l.between[1], bandwidthMbps: l.bandwidthMbps, latencyMs: l.latencyMs, egressFenPerGB: l.egressFenPerGB })),
    defaultLink: file.defaultLink,
    sameRegionLink: file.sameRegionLink ?? SAME_REGION_LINK,
  };
  return { model, warnings };
}

/** `parseNetwork` of YAML or JSON text (JSON is YAML, so one parser reads both). Syntax errors name the line. */
export function parseNetworkText(text: string, source = 'network'): { model: NetworkModel; warnings: NetworkIssue[] } {
  let value: unknown;
  try {
    value = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    throw new NetworkModelError(source, [{ field: '(file)', message: `not valid YAML or JSON: ${(e as Error).message}` }]);
  }
  return parseNetwork(value, source);
}

// ------------------------------------------------------------------------------------------------
// Questions the simulator asks of a model

/** The link between regions `a` and `b` (same region: `sameRegionLink`), or null when data cannot move. */
export function linkBetween(model: NetworkModel, a: string, b: string): LinkSpec | null {
  if (a === b) return model.sameRegionLink;
  for (const l of model.links) if ((l.from === a && l.to === b) || (l.from === b && l.to === a)) return l;
  return model.defaultLink;
}

/** Seconds to move `bytes` over `link`: one latency plus the bytes at full bandwidth. */
export function transferSeconds(link: LinkSpec, bytes: number): number {
  if (bytes <= 0) return 0;
  return link.latencyMs / 1000 + (bytes * 8) / (link.bandwidthMbps * 1e6);
}

/** The egress charge in fen (not rounded) for moving `bytes` over `link`; GB = 10^9 bytes. */
export function egressFen(link: LinkSpec, bytes: number): number {
  return (Math.max(0, bytes) / 1e9) * link.egressFenPerGB;
}

/** Accelerators of a center (all its pools), and its cores. */
export function centerCapacity(c: CenterModel): { accelerators: number; cores: number } {
  let accelerators = 0;
  let cores = 0;
  for (const p of c.pools) {
    accelerators += p.nodes * p.perNode.accelerators;
    cores += p.nodes * p.perNode.cores;
  }
  return { accelerators, cores };
}

/** The pool id the simulator and the scheduler use: `<center id>/<pool name>`. */
export function poolId(c: CenterModel, p: PoolModel): string {
  return `${c.id}/${p.name}`;
}
