/**
 * The learned perturbation set S(x) = { g(x, μ_p(x) + σ_p(x) ⊙ u) : ‖u‖₂ ≤ ε } of a trained CVAE
 * (paper Eq. 2, normalised by the prior as in the reference's attacks and evaluation). Every
 * method works on u, the prior-normalised latent code, and returns tensors the caller disposes.
 *
 * ```ts
 * const set = new pertset.models.PerturbationSet(model, 28);
 * const xs = set.sample(x, 8, { seed: 1 });          // 8 members of S(x) per image
 * const u = set.encode(x, xTilde);                    // where x̃ sits in latent space
 * const strip = set.traverse(x, u, 9);                // from −ε to ε along u's direction
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import type { CVAE, DiagonalGaussian } from './types';

/** Prior parameters with the standard deviation already taken: σ = exp(½·logvar). */
export interface PriorParameters {
  mu: tf.Tensor2D;
  sigma: tf.Tensor2D;
}

export interface SampleOptions {
  /** Seed of the latent draws (tfjs seeded normal); default 0, so equal calls give equal samples. */
  seed?: number;
  /** Project the draws onto the ball ‖u‖ ≤ ε so every sample is a member of the set (default true). */
  project?: boolean;
}

export interface TraverseOptions {
  /** Start and end of the walk along the unit direction, in latent units (default −ε and ε). */
  from?: number;
  to?: number;
}

function checkRadius(eps: number, where: string): void {
  if (!Number.isFinite(eps) || eps <= 0) throw new ArgumentError(`${where}: radius must be a finite number > 0, got ${eps}`);
}

/** Per-example ℓ2 projection onto ‖u‖₂ ≤ eps (rows already inside are unchanged). */
export function projectL2(u: tf.Tensor2D, eps: number): tf.Tensor2D {
  checkRadius(eps, 'projectL2');
  return tf.tidy(() => {
    const norms = tf.norm(u, 2, 1, true);
    const scale = tf.minimum(1, tf.div(eps, tf.maximum(norms, 1e-12)));
    return tf.mul(u, scale) as tf.Tensor2D;
  });
}

/**
 * What the reference's `delta.renorm(2, 1, ε)` does to a [batch, d] tensor: torch.renorm takes
 * the sub-tensors along dim 1, i.e. each latent COORDINATE's column across the batch, and scales
 * those whose ℓ2 norm exceeds ε (by ε / (norm + 1e-7)). It is not the per-example ball of the
 * paper; offered only to reproduce the reference's numbers exactly.
 */
export function renormColumnsLikeReference(u: tf.Tensor2D, eps: number): tf.Tensor2D {
  checkRadius(eps, 'renormColumnsLikeReference');
  return tf.tidy(() => {
    const norms = tf.norm(u, 2, 0, true);
    const scale = tf.where(tf.greater(norms, eps), tf.div(eps, tf.add(norms, 1e-7)), tf.onesLike(norms));
    return tf.mul(u, scale) as tf.Tensor2D;
  });
}

/** `ball`: ‖u_i‖₂ ≤ ε per example (the set's definition, default); `reference-renorm`: the reference's column renorm. */
export type Projection = 'ball' | 'reference-renorm';

export class PerturbationSet {
  /** How `project` maps codes into the set. */
  readonly projection: Projection;

  constructor(
    readonly model: CVAE,
    readonly radius: number,
    options: { projection?: Projection } = {},
  ) {
    checkRadius(radius, 'PerturbationSet');
    this.projection = options.projection ?? 'ball';
    if (this.projection !== 'ball' && this.projection !== 'reference-renorm') {
      throw new ArgumentError(`PerturbationSet: projection must be "ball" or "reference-renorm", got "${String(this.projection)}"`);
    }
  }

  /** The same model and projection with another radius (to compare sets at one ε). */
  withRadius(radius: number): PerturbationSet {
    return new PerturbationSet(this.model, radius, { projection: this.projection });
  }

  /** μ_p(x) and σ_p(x) of the prior network (eval mode). */
  prior(x: tf.Tensor4D): PriorParameters {
    return tf.tidy(() => {
      const p: DiagonalGaussian = this.model.prior(x, false);
      return { mu: p.mu, sigma: tf.exp(tf.mul(p.logvar, 0.5)) as tf.Tensor2D };
    });
  }

