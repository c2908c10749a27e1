import { describe, expect, it } from 'vitest';
import { sparklinePoints } from '../src/lib/sparkline';
import { computeOffsets, indexAt, scrollToReveal, visibleRange } from '../src/lib/virtual';

describe('virtual list geometry', () => {
  const items = ['g', 'j', 'j', 'g', 'j'];
  const offsets = computeOffsets(items, (i) => (i === 'g' ? 20 : 40));

  it('stacks items', () => {
    expect(offsets).toEqual([0, 20, 60, 100, 120, 160]);
  });

  it('finds the item at a y', () => {
    expect(indexAt(offsets, 0)).toBe(0);
    expect(indexAt(offsets, 19)).toBe(0);
    expect(indexAt(offsets, 20)).toBe(1);
    expect(indexAt(offsets, 119)).toBe(3);
    expect(indexAt(offsets, 1000)).toBe(4);
  });

  it('renders the viewport plus overscan', () => {
    expect(visibleRange(offsets, 0, 50, 0)).toEqual([0, 2]);
    expect(visibleRange(offsets, 60, 50, 0)).toEqual([2, 4]);
    expect(visibleRange(offsets, 60, 50, 1)).toEqual([1, 5]);
    expect(visibleRange([0], 0, 100, 3)).toEqual([0, 0]);
  });

  it('keeps 1,000 rows down to a window', () => {
    const many = computeOffsets(new Array(1000).fill(0), () => 46);
    const [start, end] = visibleRange(many, 46 * 500, 460, 4);
    expect(start).toBe(496);
    expect(end).toBe(514);
  });

  it('scrolls only as far as needed to reveal an item', () => {
    expect(scrollToReveal(offsets, 0, 50, 50)).toBe(0);
    expect(scrollToReveal(offsets, 4, 0, 50)).toBe(110);
    expect(scrollToReveal(offsets, 2, 30, 50)).toBe(50);
    expect(scrollToReveal(offsets, 1, 10, 60)).toBe(10);
  });
});

describe('sparklinePoints', () => {
  it('draws nothing without samples', () => {
    expect(sparklinePoints([], 40, 14, { floor: 10 })).toBe('');
  });

  it('scales from zero with a floor so idle noise stays flat', () => {
    const pts = sparklinePoints([0, 1, 0.5], 40, 14, { floor: 10 }).split(' ');
    expect(pts).toHaveLength(3);
    expect(pts[0]).toBe('0,13');
    expect(pts[2].startsWith('40,')).toBe(true);
    // 1% of a 10% floor is barely above the bottom.
    expect(Number(pts[1].split(',')[1])).toBeGreaterThan(11);
  });

  it('uses the whole height for the largest value', () => {
    const pts = sparklinePoints([0, 50], 40, 14, { floor: 10 }).split(' ');
    expect(pts[1]).toBe('40,1');
  });

  it('scales memory relative to its minimum', () => {
    const pts = sparklinePoints([100, 200], 40, 14, { floor: 1, relative: true }).split(' ');
    expect(pts).toEqual(['0,13', '40,1']);
  });

  it('draws one sample as a short segment at the right edge', () => {
    expect(sparklinePoints([5], 40, 14, { floor: 10 })).toBe('36,7 40,7');
  });
});
