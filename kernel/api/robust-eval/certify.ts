/**
 * `pertset certify`: randomized smoothing in the latent space of a run's CVAE (Cohen et al.'s
 * CERTIFY, `robustness.certify`) for the run's classifier on its test images, summarised as the
 * certified accuracy at a grid of latent radii, the average certified radius and the abstention
 * rate. Saves `certify-sigma-<σ>.json` in the run folder.
 */
import * as path from 'path';
import type { Callback } from '../callbacks';
import { ArgumentError } from '../errors';
import { writeFileAtomic } from '../runs/atomic-dir';
import type { ClassifierFn } from '../robustness/classifier';
import { certify, summarizeCertification, type CertificationProgress, type CertificationSummary } from '../robustness/smoothing';
import { PerturbationSet } from '../models/perturbation-set';
import { openRobustRun, openRunCvae, robustTestPairs, type CvaeUsed, type RobustCheckpointName, type RobustRunOptions } from './open';

/** The certification file of σ in a run folder. */
export function certifyFile(sigma: number): string {
  return `certify-sigma-${sigma}.json`;
}

export interface CertifyRunOptions extends RobustRunOptions {
  /** Latent noise σ (prior-normalised units); usually the σ the run was trained with. */
  sigma: number;
  /** Estimation samples per image (default 10,000), selection samples (default 100), level (default 0.001). */
  n?: number;
  n0?: number;
  alpha?: number;
  /** Noisy samples decoded and classified at once (default 500). */
  batchSize?: number;
  /** Radii of the certified-accuracy curve (default 11 points from 0 to the largest certifiable radius). */
  radii?: number[];
  callbacks?: { onExampleEnd?: Callback<CertificationProgress> };
}

export interface CertifyRunResult extends CertificationSummary {
  n0: number;
  /** σ of the run's training noise (cvae_gaussian), null for other methods. */
  trainingSigma: number | null;
  method: string;
  config: string;
  checkpoint: RobustCheckpointName;
  globalStep: number;
  cvae: CvaeUsed;
  notes: string[];
  seed: number;
  dataset: unknown;
  seconds: number;
  /** Per image: label, smoothed prediction (−1 abstains), lower bound p̲ and certified radius. */
  examples: { label: number; prediction: number; pLower: number; radius: number }[];
}

export const DEFAULT_CERTIFY_LIMIT = 100;

export async function certifyRun(runDir: string, options: CertifyRunOptions): Promise<CertifyRunResult> {
  const sigma = options?.sigma;
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma <= 0) throw new ArgumentError(`--sigma must be a number > 0, got ${sigma}`);
  const started = Date.now();
  const run = openRobustRun(runDir, { checkpoint: options.checkpoint });
  const disposables: { dispose(): void }[] = [run.classifier];
  try {
    const opened = openRunCvae(run, options.cvae);
    disposables.push(opened.model);
    const seed = options.seed ?? run.config.seed;
    const { images, pairs } = robustTestPairs(run, { limit: options.limit ?? DEFAULT_CERTIFY_LIMIT, dataDir: options.dataDir, seed });
    const { x } = pairs.tensorBatch(0, 0, pairs.count);
    const labels = images.gatherLabels(Int32Array.from({ length: images.count }, (_, i) => i));
    const classifier: ClassifierFn = (t) => run.classifier.logits(t, false);
    let result;
    try {
      // Smoothing never projects: the radius of the set plays no part.
      result = await certify(new PerturbationSet(opened.model, 1), classifier, x, labels, {
        sigma, n: options.n, n0: options.n0, alpha: options.alpha, batchSize: options.batchSize, seed, signal: options.signal, callbacks: options.callbacks,
      });
    } finally {
      x.dispose();
    }
    const summary = summarizeCertification(result, options.radii);
    const out: CertifyRunResult = {
      ...summary,
      n0: result.n0,
      trainingSigma: run.config.attack.sigma,
      method: run.config.attack.type,
      config: run.config.name,
      checkpoint: run.checkpoint,
      globalStep: run.globalStep,
      cvae: opened.used,
      notes: opened.note ? [opened.note] : [],
      seed,
      dataset: images.describe(),
      seconds: (Date.now() - started) / 1000,
      examples: result.examples.map((e) => ({ label: e.label, prediction: e.prediction, pLower: e.pLower, radius: e.radius })),
    };
    if (options.save !== false) writeFileAtomic(path.join(run.runDir, certifyFile(sigma)), JSON.stringify(out, null, 1));
    return out;
  } finally {
    for (const d of disposables) d.dispose();
  }
}