  /** z = μ_p + σ_p ⊙ u. */
  latent(prior: PriorParameters, u: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(prior.mu, tf.mul(prior.sigma, u)) as tf.Tensor2D);
  }

  /** g(x, μ_p(x) + σ_p(x) ⊙ u): the member of S(x) at latent code u ([batch, latentDim]). No projection. */
  perturb(x: tf.Tensor4D, u: tf.Tensor2D): tf.Tensor4D {
    this.checkLatent(u, x.shape[0], 'perturb');
    return tf.tidy(() => this.model.generate(x, this.latent(this.prior(x), u), false));
  }

  /** u = (μ_q(x, x̃) − μ_p(x)) / σ_p(x): the posterior mean in prior-normalised coordinates (not projected). */
  encode(x: tf.Tensor4D, xPerturbed: tf.Tensor4D): tf.Tensor2D {
    if (!tf.util.arraysEqual(x.shape, xPerturbed.shape)) {
      throw new ArgumentError(`encode: x [${x.shape}] and xPerturbed [${xPerturbed.shape}] must have the same shape`);
    }
    return tf.tidy(() => {
      const p = this.model.prior(x, false);
      const q = this.model.recognition(x, xPerturbed, false);
      return tf.div(tf.sub(q.mu, p.mu), tf.exp(tf.mul(p.logvar, 0.5))) as tf.Tensor2D;
    });
  }

  /**
   * The set's best one-shot approximation of a real perturbation: decode the posterior mean
   * projected onto the ball, g(x, μ_p + σ_p·project(encode(x, x̃))) — the point whose error is the
   * encoder approximation error (the paper's reconstruction strips show it).
   */
  reconstruct(x: tf.Tensor4D, xPerturbed: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.perturb(x, this.project(this.encode(x, xPerturbed))));
  }

  /** ‖u‖₂ of `encode(x, x̃)` per example (the quantity the radius is calibrated on). */
  latentNorms(x: tf.Tensor4D, xPerturbed: tf.Tensor4D): tf.Tensor1D {
    return tf.tidy(() => tf.norm(this.encode(x, xPerturbed), 2, 1) as tf.Tensor1D);
  }

  /** Projection onto ‖u‖₂ ≤ eps per example (default eps = the set's radius; see `projection`). */
  project(u: tf.Tensor2D, eps = this.radius): tf.Tensor2D {
    return this.projection === 'ball' ? projectL2(u, eps) : renormColumnsLikeReference(u, eps);
  }

  /**
   * `n` random members of S(x) per image: u ~ N(0, I) (projected onto the ball unless
   * `project: false`). Returns [batch·n, h, w, c], image-major (x0's n samples, then x1's, ...).
   */
  sample(x: tf.Tensor4D, n: number, options: SampleOptions = {}): tf.Tensor4D {
    if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`sample: n must be an integer >= 1, got ${n}`);
    return tf.tidy(() => {
      const b = x.shape[0];
      const xs = tf.reshape(tf.tile(tf.expandDims(x, 1), [1, n, 1, 1, 1]), [b * n, x.shape[1], x.shape[2], x.shape[3]]) as tf.Tensor4D;
      let u = tf.randomNormal([b * n, this.model.latentDim], 0, 1, 'float32', options.seed ?? 0) as tf.Tensor2D;
      if (options.project !== false) u = this.project(u);
      return this.perturb(xs, u);
    });
  }

  /**
   * Walks from `from`·d to `to`·d (default −ε to ε) in `steps` equal steps along the unit
   * direction d (`direction` [latentDim] or [batch, latentDim], normalised per row) and decodes
   * each point. Returns [batch·steps, h, w, c], image-major.
   */
  traverse(x: tf.Tensor4D, direction: tf.Tensor1D | tf.Tensor2D, steps: number, options: TraverseOptions = {}): tf.Tensor4D {
    if (!Number.isInteger(steps) || steps < 2) throw new ArgumentError(`traverse: steps must be an integer >= 2, got ${steps}`);
    const b = x.shape[0];
    const d = this.model.latentDim;
    const dir2 = direction.rank === 1 ? direction.reshape([1, -1]) : direction;
    const rows = dir2.shape[0];
    if (dir2.shape[1] !== d || (rows !== 1 && rows !== b)) {
      if (dir2 !== direction) dir2.dispose();
      throw new ArgumentError(`traverse: direction must be [${d}] or [${b}, ${d}], got [${direction.shape}]`);
    }
    const from = options.from ?? -this.radius;
    const to = options.to ?? this.radius;
    return tf.tidy(() => {
      const unit = tf.div(dir2, tf.maximum(tf.norm(dir2, 2, 1, true), 1e-12));
      const unitB = rows === 1 ? tf.tile(unit, [b, 1]) : unit;
      const coeffs = tf.linspace(from, to, steps).reshape([1, steps, 1]);
      const u = tf.reshape(tf.mul(tf.expandDims(unitB, 1), coeffs), [b * steps, d]) as tf.Tensor2D;
      const xs = tf.reshape(tf.tile(tf.expandDims(x, 1), [1, steps, 1, 1, 1]), [b * steps, x.shape[1], x.shape[2], x.shape[3]]) as tf.Tensor4D;
      if (dir2 !== direction) dir2.dispose();
      return this.perturb(xs, u);
    });
  }

  private checkLatent(u: tf.Tensor, batch: number, where: string): void {
    if (u.rank !== 2 || u.shape[0] !== batch || u.shape[1] !== this.model.latentDim) {
      throw new ArgumentError(`${where}: u must have shape [${batch}, ${this.model.latentDim}], got [${u.shape}]`);
    }
  }
}
