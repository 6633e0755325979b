/*
 * Charts as SVG text, written by hand (no chart library): a line chart (utilisation over time, wait
 * CDFs) and a bar chart (cost, carbon per policy). Pure: strings in, a string out; the caller writes
 * the file. Deterministic output (fixed precision), so reports diff cleanly between runs.
 */

export interface Series {
  readonly name: string;
  /** Points in data units, x ascending. */
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Logarithmic x axis (values ≤ 0 are drawn at the axis' left end). */
  readonly xLog?: boolean;
  readonly yMin?: number;
  readonly yMax?: number;
  /** Tick labels for x (default: the number, shortened). */
  readonly xFormat?: (x: number) => string;
  readonly yFormat?: (y: number) => string;
  readonly width?: number;
  readonly height?: number;
}

export interface BarChartOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly bars: readonly { readonly label: string; readonly value: number; readonly highlight?: boolean }[];
  readonly yFormat?: (y: number) => string;
  readonly width?: number;
  readonly height?: number;
}

/** A colour-blind-safe palette (Okabe–Ito, then Tol's muted), cycled. */
export const PALETTE = [
  '#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000',
  '#882255', '#44AA99', '#999933', '#AA4499',
] as const;

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const f = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(2)).toString() : '0');

/** "1.2k", "3.4M", "0.25": short numbers for ticks. */
export function shortNumber(x: number): string {
  const a = Math.abs(x);
  if (a >= 1e9) return `${+(x / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${+(x / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(x / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${+(x / 1e3).toFixed(1)}k`;
  if (a >= 1 || a === 0) return `${+x.toFixed(1)}`;
  return `${+x.toPrecision(2)}`;
}

/** "45s", "12m", "3.5h", "2.1d": a duration in seconds for ticks. */
export function shortDuration(s: number): string {
  if (s < 60) return `${+s.toFixed(0)}s`;
  if (s < 3600) return `${+(s / 60).toFixed(0)}m`;
  if (s < 86400) return `${+(s / 3600).toFixed(1)}h`;
  return `${+(s / 86400).toFixed(1)}d`;
}

/** About `n` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function frame(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** A line chart with axes, ticks, a legend on the right and one polyline per series. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 900;
  const height = o.height ?? 420;
  const legendWidth = 170;
  const m = { left: 64, right: legendWidth + 16, top: 36, bottom: 48 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1]));
  const log = o.xLog === true;
  const xPos = xs.filter((x) => x > 0);
  let x0 = log ? Math.min(...xPos, 1) : Math.min(...xs, 0);
  let x1 = log ? Math.max(...xPos, 10) : Math.max(...xs, 1);
  if (log) {
    x0 = 10 ** Math.floor(Math.log10(x0));
    x1 = 10 ** Math.ceil(Math.log10(x1));
  }
  const y0 = o.yMin ?? Math.min(...ys, 0);
  const y1 = o.yMax ?? (Math.max(...ys, 0) > y0 ? Math.max(...ys) : y0 + 1);
  const tx = (x: number) => {
    const t = log ? (Math.log10(Math.max(x, x0)) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) : (x - x0) / (x1 - x0 || 1);
    return m.left + t * w;
  };
  const ty = (y: number) => m.top + h - ((Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0 || 1)) * h;
  const body: string[] = [];
  const xFmt = o.xFormat ?? shortNumber;
  const yFmt = o.yFormat ?? shortNumber;
  // Grid and ticks.
  const xTicks = log ? Array.from({ length: Math.round(Math.log10(x1 / x0)) + 1 }, (_, i) => x0 * 10 ** i) : niceTicks(x0, x1, 6);
  for (const x of xTicks) {
    body.push(`<line x1="${f(tx(x))}" y1="${m.top}" x2="${f(tx(x))}" y2="${m.top + h}" stroke="#e5e5e5"/>`);
    body.push(`<text x="${f(tx(x))}" y="${m.top + h + 16}" text-anchor="middle" fill="#444">${escapeXml(xFmt(x))}</text>`);
  }
  for (const y of niceTicks(y0, y1, 5)) {
    body.push(`<line x1="${m.left}" y1="${f(ty(y))}" x2="${m.left + w}" y2="${f(ty(y))}" stroke="#e5e5e5"/>`);
    body.push(`<text x="${m.left - 6}" y="${f(ty(y) + 4)}" text-anchor="end" fill="#444">${escapeXml(yFmt(y))}</text>`);
  }
  body.push(`<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  body.push(`<text x="${m.left + w / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  body.push(`<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    if (s.points.length > 0) {
      const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${f(tx(p[0]))} ${f(ty(p[1]))}`).join(' ');
      body.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.6" stroke-linejoin="round"><title>${escapeXml(s.name)}</title></path>`);
    }
    const ly = m.top + 8 + i * 18;
    body.push(`<line x1="${width - legendWidth}" y1="${ly}" x2="${width - legendWidth + 22}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`);
    body.push(`<text x="${width - legendWidth + 28}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  return frame(width, height, o.title, body);
}

/** Vertical bars with their values written above them. */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 760;
  const height = o.height ?? 380;
  const m = { left: 72, right: 64, top: 36, bottom: 88 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const max = Math.max(...o.bars.map((b) => b.value), 0) || 1;
  const ticks = niceTicks(0, max * 1.1, 5);
  const top = ticks[ticks.length - 1]! || 1;
  const ty = (y: number) => m.top + h - (y / top) * h;
  const fmt = o.yFormat ?? shortNumber;
  const body: string[] = [];
  for (const y of ticks) {
    body.push(`<line x1="${m.left}" y1="${f(ty(y))}" x2="${m.left + w}" y2="${f(ty(y))}" stroke="#e5e5e5"/>`);
    body.push(`<text x="${m.left - 6}" y="${f(ty(y) + 4)}" text-anchor="end" fill="#444">${escapeXml(fmt(y))}</text>`);
  }
  const slot = w / Math.max(1, o.bars.length);
  o.bars.forEach((b, i) => {
    const x = m.left + i * slot + slot * 0.15;
    const bw = slot * 0.7;
    const y = ty(Math.max(0, b.value));
    body.push(`<rect x="${f(x)}" y="${f(y)}" width="${f(bw)}" height="${f(m.top + h - y)}" fill="${b.highlight ? PALETTE[3] : PALETTE[0]}"><title>${escapeXml(`${b.label}: ${fmt(b.value)}`)}</title></rect>`);
    body.push(`<text x="${f(x + bw / 2)}" y="${f(y - 4)}" text-anchor="middle" font-size="11">${escapeXml(fmt(b.value))}</text>`);
    body.push(`<text transform="translate(${f(x + bw / 2)} ${m.top + h + 12}) rotate(35)" font-size="11">${escapeXml(b.label)}</text>`);
  });
  body.push(`<line x1="${m.left}" y1="${m.top + h}" x2="${m.left + w}" y2="${m.top + h}" stroke="#888"/>`);
  body.push(`<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  return frame(width, height, o.title, body);
}
