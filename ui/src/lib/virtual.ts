// Geometry for the virtual list: which items intersect the viewport, given each item's height.

/** offsets[i] is the top of item i; offsets[n] is the total height. */
export function computeOffsets<T>(items: readonly T[], heightOf: (item: T) => number): number[] {
  const offsets = new Array<number>(items.length + 1);
  offsets[0] = 0;
  for (let i = 0; i < items.length; i++) offsets[i + 1] = offsets[i] + heightOf(items[i]);
  return offsets;
}

/** The index of the item containing y (binary search over the offsets). */
export function indexAt(offsets: readonly number[], y: number): number {
  const n = offsets.length - 1;
  if (n <= 0) return 0;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** [start, end) of the items to render, with `overscan` extra items on each side. */
export function visibleRange(
  offsets: readonly number[],
  scrollTop: number,
  height: number,
  overscan: number,
): [number, number] {
  const n = offsets.length - 1;
  if (n <= 0) return [0, 0];
  const first = indexAt(offsets, Math.max(0, scrollTop));
  const last = indexAt(offsets, Math.max(0, scrollTop + height - 1));
  return [Math.max(0, first - overscan), Math.min(n, last + 1 + overscan)];
}

/** The scrollTop that brings item i fully into view with the least movement. */
export function scrollToReveal(
  offsets: readonly number[],
  index: number,
  scrollTop: number,
  height: number,
): number {
  const top = offsets[index];
  const bottom = offsets[index + 1];
  if (top === undefined || bottom === undefined) return scrollTop;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + height) return bottom - height;
  return scrollTop;
}
