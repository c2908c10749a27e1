import { describe, expect, it } from 'vitest';
import {
  describeExit,
  formatAgo,
  formatBytes,
  formatDuration,
  formatIn,
  formatPercent,
  formatSince,
} from '../src/lib/format';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [-5 * s, '0s'],
    [999, '0s'],
    [45 * s, '45s'],
    [90 * s, '1m 30s'],
    [9 * m + 59 * s, '9m 59s'],
    [12 * m + 30 * s, '12m'],
    [h, '1h'],
    [2 * h + 14 * m + 59 * s, '2h 14m'],
    [d, '1d'],
    [3 * d + 4 * h + 30 * m, '3d 4h'],
  ])('%d ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('relative times', () => {
  const now = Date.parse('2025-06-02T10:00:00Z');
  it('says how far ahead', () => {
    expect(formatIn('2025-06-02T10:14:00Z', now)).toBe('in 14m');
    expect(formatIn('2025-06-02T09:59:00Z', now)).toBe('now');
  });
  it('says how long ago', () => {
    expect(formatAgo('2025-06-02T07:00:00Z', now)).toBe('3h ago');
    expect(formatAgo('2025-06-02T10:00:00Z', now)).toBe('just now');
  });
  it('measures uptime', () => {
    expect(formatSince('2025-06-02T07:46:00Z', now)).toBe('2h 14m');
  });
  it('is empty for missing or malformed times', () => {
    expect(formatIn(undefined, now)).toBe('');
    expect(formatAgo('not a time', now)).toBe('');
    expect(formatSince(undefined, now)).toBe('');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1_200_000, '1.2 MB'],
    [120_400_000, '120 MB'],
    [2_400_000_000, '2.4 GB'],
    [-1, '–'],
    [Number.NaN, '–'],
  ])('%d -> %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatPercent', () => {
  it.each([
    [0, '0%'],
    [3.21, '3.2%'],
    [42.4, '42%'],
    [180, '180%'],
    [Number.NaN, '–'],
  ])('%d -> %s', (value, text) => {
    expect(formatPercent(value)).toBe(text);
  });
});

describe('describeExit', () => {
  const at = '2025-06-02T10:00:00Z';
  it('names codes and signals', () => {
    expect(describeExit({ code: 0, at, duration_ms: 1 })).toBe('exit 0');
    expect(describeExit({ code: 1, at, duration_ms: 1 })).toBe('exit 1');
    expect(describeExit({ signal: 9, at, duration_ms: 1 })).toBe('SIGKILL');
    expect(describeExit({ signal: 42, at, duration_ms: 1 })).toBe('signal 42');
    expect(describeExit({ at, duration_ms: 1 })).toBe('exited');
  });
});
