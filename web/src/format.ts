import type { Lang } from './i18n.js';

/** Integer fen as yuan: 123456 → "¥1,234.56". */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.round(fen));
  return `${sign}¥${Math.floor(abs / 100).toLocaleString('en-US')}.${String(abs % 100).padStart(2, '0')}`;
}

/** Seconds as "1 h 2 min" / "1小时2分". */
export function duration(seconds: number, lang: Lang): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (lang === 'zh') return h > 0 ? `${h}小时${m}分` : m > 0 ? `${m}分${r}秒` : `${r}秒`;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${r} s` : `${r} s`;
}

/** An ISO time in the reader's locale. */
export function when(iso: string | null, lang: Lang): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
}

/** Elapsed seconds of a job: from start to end, or to now while it runs. */
export function elapsedSeconds(startedAt: string | null, finishedAt: string | null, now: number): number | null {
  if (!startedAt) return null;
  return ((finishedAt ? Date.parse(finishedAt) : now) - Date.parse(startedAt)) / 1000;
}
