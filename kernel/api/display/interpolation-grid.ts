/**
 * The latent interpolation figure as an image grid: the steps × steps decodings with the corners
 * captioned z₁..z₄, and a last row with x and the four real perturbations they encode.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import type { LatentInterpolation } from '../evaluate/latent-interpolation';
import { imageGrid, type ImageGrid } from './image-grid';

export function interpolationGrid(result: LatentInterpolation, options: { title?: string; scale?: number } = {}): ImageGrid {
  const { images, clean, corners, steps } = result ?? ({} as LatentInterpolation);
  if (!(images instanceof tf.Tensor) || !(clean instanceof tf.Tensor) || !(corners instanceof tf.Tensor) || images.shape[0] !== steps * steps) {
    throw new ArgumentError('interpolationGrid: expected the result of evaluate.latentInterpolation (images, clean, corners, steps)');
  }
  const n = steps * steps;
  const captions = new Array<string>(n).fill('');
  captions[0] = 'z₁';
  captions[steps - 1] = 'z₂';
  captions[n - steps] = 'z₃';
  captions[n - 1] = 'z₄';
  captions.push('x', 'x̃₁', 'x̃₂', 'x̃₃', 'x̃₄');
  const all = tf.concat([images, clean, corners]);
  try {
    return imageGrid(all, {
      columns: steps,
      captions,
      scale: options.scale,
      title: options.title ?? `g(x, z) between the encodings z₁…z₄ of four real perturbations (corners); last row: x and x̃₁…x̃₄`,
    });
  } finally {
    all.dispose();
  }
}
