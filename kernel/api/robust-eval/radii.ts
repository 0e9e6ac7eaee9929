/**
 * The radii a latent attack is evaluated at, as the paper's robustness tables: the 50th and 75th
 * percentile and the maximum of the set's validation latent norms. They come from the CVAE run's
 * `radius.json` (`pertset radius`), else its `radius-norms.json`, else they are computed here (5
 * passes over the validation pairs, as `pertset radius`) without writing into the CVAE's folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { calibrateRadius, latentNormStats, type CalibrationCallbacks } from '../evaluate/radius';
import { loadRadiusNorms } from '../evaluate/run';
import { recordedData, radiusPairs } from '../pairs/config-pairs';
import { openRun, RADIUS_FILE, RADIUS_NORMS_FILE } from '../runs/open-run';
import { readJson } from '../runs/checkpoint';

export type SetRadiusName = 'p50' | 'p75' | 'max';

export interface SetRadii {
  /** p50, p75 and max of the validation latent norms, rounded to 2 decimals (the radii used). */
  radii: { name: SetRadiusName; radius: number }[];
  /** Where they came from; `computed` means neither file existed and the norms were computed now. */
  source: 'radius.json' | 'radius-norms.json' | 'computed';
  /** Global step of the CVAE checkpoint the norms were measured on. */
  globalStep: number;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

function named(stats: { p50: number; p75: number; max: number }): SetRadii['radii'] {
  return [
    { name: 'p50', radius: round2(stats.p50) },
    { name: 'p75', radius: round2(stats.p75) },
    { name: 'max', radius: round2(stats.max) },
  ];
}

/** The set's p50 / p75 / max latent norms for the CVAE run `cvaeRunDir` (see the file comment). */
export async function setRadii(cvaeRunDir: string, options: { dataDir?: string; signal?: AbortSignal; callbacks?: CalibrationCallbacks } = {}): Promise<SetRadii> {
  const dir = path.resolve(cvaeRunDir);
  const radiusFile = path.join(dir, RADIUS_FILE);
  if (fs.existsSync(radiusFile)) {
    const r = readJson<{ p50?: number; p75?: number; max?: number; globalStep?: number }>(radiusFile);
    if (typeof r.p50 === 'number' && typeof r.p75 === 'number' && typeof r.max === 'number') {
      return { radii: named({ p50: r.p50, p75: r.p75, max: r.max }), source: 'radius.json', globalStep: r.globalStep ?? 0 };
    }
  }
  if (fs.existsSync(path.join(dir, RADIUS_NORMS_FILE))) {
    const saved = loadRadiusNorms(dir);
    return { radii: named(latentNormStats(saved.norms)), source: 'radius-norms.json', globalStep: saved.globalStep };
  }
  const run = openRun(dir);
  try {
    const pairs = radiusPairs(run.config, { recorded: recordedData(run.config, run.record.dataset), dataDir: options.dataDir });
    const cal = await calibrateRadius(run.model, pairs, { passes: 5, batchSize: run.config.eval.batchSize, signal: options.signal, callbacks: options.callbacks });
    return { radii: named(cal), source: 'computed', globalStep: run.globalStep };
  } finally {
    run.model.dispose();
  }
}
