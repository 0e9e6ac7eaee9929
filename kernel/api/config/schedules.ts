/**
 * Piecewise-linear schedules as the reference writes them: `[[knots...], [values...]]`,
 * interpolated like `np.interp` (linear between knots, clamped to the first/last value outside).
 * The learning rate is read at the fractional epoch `epoch + (batch + 1) / batches`, so it moves
 * every step; β is read at the integer epoch, as in the reference.
 */
import { ConfigError } from '../errors';

/** `[[epoch knots], [values]]`, exactly as in the reference JSON. */
export type ScheduleJson = [number[], number[]];

export interface PiecewiseLinear {
  readonly knots: readonly number[];
  readonly values: readonly number[];
  /** The value at (possibly fractional) epoch `t`. */
  at(t: number): number;
}

/**
 * Validates and builds a schedule; `where` is the config path used in error messages
 * (e.g. `training.step_size_schedule`).
 */
export function piecewiseLinear(json: unknown, where: string, options: { min?: number } = {}): PiecewiseLinear {
  if (!Array.isArray(json) || json.length !== 2) {
    throw new ConfigError(`${where}: expected [[epoch knots...], [values...]], got ${JSON.stringify(json)}`);
  }
  const [knots, values] = json as unknown[];
  for (const [i, arr] of [knots, values].entries()) {
    if (!Array.isArray(arr) || arr.length === 0) {
      throw new ConfigError(`${where}[${i}]: expected a non-empty array of numbers, got ${JSON.stringify(arr)}`);
    }
    arr.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ConfigError(`${where}[${i}][${j}]: expected a finite number, got ${JSON.stringify(v)}`);
      }
    });
  }
  const k = knots as number[];
  const v = values as number[];
  if (k.length !== v.length) {
    throw new ConfigError(`${where}: ${k.length} knots but ${v.length} values; both lists must have the same length`);
  }
  for (let j = 1; j < k.length; j++) {
    if (k[j] < k[j - 1]) {
      throw new ConfigError(`${where}[0][${j}]: knots must be non-decreasing, got ${k[j]} after ${k[j - 1]}`);
    }
  }
  if (options.min !== undefined) {
    v.forEach((x, j) => {
      if (x < options.min!) throw new ConfigError(`${where}[1][${j}]: must be >= ${options.min}, got ${x}`);
    });
  }
  return makeSchedule(k.slice(), v.slice());
}

function makeSchedule(knots: number[], values: number[]): PiecewiseLinear {
  return {
    knots,
    values,
    at(t: number): number {
      const n = knots.length;
      if (t <= knots[0]) return values[0];
      if (t >= knots[n - 1]) return values[n - 1];
      // Last knot <= t: with repeated knots np.interp takes the right-most segment.
      let i = 0;
      while (i + 1 < n && knots[i + 1] <= t) i++;
      const span = knots[i + 1] - knots[i];
      const w = (t - knots[i]) / span;
      return values[i] + w * (values[i + 1] - values[i]);
    },
  };
}

/** The same schedule with every knot multiplied by `factor` (a shortened or stretched run). */
export function scaleSchedule(s: PiecewiseLinear, factor: number): PiecewiseLinear {
  return makeSchedule(s.knots.map((k) => k * factor), s.values.slice());
}

/** Learning rate for step `batch` (0-based) of `batches` in `epoch` (0-based). */
export function learningRateAt(s: PiecewiseLinear, epoch: number, batch: number, batches: number): number {
  return s.at(epoch + (batch + 1) / batches);
}

/** β during training epoch `epoch` (integer). */
export function betaAt(s: PiecewiseLinear, epoch: number): number {
  return s.at(epoch);
}
