import type { AgentPool } from '../../core/agent-protocol.js';
import type { CenterDefinition } from '../../engine/centers.js';
import type { RegionLink } from '../../store/datasets.js';
import type { Connector } from '../../agent/connector.js';

/**
 * The embedded demo network: three centers of China's "East Data, West Compute" layout, each joined
 * through a real agent with the local connector (commands run as processes on this machine; the
 * accelerators are declared, this machine has none).
 *
 * Figures, from ../shared/data/README.md unless said otherwise:
 * - electricity: coal-power benchmark on-grid prices (CNY/kWh) as the base — Shanghai 0.4155,
 *   Ningxia 0.2595, Guizhou 0.3515 — shaped by time of use: Shanghai peak +80% / valley −60%;
 *   Ningxia cheapest 09–17 (midday solar), peaks 07–09 and 17–23. Rounded to whole fen per kWh.
 * - PUE: east target ≤ 1.25, west ≤ 1.2 (Zhongwei taken at 1.15, a green western site).
 * - carbon: provincial grid 2022 (kg/kWh) — Shanghai 0.5849, Guizhou 0.4989. Zhongwei's figure is
 *   an assumption: a direct green-power contract (solar by day 0.10, grid mix 0.64 at night), as the
 *   data README notes western hubs sign; it is a default to override, not a measurement.
 * - compute prices are illustrative list prices of this demo (¥12 per A100-hour, ¥6 per 910B-hour,
 *   ¥0.08 per core-hour on the CPU center; cores on accelerator nodes cost more, ¥0.20 and ¥0.15, so CPU work
 *   prefers the CPU center), not quotes from any operator.
 */
export interface DemoCenter {
  readonly definition: Omit<CenterDefinition, 'operatorOrg'>;
  /** The pools it declares up front (the local connector offers exactly these). */
  readonly pools: readonly AgentPool[];
  /** Another connector than the local one (e.g. Slurm), given the agent's state folder. */
  readonly connector?: (stateDir: string) => Connector;
}

const hours = (f: (h: number) => number) => Array.from({ length: 24 }, (_, h) => f(h));

const shanghaiPrice = hours((h) => (h >= 8 && h < 11) || (h >= 18 && h < 21) ? 75 : h >= 22 || h < 6 ? 17 : 42);
const zhongweiPrice = hours((h) => (h >= 9 && h < 17 ? 13 : (h >= 7 && h < 9) || (h >= 17 && h < 23) ? 39 : 26));
const guianPrice = hours(() => 35);

export const DEMO_CENTERS: readonly DemoCenter[] = [
  {
    definition: {
      name: 'east-shanghai',
      displayName: 'Shanghai (YRD hub) — NVIDIA A100',
      region: 'shanghai',
      energy: { priceFenPerKwh: shanghaiPrice, pue: 1.25, carbonKgPerKwh: hours(() => 0.5849), utcOffsetHours: 8 },
      prices: { a100: { fenPerAcceleratorHour: 1200, fenPerCoreHour: 20 } },
    },
    pools: [{ name: 'a100', accelerator: 'nvidia-a100', acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 512 * 1024, nodes: 2 }],
  },
  {
    definition: {
      name: 'west-zhongwei',
      displayName: 'Ningxia Zhongwei (western hub) — Ascend 910B',
      region: 'ningxia',
      energy: { priceFenPerKwh: zhongweiPrice, pue: 1.15, carbonKgPerKwh: hours((h) => (h >= 8 && h < 18 ? 0.1 : 0.64)), utcOffsetHours: 8 },
      prices: { '910b': { fenPerAcceleratorHour: 600, fenPerCoreHour: 15 } },
    },
    pools: [{ name: '910b', accelerator: 'ascend-910b', acceleratorsPerNode: 8, coresPerNode: 192, memoryMiBPerNode: 1024 * 1024, nodes: 4 }],
  },
  {
    definition: {
      name: 'guizhou-guian',
      displayName: "Guizhou Gui'an — CPU",
      region: 'guizhou',
      energy: { priceFenPerKwh: guianPrice, pue: 1.2, carbonKgPerKwh: hours(() => 0.4989), utcOffsetHours: 8 },
      prices: { cpu: { fenPerAcceleratorHour: 0, fenPerCoreHour: 8 } },
    },
    pools: [{ name: 'cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 64, memoryMiBPerNode: 256 * 1024, nodes: 4 }],
  },
];

/**
 * Links between the demo regions (each listed once; the reverse direction is the same). Latency:
 * the real-route round-trip floors of ../shared/data/README.md halved (Shanghai–Zhongwei 25 ms RTT,
 * Shanghai–Gui'an 23 ms); Zhongwei–Gui'an (~1,300 km) is estimated the same way (~20 ms RTT).
 * Bandwidth and egress price have no public per-link figures: 10 Gbit/s and ¥0.50 per GB are
 * assumptions of this demo, to override.
 */
export const DEMO_LINKS: readonly RegionLink[] = [
  { fromRegion: 'shanghai', toRegion: 'ningxia', bandwidthMbps: 10_000, latencyMs: 12.5, egressFenPerGB: 50 },
  { fromRegion: 'shanghai', toRegion: 'guizhou', bandwidthMbps: 10_000, latencyMs: 11.5, egressFenPerGB: 50 },
  { fromRegion: 'ningxia', toRegion: 'guizhou', bandwidthMbps: 10_000, latencyMs: 10, egressFenPerGB: 50 },
];
