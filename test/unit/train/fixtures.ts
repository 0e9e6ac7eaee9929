/**
 * Small synthetic pairs and configs for the training and evaluation tests: a few "digits" made
 * of random strokes, with the real ℓ∞ perturbation, and an mnist_fc config with small batches.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fromReferenceConfig } from '../../../kernel/api/config';
import type { PertsetConfig } from '../../../kernel/api/config';
import { LinfPerturbation } from '../../../kernel/api/perturbations';
import { createRng } from '../../../kernel/api/random';
import { createPairSource, type ImageCollection, type PairSource, type TrainingData } from '../../../kernel/api/pairs';

/** `n` 28×28 images with a few bright pixels each (deterministic). */
export function syntheticImages(n: number, seed = 7, side = 28): ImageCollection {
  const rng = createRng(`images/${seed}`);
  const size = side * side;
  const pixels = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < 40; s++) pixels[i * size + rng.int(size)] = rng.uniform() > 0.3 ? 1 : rng.uniform();
  }
  return {
    count: n,
    imageShape: [side, side, 1],
    sourceIndices: Int32Array.from({ length: n }, (_, i) => i),
    gather(indices) {
      const out = new Float32Array(indices.length * size);
      for (let b = 0; b < indices.length; b++) out.set(pixels.subarray(indices[b] * size, (indices[b] + 1) * size), b * size);
      return out;
    },
    describe: () => ({ name: 'synthetic', count: n, seed }),
  };
}

const linf = new LinfPerturbation({ epsilon: 0.3, min: 0, max: 1 });

export function syntheticPairs(n: number, stream: string, shuffle: boolean, seed = 1): PairSource {
  return createPairSource(syntheticImages(n, stream === 'train' ? 7 : 8), linf, { seed, shuffle, stream });
}

export function syntheticData(nTrain = 48, nVal = 16): TrainingData {
  return { train: syntheticPairs(nTrain, 'train', true), val: syntheticPairs(nVal, 'val', false) };
}

export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `pertset-${tag}-`));
}

/** mnist_fc_linf with batches of 16 and a faster schedule; `patch` edits the JSON. */
export function smallConfig(outDir: string, patch: (json: Record<string, any>) => void = () => {}): PertsetConfig {
  const json: Record<string, any> = {
    model: { model_dir: 'test_fc', type: 'mnist_fc', output_distribution: 'bernoulli' },
    perturbation: { train_type: 'linfinity', test_type: 'linfinity', epsilon: 0.3, min: 0, max: 1 },
    training: {
      optimizer: 'adam',
      epochs: 2,
      batch_size: 16,
      step_size_schedule: [[0, 1, 2], [0.0005, 0.001, 0.0001]],
      beta_schedule: [[0, 1, 2], [0, 0.001, 0.01]],
      weight_decay: 0,
      checkpoint_interval: 1,
    },
    eval: { batch_size: 16 },
    dataset: { type: 'mnist', padding: 0 },
    ae: { max_dist: 28, alpha: 1.4, niters: 50 },
    seed: 3,
  };
  patch(json);
  return fromReferenceConfig(json, 'test-config.json', { outDir });
}
