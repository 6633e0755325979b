/**
 * One line of a progress bar: `[██████░░░░░░]  48%  1.2 s, ETA 1.3 s  label`. Pure: the caller
 * measures `elapsedMs` with a real clock and writes the line (with `\r`) to a terminal.
 */
export function progressLine(fraction: number, elapsedMs: number, label: string, width = 28): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  const bar = '█'.repeat(full) + '░'.repeat(width - full);
  const eta = f > 0 && f < 1 ? `, ETA ${formatSeconds((elapsedMs / f - elapsedMs) / 1000)}` : '';
  return `[${bar}] ${String(Math.floor(f * 100)).padStart(3)}%  ${formatSeconds(elapsedMs / 1000)}${eta}  ${label}`;
}

/** 0.4 → "0.4 s", 75 → "1m15s", 4000 → "1h06m". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
