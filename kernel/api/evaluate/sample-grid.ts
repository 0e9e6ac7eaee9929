/**
 * The picture of a set a reader of a run folder needs first: for a few test images, one row each
 * of the clean x, a real perturbation x̃, the set's reconstruction of x̃ (the encoder's point) and
 * random members of S(x). `pertset eval` writes it as `samples.png`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { packImages } from '../display/images';
import { gridPng } from '../display/png';
import type { PerturbationSet } from '../models/perturbation-set';
import type { PairSource } from '../pairs/source';

export interface SampleGridOptions {
  /** Test images, one per row (default 8). */
  images?: number;
  /** Members of S(x) per row (default 8). */
  samples?: number;
  /** Seed of the prior draws (default 0). */
  seed?: number;
}

/** A PNG (bytes) of rows x | x̃ | reconstruction | `samples` members of S(x), for the first `images` pairs. */
export function sampleGridPng(set: PerturbationSet, pairs: PairSource, options: SampleGridOptions = {}): Buffer {
  const images = Math.min(options.images ?? 8, pairs.count);
  const k = options.samples ?? 8;
  if (!Number.isInteger(images) || images < 1) throw new ArgumentError(`sampleGridPng: images must be an integer >= 1, got ${options.images}`);
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`sampleGridPng: samples must be an integer >= 1, got ${k}`);
  const { x, xPerturbed } = pairs.tensorBatch(0, 0, images);
  const rows = tf.tidy(() => {
    const [, h, w, c] = x.shape;
    const recon = set.reconstruct(x, xPerturbed);
    const samples = set.sample(x, k, { seed: options.seed ?? 0 }).reshape([images, k, h, w, c]);
    const one = (t: tf.Tensor4D) => t.reshape([images, 1, h, w, c]);
    return tf.concat([one(x), one(xPerturbed), one(recon), samples], 1).reshape([images * (k + 3), h, w, c]);
  });
  try {
    return gridPng(packImages('sampleGridPng', rows), k + 3);
  } finally {
    tf.dispose([x, xPerturbed, rows]);
  }
}
