// The clock ticks while the page is visible and stops while it is hidden.
import { get } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClock } from '../src/lib/clock';

/** A document whose visibility the test sets. */
function fakeDocument() {
  const target = new EventTarget() as EventTarget & { visibilityState: DocumentVisibilityState };
  target.visibilityState = 'visible';
  return target;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('clock', () => {
  it('ticks while visible, stops while hidden, and catches up when shown', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const doc = fakeDocument();
    const clock = createClock(1000, doc as unknown as Document);
    const seen: number[] = [];
    const unsubscribe = clock.subscribe((now) => seen.push(now));
    vi.advanceTimersByTime(2000);
    expect(seen).toEqual([1_000_000, 1_001_000, 1_002_000]);

    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    vi.advanceTimersByTime(10_000);
    expect(seen.length).toBe(3);

    doc.visibilityState = 'visible';
    doc.dispatchEvent(new Event('visibilitychange'));
    expect(seen.at(-1)).toBe(1_012_000);
    vi.advanceTimersByTime(1000);
    expect(seen.at(-1)).toBe(1_013_000);
    unsubscribe();
    vi.advanceTimersByTime(5000);
    expect(get(clock)).toBeGreaterThan(0);
  });
});
