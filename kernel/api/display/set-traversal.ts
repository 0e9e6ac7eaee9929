/**
 * `setTraversal(set, x, xPerturbed)`: a walk through S(x) for one input, as a latent traversal
 * (the renderer's slider): along the direction of the encoder's point for x̃, along a random
 * direction, and over the 2-D grid they span, from −ε to ε.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import type { PerturbationSet } from '../models/perturbation-set';
import { latentTraversal, type LatentTraversal } from './latent-traversal';

export interface SetTraversalOptions {
  /** Frames per direction (default 9). */
  steps?: number;
  /** Seed of the random direction (default 0). */
  seed?: number;
  title?: string;
}

export function setTraversal(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D, options: SetTraversalOptions = {}): LatentTraversal {
  const steps = options.steps ?? 9;
  if (!Number.isInteger(steps) || steps < 2) throw new ArgumentError(`setTraversal: steps must be an integer >= 2, got ${steps}`);
  if (x.rank !== 4 || xPerturbed.rank !== 4 || !x.shape.every((s, i) => s === xPerturbed.shape[i])) {
    throw new ArgumentError(`setTraversal: x and xPerturbed must be batches of the same shape, got [${x.shape}] and [${xPerturbed.shape}]`);
  }
  const eps = set.radius;
  const radii = Array.from({ length: steps }, (_, i) => -eps + (2 * eps * i) / (steps - 1));
  const frames = tf.tidy(() => {
    const x0 = x.slice([0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
    const xt0 = xPerturbed.slice([0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
    const encoded = set.encode(x0, xt0).reshape([-1]) as tf.Tensor1D;
    const random = tf.randomNormal([set.model.latentDim], 0, 1, 'float32', options.seed ?? 0) as tf.Tensor1D;
    const unit = (v: tf.Tensor1D) => tf.div(v, tf.maximum(tf.norm(v), 1e-12)).reshape([1, -1]);
    const a = tf.tensor1d(radii.flatMap((r) => radii.map(() => r))).reshape([-1, 1]);
    const b = tf.tensor1d(radii.flatMap(() => radii)).reshape([-1, 1]);
    const u = tf.add(tf.mul(a, unit(encoded)), tf.mul(b, unit(random))) as tf.Tensor2D;
    return {
      clean: x0,
      encodedNorm: tf.norm(encoded),
      towardXt: set.traverse(x0, encoded, steps),
      random: set.traverse(x0, random, steps),
      grid: set.perturb(tf.tile(x0, [steps * steps, 1, 1, 1]) as tf.Tensor4D, set.project(u)),
    };
  });
  try {
    const toward = `toward x̃ (‖u‖ = ${frames.encodedNorm.dataSync()[0].toFixed(1)})`;
    return latentTraversal({
      clean: frames.clean,
      epsilon: eps,
      radii,
      initialIndex: Math.floor(steps / 2),
      directions: [{ name: toward, frames: frames.towardXt }, { name: 'random direction', frames: frames.random }],
      grid: { directions: [toward, 'random direction'], frames: frames.grid },
      title: options.title ?? `a walk through S(x), ε = ${eps}`,
    });
  } finally {
    tf.dispose(Object.values(frames));
  }
}
