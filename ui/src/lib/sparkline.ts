// Sparkline geometry: values -> SVG polyline points in a width x height box.

export interface Scale {
  /** The smallest span the chart shows, so noise on an idle job is not magnified. */
  floor: number;
  /** Start the scale at the smallest value (memory) instead of zero (CPU). */
  relative?: boolean;
}

/** Points for `values`, oldest left, newest at the right edge. */
export function sparklinePoints(values: readonly number[], width: number, height: number, scale: Scale): string {
  const clean = values.map((v) => (Number.isFinite(v) ? Math.max(0, v) : 0));
  if (clean.length === 0) return '';
  const lo = scale.relative ? Math.min(...clean) : 0;
  const span = Math.max(scale.floor, Math.max(...clean) - lo);
  const pad = 1; // keep the stroke inside the box
  const usable = height - 2 * pad;
  const step = clean.length > 1 ? width / (clean.length - 1) : 0;
  const points = clean.map((v, i) => {
    const x = clean.length > 1 ? i * step : width;
    const y = pad + usable - (span > 0 ? ((v - lo) / span) * usable : 0);
    return `${round(x)},${round(y)}`;
  });
  // A single sample is drawn as a short flat segment ending at the right edge.
  if (points.length === 1) points.unshift(`${round(width - 4)},${points[0].split(',')[1]}`);
  return points.join(' ');
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
