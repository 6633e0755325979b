/*
 * `china-hubs`: the eight national hubs of "East Data, West Compute" (东数西算; NDRC and three
 * ministries, February 2022) as eight centers. Every figure's source is given beside it and in
 * docs/sim-network.md; "../shared/data" below is ../shared/data/README.md of this workspace, whose
 * confidence marks (high/medium/low) are kept. ASSUMPTION marks a figure with no public source:
 * a default to override, not a measurement.
 *
 * Electricity (fen/kWh): the provincial coal-power benchmark on-grid price (../shared/data,
 * medium; a wholesale proxy — no public per-province data-center tariff was found) as the flat
 * price, shaped by time of use. Windows are from ../shared/data where given (Ningxia, Gansu,
 * Beijing valley, Guangdong); the ratios are the NDRC 2021 rule's Sichuan example 1.6 : 1 : 0.4
 * (peak : flat : valley, a 4 : 1 spread) except Shanghai's published +80% / −60%. Windows not
 * published are ASSUMPTIONS, marked per hub.
 *
 * PUE: the 2022 targets, ≤ 1.25 east and ≤ 1.2 west (../shared/data). Targets, not measurements:
 * the reported national average was 1.42 in mid-2025.
 *
 * Carbon (kg CO2e/kWh): provincial grid 2022 (../shared/data; Hebei has no provincial figure, so
 * Zhangjiakou takes the North grid's 0.6776). Eastern hubs are taken at their grid figure. Western
 * hubs sign direct green-power contracts (../shared/data notes it; no per-hub share is public), so
 * their figure is grid × (1 − contracted green share), the share an ASSUMPTION: Ningxia and Gansu
 * 80% in their midday solar valley and 40% otherwise; Inner Mongolia 50% (wind); Guizhou 30%
 * (hydro); Sichuan none beyond its hydro-heavy grid (0.1404).
 *
 * Accelerator mix, node counts and prices are ILLUSTRATIVE ASSUMPTIONS: mostly Ascend 910B with one
 * other domestic chip per hub, about 95% domestic accelerators overall (the design brief's figure
 * for the national network), and a few NVIDIA A100 nodes in two hubs. List prices per
 * accelerator-hour (east; west is 80% of east, following "industrial power in the west is about 30%
 * cheaper", ../shared/data): A100 ¥12, 910B ¥7.50, P800 ¥7, C500 ¥6, K100-AI ¥5, MLU370-X8 and
 * S4000 ¥3.50 — rough relative levels, not operators' quotes.
 *
 * Links: one between every pair of hubs. Latency is one way: great-circle distance × 5 µs/km × 1.5
 * for real routes (../shared/data's rule for round-trip floors, halved per direction); the pair
 * average comes to 8.6 ms one way (17.2 ms round trip) against CAICT's measured 14.6 ms average on
 * the inter-hub IP private network, so these are slightly pessimistic. Bandwidth (10 Gbit/s) and
 * egress (¥0.50 per GB) have no public per-link figures: ASSUMPTIONS, as in the embedded demo.
 */
import { parseNetwork, type NetworkFile, type NetworkModel } from '../network-model.js';

type Hourly = number | number[] | { base: number; periods: { from: number; to: number; factor: number; label?: string }[] };

/** A hub's site: where it is and what its energy costs; pools are added per model. */
export interface HubSite {
  readonly id: string;
  readonly name: string;
  readonly region: string;
  readonly side: 'east' | 'west';
  readonly hub: string;
  /** Latitude, longitude of the cluster (approximate, for link latency). */
  readonly at: readonly [number, number];
  readonly energy: { readonly priceFenPerKwh: Hourly; readonly pue: number; readonly carbonKgPerKwh: Hourly; readonly utcOffsetHours: number };
}

const PEAK = 1.6;
const VALLEY = 0.4;
const round = (x: number, digits: number) => Number(x.toFixed(digits));
const tou = (flat: number, valley: [number, number][], peak: [number, number][], ratios = { peak: PEAK, valley: VALLEY }): Hourly => ({
  base: flat,
  periods: [
    ...valley.map(([from, to]) => ({ from, to, factor: ratios.valley, label: 'valley' })),
    ...peak.map(([from, to]) => ({ from, to, factor: ratios.peak, label: 'peak' })),
  ],
});
/** grid × (1 − green share), the share by local hour. */
const contracted = (grid: number, share: (h: number) => number): number[] =>
  Array.from({ length: 24 }, (_, h) => round(grid * (1 - share(h)), 4));
