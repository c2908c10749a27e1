// Compact formatting for a 380 px wide popover: short units, at most two components.
import type { ExitInfo } from './types';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "0s", "45s", "12m", "2h 14m", "3d 4h". Negative spans count as zero. */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  if (t < MINUTE) return `${Math.floor(t / SECOND)}s`;
  if (t < HOUR) {
    const m = Math.floor(t / MINUTE);
    const s = Math.floor((t % MINUTE) / SECOND);
    // Seconds still matter for short spans ("1m 30s" of uptime after a restart).
    return m < 10 && s > 0 ? `${m}m ${s}s` : `${m}m`;
  }
  if (t < DAY) {
    const h = Math.floor(t / HOUR);
    const m = Math.floor((t % HOUR) / MINUTE);
    return m > 0 ? `${h}h ${m}m` : `${h}h`;
  }
  const d = Math.floor(t / DAY);
  const h = Math.floor((t % DAY) / HOUR);
  return h > 0 ? `${d}d ${h}h` : `${d}d`;
}

/** Milliseconds since the epoch, or NaN for a missing or malformed timestamp. */
export function parseTime(iso: string | undefined): number {
  return iso ? Date.parse(iso) : NaN;
}

/** "in 14m" / "now" for future times. */
export function formatIn(iso: string | undefined, now: number): string {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return '';
  const delta = t - now;
  return delta < SECOND ? 'now' : `in ${formatDuration(delta)}`;
}

/** "3h ago" / "just now" for past times. */
export function formatAgo(iso: string | undefined, now: number): string {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return '';
  const delta = now - t;
  return delta < SECOND ? 'just now' : `${formatDuration(delta)} ago`;
}

/** Time elapsed since `iso`, as uptime: "2h 14m". */
export function formatSince(iso: string | undefined, now: number): string {
  const t = parseTime(iso);
  return Number.isNaN(t) ? '' : formatDuration(now - t);
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Decimal units as macOS shows sizes: "512 B", "1.2 MB", "120 MB", "2.4 GB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // One decimal below 10 keeps small values informative without widening the column.
  const text = value < 10 ? value.toFixed(1) : Math.round(value).toString();
  return `${text} ${UNITS[unit]}`;
}

/** "0%", "3.2%", "42%", "180%". */
export function formatPercent(percent: number): string {
  if (!Number.isFinite(percent) || percent < 0) return '–';
  if (percent === 0) return '0%';
  if (percent < 10) return `${percent.toFixed(1)}%`;
  return `${Math.round(percent)}%`;
}

const SIGNALS: Record<number, string> = {
  1: 'HUP',
  2: 'INT',
  3: 'QUIT',
  6: 'ABRT',
  9: 'KILL',
  11: 'SEGV',
  13: 'PIPE',
  15: 'TERM',
};

/** "exit 0", "exit 1", "SIGKILL", "signal 42". */
export function describeExit(exit: ExitInfo): string {
  if (exit.code !== undefined && exit.code !== null) return `exit ${exit.code}`;
  if (exit.signal !== undefined && exit.signal !== null) {
    const name = SIGNALS[exit.signal];
    return name ? `SIG${name}` : `signal ${exit.signal}`;
  }
  return 'exited';
}
