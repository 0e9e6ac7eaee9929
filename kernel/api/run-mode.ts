/**
 * Run modes for notebooks and scripts: one set of settings per budget (`smoke` for the tests,
 * `quick` for minutes on a laptop, `full` for the paper's schedule), picked by the environment
 * variable PERTSET_NOTEBOOK_MODE (default `quick`) so the same notebook serves all three.
 *
 * ```ts
 * const S = pertset.runMode({ smoke: { epochs: 1 }, quick: { epochs: 5 }, full: {} });
 * S.mode;   // 'quick'
 * S.epochs; // 5
 * ```
 */
import { ArgumentError } from './errors';

export const RUN_MODES = ['smoke', 'quick', 'full'] as const;
export type RunModeName = (typeof RUN_MODES)[number];

export type RunModeSettings<T extends object> = T & { mode: RunModeName };

export interface RunModeOptions {
  /** The mode to use instead of PERTSET_NOTEBOOK_MODE. */
  mode?: string;
  /** Print one line naming the mode and its settings (default true). */
  log?: boolean;
}

/** The settings of the mode named by `options.mode` or PERTSET_NOTEBOOK_MODE (default `quick`), with `mode` added. */
export function runMode<T extends object>(presets: Record<RunModeName, T>, options: RunModeOptions = {}): RunModeSettings<T> {
  const name = (options.mode ?? process.env.PERTSET_NOTEBOOK_MODE ?? 'quick').trim();
  if (!(RUN_MODES as readonly string[]).includes(name)) {
    throw new ArgumentError(`run mode must be one of ${RUN_MODES.join(', ')} (PERTSET_NOTEBOOK_MODE), got "${name}"`);
  }
  const missing = RUN_MODES.filter((m) => typeof presets?.[m] !== 'object' || presets[m] === null);
  if (missing.length) throw new ArgumentError(`runMode: settings for ${missing.join(', ')} are missing`);
  const mode = name as RunModeName;
  const settings = { ...presets[mode], mode };
  if (options.log !== false) console.log(`mode ${mode}: ${JSON.stringify(presets[mode])}`);
  return settings;
}