const within = (h: number, from: number, to: number) => h >= from && h < to;

/** The eight hubs, east first. */
export const HUB_SITES: readonly HubSite[] = [
  {
    id: 'jjj-zhangjiakou',
    name: 'Zhangjiakou (Beijing–Tianjin–Hebei hub)',
    region: 'hebei',
    side: 'east',
    hub: 'Beijing–Tianjin–Hebei',
    at: [40.77, 114.88],
    energy: {
      // Beijing benchmark 0.3598 (Hebei not in the table); valley 23–07 (Beijing, ../shared/data);
      // peaks 10–15 and 18–21: ASSUMPTION.
      priceFenPerKwh: tou(35.98, [[23, 7]], [[10, 15], [18, 21]]),
      pue: 1.25,
      carbonKgPerKwh: 0.6776, // North grid 2022
      utcOffsetHours: 8,
    },
  },
  {
    id: 'yrd-qingpu',
    name: 'Qingpu (Yangtze River Delta hub)',
    region: 'shanghai',
    side: 'east',
    hub: 'Yangtze River Delta',
    at: [31.15, 121.12],
    energy: {
      // Shanghai benchmark 0.4155; peak +80% / valley −60% (../shared/data); windows valley 22–06,
      // peaks 08–11 and 18–21: ASSUMPTION (as in the embedded demo).
      priceFenPerKwh: tou(41.55, [[22, 6]], [[8, 11], [18, 21]], { peak: 1.8, valley: 0.4 }),
      pue: 1.25,
      carbonKgPerKwh: 0.5849, // Shanghai 2022
      utcOffsetHours: 8,
    },
  },
  {
    id: 'gba-shaoguan',
    name: 'Shaoguan (Guangdong–Hong Kong–Macao hub)',
    region: 'guangdong',
    side: 'east',
    hub: 'Guangdong–Hong Kong–Macao',
    at: [24.81, 113.6],
    energy: {
      // Guangdong benchmark 0.4530; valley 00–08, peaks 10–12 and 14–19 (../shared/data).
      priceFenPerKwh: tou(45.3, [[0, 8]], [[10, 12], [14, 19]]),
      pue: 1.25,
      carbonKgPerKwh: 0.4403, // Guangdong 2022
      utcOffsetHours: 8,
    },
  },
  {
    id: 'cy-tianfu',
    name: 'Tianfu (Chengdu–Chongqing hub)',
    region: 'sichuan',
    side: 'west',
    hub: 'Chengdu–Chongqing',
    at: [30.4, 104.07],
    energy: {
      // Sichuan benchmark 0.4012, ratios 1.6 : 1 : 0.4 (../shared/data); windows valley 23–07,
      // peaks 10–12 and 19–22: ASSUMPTION.
      priceFenPerKwh: tou(40.12, [[23, 7]], [[10, 12], [19, 22]]),
      pue: 1.2,
      carbonKgPerKwh: 0.1404, // Sichuan 2022 (hydro)
      utcOffsetHours: 8,
    },
  },
  {
    id: 'nm-horinger',
    name: 'Horinger (Inner Mongolia hub)',
    region: 'inner-mongolia',
    side: 'west',
    hub: 'Inner Mongolia',
    at: [40.38, 111.82],
    energy: {
      // Inner Mongolia benchmark 0.2829; windows valley 23–07, peaks 17–22: ASSUMPTION.
      priceFenPerKwh: tou(28.29, [[23, 7]], [[17, 22]]),
      pue: 1.2,
      carbonKgPerKwh: contracted(0.6849, () => 0.5), // grid 2022 × (1 − 50% wind contract: ASSUMPTION)
      utcOffsetHours: 8,
    },
  },
  {
    id: 'gz-guian',
    name: "Gui'an (Guizhou hub)",
    region: 'guizhou',
    side: 'west',
    hub: 'Guizhou',
    at: [26.4, 106.4],
    energy: {
      // Guizhou benchmark 0.3515; windows valley 23–07, peaks 10–12 and 19–22: ASSUMPTION.
      priceFenPerKwh: tou(35.15, [[23, 7]], [[10, 12], [19, 22]]),
      pue: 1.2,
      carbonKgPerKwh: contracted(0.4989, () => 0.3), // grid 2022 × (1 − 30% hydro contract: ASSUMPTION)
      utcOffsetHours: 8,
    },
  },
  {
    id: 'gs-qingyang',
    name: 'Qingyang (Gansu hub)',
    region: 'gansu',
    side: 'west',
    hub: 'Gansu',
    at: [35.71, 107.64],
    energy: {
      // Gansu benchmark 0.3078; valley 10–16 (midday solar), peaks 06–08 and 18–23 (../shared/data).
      priceFenPerKwh: tou(30.78, [[10, 16]], [[6, 8], [18, 23]]),
      pue: 1.2,
      // grid 2022 0.4772 × (1 − green share): 80% in the solar valley, 40% otherwise (ASSUMPTION).
      carbonKgPerKwh: contracted(0.4772, (h) => (within(h, 10, 16) ? 0.8 : 0.4)),
      utcOffsetHours: 8,
    },
  },
  {
    id: 'nx-zhongwei',
    name: 'Zhongwei (Ningxia hub)',
    region: 'ningxia',
    side: 'west',
    hub: 'Ningxia',
    at: [37.51, 105.19],
    energy: {
      // Ningxia benchmark 0.2595; valley 09–17 (midday solar), peaks 07–09 and 17–23 (../shared/data).
      priceFenPerKwh: tou(25.95, [[9, 17]], [[7, 9], [17, 23]]),
      pue: 1.2,
      // grid 2022 0.6423 × (1 − green share): 80% in the solar valley, 40% otherwise (ASSUMPTION).
      carbonKgPerKwh: contracted(0.6423, (h) => (within(h, 9, 17) ? 0.8 : 0.4)),
      utcOffsetHours: 8,
    },
  },
];

