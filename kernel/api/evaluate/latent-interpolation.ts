/**
 * The reference's latent interpolation figure (`latent_distances.py`): for one image x, four real
 * perturbations x̃₁..x̃₄ are encoded by the recognition network (posterior means z₁..z₄) and
 * g(x, z) is decoded on a steps × steps grid of bilinear interpolations between them, with
 * z₁ at the top-left corner, z₂ top-right, z₃ bottom-left and z₄ bottom-right. A set that has
 * learned the perturbation varies smoothly between the four, and each corner resembles its x̃.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { PerturbationSet } from '../models/perturbation-set';

export interface LatentInterpolationOptions {
  /** Points per side of the grid (default 10, as the reference). */
  steps?: number;
}

export interface LatentInterpolation {
  /** g(x, z) on the grid: [steps², h, w, c], row-major (row i goes from z₁/z₂ at i = 0 to z₃/z₄ at the last). */
  images: tf.Tensor4D;
  /** x itself: [1, h, w, c]. */
  clean: tf.Tensor4D;
  /** The four real perturbations x̃₁..x̃₄ whose encodings are the corners: [4, h, w, c]. */
  corners: tf.Tensor4D;
  /** The corner latents z₁..z₄ (posterior means): [4, latentDim]. */
  latents: tf.Tensor2D;
  steps: number;
}

/**
 * Decodes the bilinear interpolation grid between the posterior means of four perturbations of
 * `x` ([1, h, w, c], or the first image of a batch). `perturbations` is [4, h, w, c]. The
 * caller disposes the returned tensors.
 */
export async function latentInterpolation(set: PerturbationSet, x: tf.Tensor4D, perturbations: tf.Tensor4D, options: LatentInterpolationOptions = {}): Promise<LatentInterpolation> {
  if (!(set instanceof PerturbationSet)) throw new ArgumentError('latentInterpolation: the first argument must be a PerturbationSet');
  const steps = options.steps ?? 10;
  if (!Number.isInteger(steps) || steps < 2) throw new ArgumentError(`latentInterpolation: steps must be an integer >= 2, got ${steps}`);
  if (x.rank !== 4 || perturbations.rank !== 4 || perturbations.shape[0] !== 4 || !x.shape.slice(1).every((s, i) => s === perturbations.shape[i + 1])) {
    throw new ArgumentError(`latentInterpolation: x must be [1, h, w, c] and perturbations [4, h, w, c] of the same image size, got [${x.shape}] and [${perturbations.shape}]`);
  }
  return tf.tidy(() => {
    const x0 = x.slice([0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
    const x4 = tf.tile(x0, [4, 1, 1, 1]) as tf.Tensor4D;
    const z = set.model.recognition(x4, perturbations, false).mu as tf.Tensor2D;
    // Weights of z₁..z₄ at grid point (i, j): bilinear in a = i/(steps−1) (rows) and b = j/(steps−1) (columns).
    const weights: number[] = [];
    for (let i = 0; i < steps; i++) {
      const a = i / (steps - 1);
      for (let j = 0; j < steps; j++) {
        const b = j / (steps - 1);
        weights.push((1 - a) * (1 - b), (1 - a) * b, a * (1 - b), a * b);
      }
    }
    const grid = tf.matMul(tf.tensor2d(weights, [steps * steps, 4]), z) as tf.Tensor2D;
    const images = set.model.generate(tf.tile(x0, [steps * steps, 1, 1, 1]) as tf.Tensor4D, grid, false) as tf.Tensor4D;
    return { images, clean: x0.clone(), corners: perturbations.clone(), latents: z, steps };
  });
}
