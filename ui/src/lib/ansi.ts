// A small SGR parser for log lines: foreground 30–37/90–97, background 40–47/100–107, bold,
// and resets. Every other escape sequence is dropped so it never shows up as garbage.

export interface Style {
  /** 0–7 normal, 8–15 bright; null = the default colour. */
  fg: number | null;
  bg: number | null;
  bold: boolean;
}

export interface Segment extends Style {
  text: string;
}

export const PLAIN: Style = { fg: null, bg: null, bold: false };

// CSI (ESC [ params final), OSC (ESC ] … BEL/ST) and two-byte escapes.
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b(?:\[([0-9;:?]*)([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;

function applySgr(style: Style, params: string): Style {
  const next = { ...style };
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) Object.assign(next, PLAIN);
    else if (c === 1) next.bold = true;
    else if (c === 22) next.bold = false;
    else if (c >= 30 && c <= 37) next.fg = c - 30;
    else if (c >= 90 && c <= 97) next.fg = c - 90 + 8;
    else if (c === 39) next.fg = null;
    else if (c >= 40 && c <= 47) next.bg = c - 40;
    else if (c >= 100 && c <= 107) next.bg = c - 100 + 8;
    else if (c === 49) next.bg = null;
    else if (c === 38 || c === 48) {
      // 256-colour and RGB forms are not rendered; skip their arguments.
      i += codes[i + 1] === 5 ? 2 : codes[i + 1] === 2 ? 4 : 0;
    }
  }
  return next;
}

/** Splits a line into styled segments. Empty segments are omitted. */
export function parseAnsi(line: string, start: Style = PLAIN): Segment[] {
  const out: Segment[] = [];
  if (!line.includes('\x1b')) return line ? [{ ...start, text: line }] : [];
  let style = start;
  let last = 0;
  for (const m of line.matchAll(ESCAPE)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ ...style, text: line.slice(last, at) });
    if (m[2] === 'm') style = applySgr(style, m[1] ?? '');
    last = at + m[0].length;
  }
  if (last < line.length) out.push({ ...style, text: line.slice(last) });
  return out;
}

/** The text without escape sequences (for search and copy). */
export function stripAnsi(line: string): string {
  return line.includes('\x1b') ? line.replace(ESCAPE, '') : line;
}

export interface Piece extends Segment {
  mark: boolean;
}

/** Splits segments further so every case-insensitive match of `query` is its own marked piece. */
export function highlight(segments: Segment[], query: string): Piece[] {
  if (!query) return segments.map((s) => ({ ...s, mark: false }));
  const text = segments.map((s) => s.text).join('');
  const lower = text.toLowerCase();
  const q = query.toLowerCase();
  const ranges: [number, number][] = [];
  for (let at = lower.indexOf(q); at >= 0; at = lower.indexOf(q, at + q.length)) ranges.push([at, at + q.length]);
  if (ranges.length === 0) return segments.map((s) => ({ ...s, mark: false }));
  const out: Piece[] = [];
  let offset = 0;
  let r = 0;
  for (const seg of segments) {
    const end = offset + seg.text.length;
    let pos = offset;
    while (pos < end) {
      while (r < ranges.length && ranges[r][1] <= pos) r++;
      const range = ranges[r];
      let stop: number;
      let mark: boolean;
      if (!range || range[0] >= end) {
        stop = end;
        mark = false;
      } else if (range[0] > pos) {
        stop = range[0];
        mark = false;
      } else {
        stop = Math.min(range[1], end);
        mark = true;
      }
      out.push({ ...seg, text: seg.text.slice(pos - offset, stop - offset), mark });
      pos = stop;
    }
    offset = end;
  }
  return out;
}