/** Node shapes (accelerators, cores, memory GiB) per accelerator: vendor reference servers where known, else ASSUMPTION. */
export const NODE_SHAPES: Readonly<Record<string, { readonly accelerators: number; readonly cores: number; readonly memoryGiB: number }>> = {
  'ascend-910b': { accelerators: 8, cores: 192, memoryGiB: 1024 }, // Atlas 800T A2 class: 4 × 48-core Kunpeng 920
  'nvidia-a100': { accelerators: 8, cores: 128, memoryGiB: 1024 }, // DGX A100 class: 2 × 64-core EPYC
  'hygon-k100-ai': { accelerators: 8, cores: 128, memoryGiB: 1024 }, // ASSUMPTION
  'cambricon-mlu370-x8': { accelerators: 8, cores: 96, memoryGiB: 512 }, // ASSUMPTION
  'kunlunxin-p800': { accelerators: 8, cores: 128, memoryGiB: 1024 }, // ASSUMPTION
  'metax-c500': { accelerators: 8, cores: 128, memoryGiB: 1024 }, // ASSUMPTION
  'mthreads-s4000': { accelerators: 8, cores: 128, memoryGiB: 1024 }, // ASSUMPTION
  cpu: { accelerators: 0, cores: 128, memoryGiB: 512 }, // ASSUMPTION: 2 × 64-core
};

/** East list prices in fen per accelerator-hour (ILLUSTRATIVE ASSUMPTION); the west pays `WEST_PRICE_FACTOR` of them. */
export const EAST_ACCELERATOR_PRICES: Readonly<Record<string, number>> = {
  'nvidia-a100': 1200,
  'ascend-910b': 750,
  'kunlunxin-p800': 700,
  'metax-c500': 600,
  'hygon-k100-ai': 500,
  'cambricon-mlu370-x8': 350,
  'mthreads-s4000': 350,
};
export const WEST_PRICE_FACTOR = 0.8;
/** Fen per core-hour: CPU pools, and cores on accelerator nodes (dearer, so CPU work prefers CPU pools). ASSUMPTION. */
export const CORE_PRICES = { east: { cpu: 10, accelerator: 15 }, west: { cpu: 8, accelerator: 12 } } as const;

/** The accelerator price of `key` on `side` in whole fen (0 for a CPU pool). */
export function acceleratorPrice(key: string | null, side: 'east' | 'west'): number {
  if (key === null) return 0;
  const east = EAST_ACCELERATOR_PRICES[key];
  if (east === undefined) throw new Error(`no list price for accelerator "${key}" in china-hubs (known: ${Object.keys(EAST_ACCELERATOR_PRICES).join(', ')})`);
  return side === 'east' ? east : Math.round(east * WEST_PRICE_FACTOR);
}

