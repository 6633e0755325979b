/**
 * A sketch of mainland China's outline for the network map: [longitude, latitude] vertices at
 * well-known border towns, capes and coastal cities (their publicly listed coordinates, rounded to
 * about half a degree), joined by straight lines. It is a drawing aid so the centers' positions read
 * at a glance, not a boundary: it is coarse, leaves out islands but Hainan and Taiwan, and must not
 * be used for any measurement.
 */
export const CHINA_OUTLINE: readonly (readonly [number, number])[] = [
  [122.3, 53.5], // Mohe, the northern tip
  [126.0, 52.9],
  [127.5, 50.2], // Heihe
  [130.6, 48.9],
  [134.7, 48.4], // Fuyuan, the eastern tip
  [133.1, 45.1],
  [131.1, 42.9],
  [129.9, 42.4], // Tumen river
  [128.1, 41.4],
  [124.4, 40.1], // Dandong
  [121.6, 38.9], // Dalian
  [121.9, 40.9],
  [119.6, 39.9], // Qinhuangdao
  [117.7, 39.0], // Tianjin coast
  [118.9, 37.5], // Yellow River mouth
  [120.3, 37.7],
  [122.6, 37.4], // Chengshan cape
  [120.4, 36.1], // Qingdao
  [119.2, 34.6], // Lianyungang
  [120.9, 32.0],
  [121.9, 30.9], // Shanghai coast
  [121.9, 29.9], // Ningbo
  [121.1, 28.1],
  [119.9, 26.4],
  [119.3, 25.4], // Fuzhou coast
  [118.1, 24.5], // Xiamen
  [116.7, 23.4], // Shantou
  [114.3, 22.4], // Hong Kong
  [113.3, 22.1], // Macau
  [111.0, 21.4],
  [110.4, 20.3], // Xuwen
  [109.7, 21.5],
  [108.0, 21.5], // Dongxing
  [106.7, 22.0], // Pingxiang
  [105.3, 23.3],
  [103.9, 22.5], // Hekou
  [101.8, 21.2], // Mengla
  [100.1, 21.6],
  [98.7, 23.2],
  [97.8, 24.0], // Ruili
  [98.7, 27.5],
  [97.4, 28.3],
  [96.0, 29.3],
  [92.0, 27.8],
  [88.9, 27.3], // Yadong
  [85.9, 28.1],
  [81.2, 30.0], // near Purang
  [79.0, 32.5],
  [78.7, 34.3],
  [77.8, 35.5], // Karakoram pass
  [75.0, 37.0], // Tashkurgan
  [73.5, 39.5], // the western tip
  [75.5, 40.6],
  [80.2, 42.2],
  [80.8, 45.0], // Alataw pass
  [82.9, 47.2],
  [87.0, 49.1], // Altay, the north-western corner
  [90.1, 47.8],
  [91.0, 45.0],
  [96.4, 42.7],
  [101.8, 42.5],
  [106.8, 42.3],
  [111.9, 43.6], // Erenhot
  [115.9, 45.1],
  [119.7, 47.0],
  [117.8, 49.5], // Manzhouli
  [119.9, 50.3],
  [122.3, 53.5],
];
export const HAINAN_OUTLINE: readonly (readonly [number, number])[] = [
  [110.3, 20.1], [111.0, 19.6], [110.5, 18.7], [109.5, 18.2], [108.6, 18.5], [108.7, 19.3], [109.6, 20.0], [110.3, 20.1],
];
export const TAIWAN_OUTLINE: readonly (readonly [number, number])[] = [
  [121.5, 25.3], [122.0, 25.0], [121.6, 23.5], [120.9, 21.9], [120.2, 22.6], [120.1, 23.5], [121.0, 25.0], [121.5, 25.3],
];
