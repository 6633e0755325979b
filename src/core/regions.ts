/**
 * Where a center's region is on the map: longitude and latitude (degrees, WGS-84, approximate) for
 * the portal's map of the network and for anyone placing centers by region.
 *
 * Sources (public geography): the eight national computing hubs of "East Data, West Compute"
 * (东数西算) at the cluster sites of src/sim/networks/china-hubs.ts — Zhangjiakou, Qingpu, Shaoguan,
 * Tianfu, Horinger, Gui'an, Qingyang, Zhongwei; every other province-level region at its capital
 * city, rounded to 0.1°. A region not in the table has no position (the map lists it beside).
 */
export interface RegionPlace {
  readonly lon: number;
  readonly lat: number;
  /** One of the eight national hubs (东数西算枢纽), and on which side. */
  readonly hub: 'east' | 'west' | null;
}

const hub = (lon: number, lat: number, side: 'east' | 'west'): RegionPlace => ({ lon, lat, hub: side });
const city = (lon: number, lat: number): RegionPlace => ({ lon, lat, hub: null });

export const REGION_PLACES: Readonly<Record<string, RegionPlace>> = {
  // The eight hubs.
  hebei: hub(114.88, 40.77, 'east'),
  shanghai: hub(121.12, 31.15, 'east'),
  guangdong: hub(113.6, 24.81, 'east'),
  sichuan: hub(104.07, 30.4, 'east'),
  'inner-mongolia': hub(111.82, 40.38, 'west'),
  guizhou: hub(106.4, 26.4, 'west'),
  gansu: hub(107.64, 35.71, 'west'),
  ningxia: hub(105.19, 37.51, 'west'),
  // Capitals of the other province-level regions.
  beijing: city(116.4, 39.9),
  tianjin: city(117.2, 39.1),
  shanxi: city(112.5, 37.9),
  liaoning: city(123.4, 41.8),
  jilin: city(125.3, 43.9),
  heilongjiang: city(126.6, 45.8),
  jiangsu: city(118.8, 32.1),
  zhejiang: city(120.2, 30.3),
  anhui: city(117.3, 31.8),
  fujian: city(119.3, 26.1),
  jiangxi: city(115.9, 28.7),
  shandong: city(117.0, 36.7),
  henan: city(113.6, 34.8),
  hubei: city(114.3, 30.6),
  hunan: city(113.0, 28.2),
  guangxi: city(108.3, 22.8),
  hainan: city(110.3, 20.0),
  chongqing: city(106.5, 29.6),
  yunnan: city(102.7, 25.0),
  tibet: city(91.1, 29.6),
  shaanxi: city(108.9, 34.3),
  qinghai: city(101.8, 36.6),
  xinjiang: city(87.6, 43.8),
  hongkong: city(114.2, 22.3),
  macau: city(113.5, 22.2),
  taiwan: city(121.5, 25.0),
};

/** The place of a region name (case-insensitive; `inner mongolia` and `inner_mongolia` as `inner-mongolia`), or null. */
export function regionPlace(region: string): RegionPlace | null {
  const key = region.trim().toLowerCase().replace(/[\s_]+/g, '-');
  return Object.hasOwn(REGION_PLACES, key) ? REGION_PLACES[key]! : null;
}