/** Nodes per pool at each hub (ILLUSTRATIVE ASSUMPTION). */
const HUB_POOLS: Readonly<Record<string, readonly (readonly [string, number])[]>> = {
  'jjj-zhangjiakou': [['ascend-910b', 32], ['nvidia-a100', 16], ['cpu', 64]],
  'yrd-qingpu': [['ascend-910b', 48], ['hygon-k100-ai', 16], ['cpu', 128]],
  'gba-shaoguan': [['ascend-910b', 32], ['cambricon-mlu370-x8', 16], ['cpu', 64]],
  'cy-tianfu': [['ascend-910b', 64], ['hygon-k100-ai', 32], ['cpu', 64]],
  'nm-horinger': [['ascend-910b', 96], ['mthreads-s4000', 16], ['cpu', 32]],
  'gz-guian': [['ascend-910b', 64], ['kunlunxin-p800', 32], ['cpu', 64]],
  'gs-qingyang': [['ascend-910b', 96], ['metax-c500', 32], ['cpu', 32]],
  'nx-zhongwei': [['ascend-910b', 96], ['nvidia-a100', 16], ['cpu', 64]],
};

/** Great-circle distance in km between two (lat, lon) points. */
export function greatCircleKm(a: readonly [number, number], b: readonly [number, number]): number {
  const rad = Math.PI / 180;
  const dLat = (b[0] - a[0]) * rad;
  const dLon = (b[1] - a[1]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

/** One-way latency in ms over a real route: 5 µs/km in fibre × 1.5 for the route (../shared/data). */
export function routeLatencyMs(km: number): number {
  return round(km * 0.005 * 1.5, 1);
}

export const HUB_LINK = { bandwidthMbps: 10_000, egressFenPerGB: 50 } as const; // ASSUMPTION

/** Links between every pair of `sites`' regions, latency from distance. */
export function hubLinks(sites: readonly HubSite[]): NetworkFile['links'] {
  const links: NonNullable<NetworkFile['links']> = [];
  for (let i = 0; i < sites.length; i++) {
    for (let j = i + 1; j < sites.length; j++) {
      const a = sites[i]!;
      const b = sites[j]!;
      if (a.region === b.region) continue;
      links.push({ between: [a.region, b.region], latencyMs: routeLatencyMs(greatCircleKm(a.at, b.at)), ...HUB_LINK });
    }
  }
  return links;
}

/** The site's energy as the network file writes it. */
export function siteEnergy(s: HubSite): NetworkFile['centers'][number]['energy'] {
  return { priceFenPerKwh: s.energy.priceFenPerKwh, pue: s.energy.pue, carbonKgPerKwh: s.energy.carbonKgPerKwh, utcOffsetHours: s.energy.utcOffsetHours };
}

/** The china-hubs network as a network file (what `suanwang sim` could write out for editing). */
export function chinaHubsFile(): NetworkFile {
  return {
    name: 'china-hubs',
    description:
      'The eight "East Data, West Compute" hubs as centers. Energy, PUE and carbon from public figures (../shared/data); ' +
      'accelerator mix, sizes and prices are illustrative assumptions (docs/sim-network.md).',
    centers: HUB_SITES.map((s) => ({
      id: s.id,
      name: s.name,
      region: s.region,
      tags: [s.side, `hub:${s.hub}`],
      energy: siteEnergy(s),
      pools: HUB_POOLS[s.id]!.map(([key, nodes]) => {
        const shape = NODE_SHAPES[key]!;
        const accelerator = key === 'cpu' ? null : key;
        return {
          name: key,
          accelerator,
          nodes,
          perNode: shape,
          fenPerAcceleratorHour: acceleratorPrice(accelerator, s.side),
          fenPerCoreHour: accelerator === null ? CORE_PRICES[s.side].cpu : CORE_PRICES[s.side].accelerator,
        };
      }),
    })),
    links: hubLinks(HUB_SITES),
    defaultLink: null,
  };
}

/** The shipped china-hubs model, validated. */
export function chinaHubs(): NetworkModel {
  return parseNetwork(chinaHubsFile(), 'china-hubs').model;
}
