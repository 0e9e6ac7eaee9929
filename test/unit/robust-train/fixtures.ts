/**
 * Tiny CVAE runs for the robust-training tests, trained once per test process on the embedded
 * Fashion-MNIST subset (PERTSET_DATA and the cache point at an empty folder), and small robust
 * configs built from the shipped ones.
 */
import * as fs from 'fs';
import * as path from 'path';
import { builtinConfigDir, builtinRobustConfigDir, fromReferenceConfig, robustConfigFromJson, type RobustConfig } from '../../../kernel/api/config';
import { Trainer } from '../../../kernel/api/train';
import { tmpDir } from '../train/fixtures';

const empty = tmpDir('robust-nodata');
process.env.PERTSET_DATA = empty;
process.env.PERTSET_CACHE = empty;

const runs = new Map<string, Promise<string>>();

/**
 * A persisted CVAE run of a shipped config, created on first use: `epochs` epochs on `limit`
 * images in batches of `batchSize` at a flat LR of 1e-3 and β = 0.01 (so a few steps already
 * make g(x, z) depend on x).
 */
export function cvaeRun(config: 'mnist_fc_linf' | 'mnist_stn_rts', limit: number, batchSize = 32, epochs = 2): Promise<string> {
  const key = `${config}/${limit}/${batchSize}/${epochs}`;
  if (!runs.has(key)) {
    runs.set(key, (async () => {
      const outDir = path.join(tmpDir('robust-cvae'), config);
      const json = JSON.parse(fs.readFileSync(path.join(builtinConfigDir(), `${config}.json`), 'utf8'));
      json.training.epochs = epochs;
      json.training.step_size_schedule = [[0, 1], [0.001, 0.001]];
      json.training.beta_schedule = [[0, 1], [0.01, 0.01]];
      const c = fromReferenceConfig(json, `${config}.json`, { limit, validationLimit: 16, batchSize, outDir, seed: 1 });
      const t = await Trainer.create(c);
      try {
        await t.run();
      } finally {
        t.dispose();
      }
      return outDir;
    })());
  }
  return runs.get(key)!;
}

/** A shipped robust config with a flat LR of 1e-3 (so a few steps move), run options as overrides. */
export function robustConfig(name: string, overrides: { cvae?: string; outDir?: string; limit?: number; batchSize?: number; epochs?: number; seed?: number; sigma?: number }): RobustConfig {
  const json = JSON.parse(fs.readFileSync(path.join(builtinRobustConfigDir(), `${name}.json`), 'utf8'));
  if (overrides.sigma !== undefined) json.attack.sigma = overrides.sigma;
  json.training.epochs = overrides.epochs ?? 2;
  json.training.step_size_schedule = [[0, 1], [0.001, 0.001]];
  return robustConfigFromJson(json, `${name}.json`, {
    cvae: overrides.cvae, outDir: overrides.outDir ?? path.join(tmpDir('robust-run'), name), limit: overrides.limit ?? 128,
    validationLimit: 32, batchSize: overrides.batchSize ?? 32, seed: overrides.seed,
  });
}
