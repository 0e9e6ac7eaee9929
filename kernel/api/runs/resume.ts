import * as path from 'path';
import { ConfigError } from '../errors';
import { checkpointExists, readTrainerState, type TrainerStateJson } from './checkpoint';

/**
 * Whether a run directory's checkpoint may be resumed with the current config: everything that
 * changes what is computed must match; where the files are (`output_dir`, `dataset.data_path`)
 * may differ.
 */
function comparable(json: unknown): unknown {
  const c = JSON.parse(JSON.stringify(json)) as Record<string, Record<string, unknown>>;
  delete (c as Record<string, unknown>).output_dir;
  if (c.dataset) delete c.dataset.data_path;
  return c;
}

function differingPaths(a: unknown, b: unknown, prefix: string): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) return [prefix || '(root)'];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const k of keys) out.push(...differingPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
  return out;
}

/** JSON paths (`training.batch_size`, ...) where the saved and the current config differ in substance. */
export function configDifferences(saved: unknown, current: unknown): string[] {
  return differingPaths(comparable(saved), comparable(current), '');
}

/** The trainer state of `checkpointDir` when it may be resumed with `configJson`; a ConfigError naming the differences otherwise. */
export function resumableState(checkpointDir: string, runDir: string, configJson: unknown): TrainerStateJson {
  const state = readTrainerState(checkpointDir);
  if (!state) throw new ConfigError(`${checkpointDir}: checkpoint has no trainer.json; cannot resume (use another --out)`);
  const diff = configDifferences(state.config, configJson);
  if (diff.length) {
    throw new ConfigError(`${runDir} holds a run with a different config (${diff.slice(0, 6).join(', ')} differ); it was trained with other settings (another budget or notebook mode), so it is not resumed: train into another folder (--out, outDir) to start a new run, or use the same settings to resume it`);
  }
  return state;
}

/**
 * The dataset recorded in a run directory's "latest" checkpoint (what a resumed run must train on),
 * or undefined when there is no checkpoint to resume.
 */
export function resumeDataset(runDir: string): { train?: unknown } | undefined {
  const latest = path.join(runDir, 'checkpoints', 'latest');
  if (!checkpointExists(latest)) return undefined;
  return (readTrainerState(latest)?.dataset ?? undefined) as { train?: unknown } | undefined;
}
