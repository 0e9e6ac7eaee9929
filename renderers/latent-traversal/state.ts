/** What of a traversal survives re-rendering (kept per output id by the renderer host). */
export interface TraversalState {
  /** Slider position: index into `radii`. */
  index: number;
  /** Selected view: a direction index, or -1 for the 2-D grid. */
  direction: number;
}

export const GRID_VIEW = -1;

/** Restores a saved state if it still fits the payload, else the payload's defaults. */
export function initialTraversalState(
  saved: TraversalState | undefined,
  radii: number[],
  directionCount: number,
  hasGrid: boolean,
  initialIndex?: number,
): TraversalState {
  const fallbackIndex = initialIndex ?? closestToZero(radii);
  const index = saved && Number.isInteger(saved.index) && saved.index >= 0 && saved.index < radii.length ? saved.index : fallbackIndex;
  const validDirection = (d: number | undefined): d is number =>
    d !== undefined && Number.isInteger(d) && ((d >= 0 && d < directionCount) || (d === GRID_VIEW && hasGrid));
  return { index, direction: validDirection(saved?.direction) ? saved!.direction : 0 };
}

function closestToZero(radii: number[]): number {
  let best = 0;
  radii.forEach((r, i) => {
    if (Math.abs(r) < Math.abs(radii[best])) best = i;
  });
  return best;
}

/**
 * Where |r| = ε falls on the slider, as fractions of its range (index space, interpolated
 * between neighbouring radii); at most one mark per sign.
 */
export function epsilonMarks(radii: number[], epsilon: number): number[] {
  const n = radii.length;
  if (n < 2) return [];
  const marks: number[] = [];
  for (const target of [-epsilon, epsilon]) {
    for (let i = 0; i + 1 < n; i++) {
      const a = radii[i];
      const b = radii[i + 1];
      if ((a - target) * (b - target) <= 0 && a !== b) {
        marks.push((i + (target - a) / (b - a)) / (n - 1));
        break;
      }
    }
  }
  return marks;
}
