// The log viewer's lines: a capped buffer (oldest dropped in chunks, so appends stay O(1)
// amortised) and the pure filters the viewer applies. No DOM.
import { stripAnsi } from './ansi';
import type { LogLine, LogStream } from './types';

export interface Line {
  /** Increases by one per line received; the list's key. */
  id: number;
  ts: string;
  stream: LogStream;
  /** As received, escape sequences included. */
  raw: string;
  /** Without escape sequences: what search and copy see. */
  text: string;
  partial: boolean;
}

export const LOG_CAP = 200_000;

export class LogBuffer {
  lines: Line[] = [];
  /** Lines dropped because of the cap (and "missed" counts from the stream). */
  dropped = 0;
  private nextId = 0;

  constructor(readonly cap: number = LOG_CAP) {}

  push(line: LogLine): void {
    this.lines.push({
      id: this.nextId++,
      ts: line.ts,
      stream: line.stream,
      raw: line.text,
      text: stripAnsi(line.text),
      partial: line.partial ?? false,
    });
    if (this.lines.length > this.cap) {
      // Drop a tenth at once: one copy per cap/10 lines instead of one per line.
      const drop = this.lines.length - this.cap + Math.floor(this.cap / 10);
      this.lines.splice(0, drop);
      this.dropped += drop;
    }
  }

  clear(): void {
    this.lines = [];
    this.dropped = 0;
  }
}

export type StreamFilter = 'all' | LogStream;

export interface LogFilter {
  stream: StreamFilter;
  query: string;
  /** Show only lines matching `query` (otherwise matches are just highlighted). */
  onlyMatches: boolean;
}

export function matches(line: Line, query: string): boolean {
  return query === '' || line.text.toLowerCase().includes(query.toLowerCase());
}

/** The lines the viewer shows. Returns `lines` itself when nothing is filtered (no copy). */
export function filterLines(lines: Line[], filter: LogFilter): Line[] {
  const byQuery = filter.onlyMatches && filter.query !== '';
  if (filter.stream === 'all' && !byQuery) return lines;
  const q = filter.query.toLowerCase();
  return lines.filter(
    (l) => (filter.stream === 'all' || l.stream === filter.stream) && (!byQuery || l.text.toLowerCase().includes(q)),
  );
}

/** Index of the first line at or after `iso` (lines are in time order), or -1. */
export function indexAtTime(lines: Line[], iso: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return -1;
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Date.parse(lines[mid].ts) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo < lines.length ? lo : -1;
}

/** Text for the clipboard: one line each, with time and stream like the CLI's tail. */
export function copyText(lines: Line[]): string {
  return lines.map((l) => `${l.ts} ${l.stream === 'stderr' ? 'ERR' : 'OUT'} ${l.text}`).join('\n');
}
